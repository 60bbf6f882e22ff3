//! Reading a usage figure from an HTTP JSON source: the request, and the small path syntax
//! that picks numbers out of the answer (`data.usage.used_mb`, `plans[0].remaining`).

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use reqwest::Method;
use serde_json::Value;

use crate::domain::json_path::{FieldError, extract};
use crate::server::{
    outbound::{self, Outbound},
    storage::sources::SourceRow,
};

/// What one attempt to read a source came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The source answered with the numbers (already in the meter's unit).
    Success {
        used: f64,
        remaining: Option<f64>,
        quota: Option<f64>,
    },
    /// Unreachable, or an HTTP error status.
    Failed(String),
    /// No complete answer within the source's timeout.
    Timeout,
    /// An answer, but not one we can read (not JSON, field missing, not a number).
    /// Its message is one of a fixed few: never text taken from the answer.
    Invalid(String),
}

impl Outcome {
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Success { .. } => "success",
            Outcome::Failed(_) => "failed",
            Outcome::Timeout => "timeout",
            Outcome::Invalid(_) => "invalid",
        }
    }

    pub fn error(&self) -> Option<String> {
        match self {
            Outcome::Success { .. } => None,
            Outcome::Failed(e) | Outcome::Invalid(e) => Some(e.clone()),
            Outcome::Timeout => Some("no answer within the timeout".into()),
        }
    }
}

/// An attempt's outcome with its HTTP status (if any) and how long it took.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub outcome: Outcome,
    pub http_status: Option<u16>,
    pub elapsed: Duration,
}

/// The attempts log's fixed text for a field that could not be read; `role` is which
/// mapping (used, remaining, quota), never the path or the answer.
fn field_message(role: &str, error: FieldError) -> String {
    match error {
        FieldError::BadPath => format!("the path mapped to {role} is not valid"),
        FieldError::Missing => format!("the answer lacks the field mapped to {role}"),
        FieldError::NotANumber => format!("the field mapped to {role} is not a number"),
    }
}

/// Reads the mapped fields out of an answer body, scaled into the meter's unit.
pub fn read_answer(source: &SourceRow, body: &[u8]) -> Outcome {
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        // Not the parser's message: it quotes the position and what it found there.
        return Outcome::Invalid("the answer is not JSON".into());
    };
    let field = |role: &str, path: &Option<String>| -> Result<Option<f64>, String> {
        path.as_deref()
            .map(|p| extract(&json, p).map(|v| v * source.scale))
            .transpose()
            .map_err(|e| field_message(role, e))
    };
    let used = match source.used_path.as_deref().map(|p| extract(&json, p)) {
        Some(Ok(v)) if v >= 0.0 => v * source.scale,
        Some(Ok(_)) => return Outcome::Invalid("used is negative".into()),
        Some(Err(e)) => return Outcome::Invalid(field_message("used", e)),
        None => return Outcome::Invalid("no path for used is configured".into()),
    };
    match (
        field("remaining", &source.remaining_path),
        field("quota", &source.quota_path),
    ) {
        (Ok(remaining), Ok(quota)) => Outcome::Success {
            used,
            remaining,
            quota: quota.filter(|q| *q >= 0.0),
        },
        (Err(e), _) | (_, Err(e)) => Outcome::Invalid(e),
    }
}

/// Largest answer we read: usage endpoints answer in bytes, not megabytes.
const MAX_ANSWER: usize = 256 * 1024;

/// One request to an HTTP source, bounded by its timeout from start to last byte.
pub async fn fetch(outbound: &Outbound, source: &SourceRow) -> Attempt {
    let started = Instant::now();
    let timeout = Duration::from_secs(source.timeout_secs.max(1) as u64);
    let (outcome, http_status) =
        match tokio::time::timeout(timeout, request(outbound, source)).await {
            Ok(result) => result,
            Err(_) => (Outcome::Timeout, None),
        };
    Attempt {
        outcome,
        http_status,
        elapsed: started.elapsed(),
    }
}

/// The attempts log's text for a request that got no answer. The client's own error text
/// is for the server log only: it can describe what the far end sent or how it refused.
fn request_failure(source: &SourceRow, error: &reqwest::Error) -> Outcome {
    if let Some(refused) = outbound::refusal(error) {
        return Outcome::Failed(refused.to_string());
    }
    tracing::debug!(meter.id = source.meter_id, %error, "source request failed");
    Outcome::Failed(
        if error.is_connect() {
            "could not connect"
        } else {
            "the request failed"
        }
        .into(),
    )
}

async fn request(outbound: &Outbound, source: &SourceRow) -> (Outcome, Option<u16>) {
    let Some(url) = source.url.as_deref() else {
        return (Outcome::Invalid("no URL is configured".into()), None);
    };
    let headers: BTreeMap<String, String> =
        serde_json::from_str(&source.headers).unwrap_or_default();
    let headers = headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
    let mut req = match outbound.request(Method::GET, url, headers) {
        Ok(req) => req.header("accept", "application/json"),
        Err(refused) => return (Outcome::Failed(refused.to_string()), None),
    };
    if let Some(token) = &source.bearer_token {
        req = req.bearer_auth(token);
    }
    let res = match req.send().await {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return (Outcome::Timeout, None),
        Err(e) => return (request_failure(source, &e), None),
    };
    let status = res.status().as_u16();
    if !res.status().is_success() {
        return (Outcome::Failed(format!("HTTP {status}")), Some(status));
    }
    let mut body = Vec::new();
    let mut res = res;
    loop {
        match res.chunk().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_ANSWER {
                    return (
                        Outcome::Invalid(format!("the answer is larger than {MAX_ANSWER} bytes")),
                        Some(status),
                    );
                }
            }
            Ok(None) => break,
            Err(e) => {
                tracing::debug!(meter.id = source.meter_id, error = %e, "reading a source's answer failed");
                return (
                    Outcome::Failed("reading the answer failed".into()),
                    Some(status),
                );
            }
        }
    }
    (read_answer(source, &body), Some(status))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> SourceRow {
        SourceRow {
            meter_id: 1,
            kind: "http".into(),
            url: Some("http://127.0.0.1/".into()),
            headers: "{}".into(),
            bearer_token: None,
            used_path: Some("used_gb".into()),
            remaining_path: Some("left_gb".into()),
            quota_path: None,
            scale: 1024.0,
            interval_secs: 600,
            timeout_secs: 30,
            enabled: true,
            next_due_at: 0,
            consecutive_failures: 0,
        }
    }

    #[test]
    fn answers_are_scaled_into_the_meters_unit_or_called_invalid() {
        let s = source();
        assert_eq!(
            read_answer(&s, br#"{"used_gb": 2, "left_gb": 0.5}"#),
            Outcome::Success {
                used: 2048.0,
                remaining: Some(512.0),
                quota: None
            }
        );
        assert_eq!(
            read_answer(&s, b"<html>oops</html>"),
            Outcome::Invalid("the answer is not JSON".into())
        );
        assert_eq!(
            read_answer(&s, br#"{"left_gb": 1}"#),
            Outcome::Invalid("the answer lacks the field mapped to used".into())
        );
        assert_eq!(
            read_answer(&s, br#"{"used_gb": 1, "left_gb": "secret"}"#),
            Outcome::Invalid("the field mapped to remaining is not a number".into())
        );
        assert_eq!(
            read_answer(&s, br#"{"used_gb": -1, "left_gb": 1}"#).status(),
            "invalid"
        );
    }
}
