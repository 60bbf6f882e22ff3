//! Slows down password guessing: after a few failures for one account from one address,
//! further attempts are refused for a while without checking the password at all.

use std::{net::IpAddr, time::Duration};

use moka::sync::Cache;

/// Failures allowed per (email, address) within [`WINDOW`].
const MAX_FAILURES: u32 = 5;
const WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Clone)]
pub struct LoginThrottle {
    failures: Cache<(String, Option<IpAddr>), u32>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle {
            failures: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(WINDOW)
                .build(),
        }
    }
}

impl LoginThrottle {
    fn key(email: &str, ip: Option<IpAddr>) -> (String, Option<IpAddr>) {
        (email.trim().to_lowercase(), ip)
    }

    pub fn is_blocked(&self, email: &str, ip: Option<IpAddr>) -> bool {
        self.failures
            .get(&Self::key(email, ip))
            .is_some_and(|n| n >= MAX_FAILURES)
    }

    pub fn record_failure(&self, email: &str, ip: Option<IpAddr>) {
        let key = Self::key(email, ip);
        let n = self.failures.get(&key).unwrap_or(0);
        self.failures.insert(key, n + 1);
    }

    pub fn record_success(&self, email: &str, ip: Option<IpAddr>) {
        self.failures.invalidate(&Self::key(email, ip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_five_failures_and_success_resets() {
        let t = LoginThrottle::default();
        let ip = Some(IpAddr::from([127, 0, 0, 1]));
        for _ in 0..4 {
            t.record_failure("A@x.org", ip);
        }
        assert!(!t.is_blocked("a@x.org", ip));
        t.record_failure("a@x.org", ip);
        assert!(t.is_blocked("a@x.org", ip));
        assert!(!t.is_blocked("a@x.org", Some(IpAddr::from([10, 0, 0, 1]))));
        t.record_success("a@x.org", ip);
        assert!(!t.is_blocked("a@x.org", ip));
    }
}
