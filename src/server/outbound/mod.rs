//! The one policy for every request the server makes to an address a user chose (the
//! collector's HTTP sources today, webhooks later).
//!
//! - Only `http` and `https`, and only public addresses ([`Policy`]) unless an
//!   administrator opened a range with `HEADROOM_OUTBOUND_ALLOW`; metadata services never.
//! - The client resolves names through [`PolicyResolver`], which drops refused addresses,
//!   so it connects to exactly the addresses that were checked: a name cannot resolve to
//!   a public address for a check and a private one for the connection. IP literals never
//!   reach a resolver, so [`Outbound::request`] checks them itself, and every redirect is
//!   checked again (at most [`MAX_REDIRECTS`]).
//! - No proxy: a proxy would resolve and connect on its own, past the policy.
//! - User-configured headers that carry identity, credentials or hop-by-hop meaning are
//!   refused ([`headers::is_refused`]).

pub mod addresses;
pub mod headers;
mod refused;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use reqwest::{
    Method, RequestBuilder, Url,
    dns::{Addrs, Name, Resolve, Resolving},
    redirect,
};

pub use addresses::Policy;
pub use refused::{MAX_REDIRECTS, Refused};

use crate::server::config::Settings;

/// The policy's refusal somewhere in an error's chain of causes: the resolver's and the
/// redirect policy's refusals come back wrapped in the client's errors.
pub fn refusal(error: &(dyn std::error::Error + 'static)) -> Option<Refused> {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(*refused);
        }
        cause = e.source();
    }
    None
}

/// Resolves names with the system resolver (tokio's `lookup_host`) and keeps only the
/// addresses the policy permits; none left is a refusal.
struct PolicyResolver {
    policy: Arc<Policy>,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            // Port 0: the client puts the URL's port on each address.
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let permitted: Vec<SocketAddr> = found.filter(|a| policy.permits(a.ip())).collect();
            if permitted.is_empty() {
                return Err(Box::new(Refused::Address) as _);
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

fn redirect_policy(policy: Arc<Policy>) -> redirect::Policy {
    redirect::Policy::custom(move |attempt| {
        // `previous` holds the first URL too, so this allows MAX_REDIRECTS hops.
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(Refused::TooManyRedirects);
        }
        // Names in the next URL are checked by the resolver when it connects.
        match policy.check_url(attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(refused) => attempt.error(refused),
        }
    })
}

/// The HTTP client every outbound request goes through, with its policy.
#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    policy: Arc<Policy>,
}

impl Outbound {
    pub fn from_settings(settings: &Settings) -> Result<Self, reqwest::Error> {
        Outbound::new(Policy::from_settings(settings))
    }

    pub fn new(policy: Policy) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .user_agent(concat!("headroom/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .no_proxy()
            // The URL may carry a key in its query; a redirect target need not learn it.
            .referer(false)
            .redirect(redirect_policy(policy.clone()))
            .dns_resolver(Arc::new(PolicyResolver {
                policy: policy.clone(),
            }))
            .build()?;
        Ok(Outbound { client, policy })
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// A request to `url` with user-configured `headers`, once the URL's scheme and IP
    /// literal and every header pass the policy. Add the caller's own headers (accept,
    /// bearer token) to the builder afterwards.
    pub fn request<'a>(
        &self,
        method: Method,
        url: &str,
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<RequestBuilder, Refused> {
        let url = Url::parse(url).map_err(|_| Refused::Scheme)?;
        self.policy.check_url(&url)?;
        let mut builder = self.client.request(method, url);
        for (name, value) in headers {
            // Also checked when saved; rows saved before that check still pass here.
            if headers::is_refused(name) {
                return Err(Refused::Header);
            }
            builder = builder.header(name, value);
        }
        Ok(builder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn refused_before_connecting(url: &str) -> Option<Refused> {
        let outbound = Outbound::new(Policy::default()).expect("client");
        match outbound.request(Method::GET, url, []) {
            Err(refused) => Some(refused),
            Ok(builder) => {
                let error = builder.send().await.expect_err("not sent");
                refusal(&error)
            }
        }
    }

    #[tokio::test]
    async fn names_are_refused_by_what_they_resolve_to() {
        // Port 9: nothing listens there, so only the policy can explain a refusal.
        assert_eq!(
            refused_before_connecting("http://localhost:9/").await,
            Some(Refused::Address)
        );
        assert_eq!(
            refused_before_connecting("http://127.0.0.1:9/").await,
            Some(Refused::Address)
        );
        assert_eq!(
            refused_before_connecting("gopher://localhost/").await,
            Some(Refused::Scheme)
        );
    }

    #[tokio::test]
    async fn refused_headers_are_not_sent() {
        let outbound = Outbound::new(Policy::default()).expect("client");
        let refused = outbound
            .request(Method::GET, "https://isp.example/", [("Host", "internal")])
            .err();
        assert_eq!(refused, Some(Refused::Header));
        assert!(
            outbound
                .request(Method::GET, "https://isp.example/", [("X-Api-Key", "k")])
                .is_ok()
        );
    }
}
