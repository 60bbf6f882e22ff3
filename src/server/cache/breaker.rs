//! A circuit breaker for Redis. After a few failures in a row the breaker opens and
//! Redis is skipped outright (a miss, at no cost) for a cool-down; then one caller probes,
//! and a success closes it again. So a dead or hanging Redis costs a few requests one
//! timeout each, not every request.

use std::{
    sync::atomic::{AtomicU32, AtomicU64, Ordering},
    time::{Duration, Instant},
};

/// Failures in a row that open the breaker.
const TRIP_AFTER: u32 = 3;

pub struct Breaker {
    epoch: Instant,
    failures: AtomicU32,
    /// Milliseconds since `epoch` until which Redis is skipped; 0 when closed.
    open_until_ms: AtomicU64,
    cool_down: Duration,
}

impl Breaker {
    pub fn new(cool_down: Duration) -> Self {
        Breaker {
            epoch: Instant::now(),
            failures: AtomicU32::new(0),
            open_until_ms: AtomicU64::new(0),
            cool_down,
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// May this call go to Redis? While open, only the first caller after the cool-down
    /// does (it pushes the deadline on, so concurrent callers keep skipping).
    pub fn allow(&self) -> bool {
        let until = self.open_until_ms.load(Ordering::Acquire);
        if until == 0 {
            return true;
        }
        let now = self.now_ms();
        now >= until
            && self
                .open_until_ms
                .compare_exchange(
                    until,
                    now + self.cool_down_ms(),
                    Ordering::AcqRel,
                    Ordering::Acquire,
                )
                .is_ok()
    }

    pub fn record_success(&self) {
        self.failures.store(0, Ordering::Release);
        if self.open_until_ms.swap(0, Ordering::AcqRel) != 0 {
            tracing::info!("redis answers again; cache tier back in use");
        }
    }

    pub fn record_failure(&self) {
        let n = self.failures.fetch_add(1, Ordering::AcqRel) + 1;
        if n >= TRIP_AFTER {
            let until = self.now_ms() + self.cool_down_ms();
            if self.open_until_ms.swap(until, Ordering::AcqRel) == 0 {
                tracing::warn!(
                    failures = n,
                    "redis failing; skipping it for {:?} at a time",
                    self.cool_down
                );
            }
        }
    }

    pub fn is_open(&self) -> bool {
        self.open_until_ms.load(Ordering::Acquire) != 0
    }

    fn cool_down_ms(&self) -> u64 {
        u64::try_from(self.cool_down.as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_failures_lets_one_probe_through_and_closes_on_success() {
        let b = Breaker::new(Duration::from_millis(20));
        for _ in 0..TRIP_AFTER {
            assert!(b.allow());
            b.record_failure();
        }
        assert!(b.is_open());
        assert!(!b.allow(), "skips while cooling down");
        std::thread::sleep(Duration::from_millis(25));
        assert!(b.allow(), "one probe after the cool-down");
        assert!(!b.allow(), "and only one");
        b.record_success();
        assert!(!b.is_open());
        assert!(b.allow());
    }
}
