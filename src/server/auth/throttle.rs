//! Slows down password guessing. Failed sign-ins are counted in fixed 15-minute windows
//! three ways: per account and address, per account across every address (a botnet
//! guessing one password), and per address across every account (one machine spraying
//! emails). Over any limit, sign-in is refused without checking the password at all.
//!
//! Counts are taken *before* the slow hash, with one atomic add each, and a correct
//! password gives its count back afterwards. Checking first and counting after the hash
//! (as this module once did) let every guess sent in parallel through, since none had
//! failed yet when the others were checked. The counts are the cache's windowed counters
//! (`Cache::count`): shared through Redis when it is there, per instance otherwise.

use std::net::IpAddr;

use crate::server::cache::Cache;

const WINDOW_SECS: i64 = 15 * 60;
/// Failures allowed per account and address within a window.
const MAX_PER_PAIR: u64 = 5;
/// Failures allowed per account from all addresses within a window.
const MAX_PER_ACCOUNT: u64 = 20;
/// Failures allowed per address over all accounts within a window.
const MAX_PER_ADDRESS: u64 = 50;

/// The sign-in throttle; its counts live in the cache.
#[derive(Clone, Copy, Default)]
pub struct LoginThrottle;

/// The counters one attempt added to, to give back when the password was right.
pub struct Attempt {
    pair: String,
    account: String,
    address: String,
}

/// What [`LoginThrottle::begin`] decided.
pub enum Verdict {
    /// Go on and check the password.
    Check(Attempt),
    /// Too many failures already: refuse without checking.
    Refuse,
}

impl LoginThrottle {
    /// Counts an attempt for `email` from `ip` before its password is checked.
    pub async fn begin(&self, cache: &Cache, email: &str, ip: Option<IpAddr>, now: i64) -> Verdict {
        let window = now.div_euclid(WINDOW_SECS);
        let account = xxhash_rust::xxh3::xxh3_64(email.trim().to_lowercase().as_bytes());
        let address = ip.map_or_else(|| "-".to_string(), |ip| ip.to_string());
        let attempt = Attempt {
            pair: format!("login:p:{account:016x}:{address}:{window}"),
            account: format!("login:a:{account:016x}:{window}"),
            address: format!("login:i:{address}:{window}"),
        };
        let pair = self.add(cache, &attempt.pair).await;
        let account = self.add(cache, &attempt.account).await;
        let address = self.add(cache, &attempt.address).await;
        if pair > MAX_PER_PAIR || account > MAX_PER_ACCOUNT || address > MAX_PER_ADDRESS {
            tracing::info!(ip = ?ip, pair, account, address, "sign-in throttled");
            Verdict::Refuse
        } else {
            Verdict::Check(attempt)
        }
    }

    /// The password was right: the account's failures are forgotten, and the address
    /// gets this attempt back (not its earlier failures: one good account of its own must
    /// not let an address guess others' passwords for ever).
    pub async fn succeeded(&self, cache: &Cache, attempt: Attempt) {
        cache.forget_count(&attempt.pair).await;
        cache.forget_count(&attempt.account).await;
        cache.uncount(&attempt.address).await;
    }

    async fn add(&self, cache: &Cache, key: &str) -> u64 {
        cache.count(key, WINDOW_SECS as u64 + 60).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> Cache {
        Cache::new(crate::server::cache::CacheOptions::in_process()).expect("in-process cache")
    }

    async fn fails(t: &LoginThrottle, c: &Cache, email: &str, ip: IpAddr) -> bool {
        matches!(t.begin(c, email, Some(ip), 1_000).await, Verdict::Refuse)
    }

    #[tokio::test]
    async fn five_failures_per_account_and_address_then_refused_and_success_resets() {
        let (t, c) = (LoginThrottle, cache());
        let ip = IpAddr::from([127, 0, 0, 1]);
        for _ in 0..5 {
            assert!(!fails(&t, &c, "A@x.org", ip).await);
        }
        assert!(fails(&t, &c, "a@x.org", ip).await, "the sixth is refused");
        assert!(
            !fails(&t, &c, "a@x.org", IpAddr::from([10, 0, 0, 1])).await,
            "another address may still try"
        );
        let Verdict::Check(ok) = t.begin(&c, "b@x.org", Some(ip), 1_000).await else {
            panic!("another account from the same address may try");
        };
        t.succeeded(&c, ok).await;
    }

    #[tokio::test]
    async fn one_account_from_many_addresses_is_limited() {
        let (t, c) = (LoginThrottle, cache());
        let refused = futures::future::join_all(
            (0..40u8).map(|i| fails(&t, &c, "victim@x.org", IpAddr::from([10, 0, 1, i]))),
        )
        .await;
        assert_eq!(refused.iter().filter(|r| !**r).count(), 20);
    }

    #[tokio::test]
    async fn one_address_spraying_emails_is_limited() {
        let (t, c) = (LoginThrottle, cache());
        let ip = IpAddr::from([192, 0, 2, 9]);
        let mut checked = 0;
        for i in 0..80 {
            if !fails(&t, &c, &format!("user{i}@x.org"), ip).await {
                checked += 1;
            }
        }
        assert_eq!(checked, 50);
    }
}
