//! Values that must never reach a log: connection URLs carry passwords.

use std::fmt;

/// A string that must not appear in logs. `Debug`/`Display` print it with any password
/// masked (URLs) or not at all.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The real value, for the one place that needs it (opening a connection).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with its password replaced by `***`: safe to log.
    pub fn redacted(&self) -> String {
        redact_url(&self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Also used on a rejected `*_url` value: the problem report quotes it, and a URL that
/// failed to parse may still hold a real password.
pub(super) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "[redacted]".to_string();
    };
    let (authority, tail) = rest
        .split_once('/')
        .map_or((rest, None), |(a, t)| (a, Some(t)));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_string(),
    };
    let mut out = format!("{scheme}://{authority}");
    if let Some(tail) = tail {
        // Query strings may carry passwords too (`?password=`): drop them.
        out.push('/');
        out.push_str(tail.split('?').next().unwrap_or_default());
    }
    out
}
