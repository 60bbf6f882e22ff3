//! Counters that live for a window: rate limits and the sign-in throttle count with them.
//! With Redis a count is one `INCR` shared by every instance (exact across them); without
//! it, or while Redis fails, each instance counts in process. Kept beside the cache since
//! it is the same two tiers, and so callers never hold counters of their own.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

/// The longest window anything counts over (an hour) and a margin: local counters are
/// keyed by their window, so an old one is only waiting to be dropped.
const LOCAL_LIFE: Duration = Duration::from_secs(2 * 3600);

/// Counters kept in process at most. A sign-in flood from random forwarded addresses
/// makes three new keys per attempt: unbounded (it was a million) that grew the server
/// by 300 MB in 12 s. At the bound the cache's frequency-based admission keeps the keys
/// that keep counting (a guessing address) over ones seen once.
const LOCAL_MAX: u64 = 100_000;

/// In-process counters, by key.
#[derive(Clone)]
pub struct LocalTally(moka::sync::Cache<String, Arc<AtomicU64>>);

impl Default for LocalTally {
    fn default() -> Self {
        LocalTally(
            moka::sync::Cache::builder()
                .max_capacity(LOCAL_MAX)
                .time_to_live(LOCAL_LIFE)
                .build(),
        )
    }
}

impl LocalTally {
    pub fn add(&self, key: &str) -> u64 {
        self.0
            .get_with_by_ref(key, Arc::default)
            .fetch_add(1, Ordering::AcqRel)
            + 1
    }

    pub fn take_back(&self, key: &str) {
        if let Some(n) = self.0.get(key) {
            let _ = n.try_update(Ordering::AcqRel, Ordering::Acquire, |v| v.checked_sub(1));
        }
    }

    pub fn forget(&self, key: &str) {
        self.0.invalidate(key);
    }
}
