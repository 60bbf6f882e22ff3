//! "Now", injectable: the system clock in production, a pinned instant for benchmarks
//! (to answer over the same data as the baseline stack) and tests.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

use jiff::Timestamp;

#[derive(Clone, Debug)]
pub enum Clock {
    System,
    /// Pinned to a Unix second; tests may move it.
    Fixed(Arc<AtomicI64>),
}

/// The real time, for operational records (performance history, slow-statement log,
/// error bodies): they describe the machine, so they ignore a pinned `Clock`.
#[allow(
    clippy::disallowed_methods,
    reason = "this module is the one source of time"
)]
pub fn wall_now() -> Timestamp {
    Timestamp::now()
}

impl Clock {
    pub fn fixed(at: Timestamp) -> Self {
        Clock::Fixed(Arc::new(AtomicI64::new(at.as_second())))
    }

    /// Pinned at `fixed_now` (HEADROOM_FIXED_NOW) when set, the system clock otherwise.
    pub fn from_fixed_now(fixed_now: Option<Timestamp>) -> Self {
        fixed_now.map_or(Clock::System, Clock::fixed)
    }

    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => wall_now(),
            Clock::Fixed(s) => {
                Timestamp::from_second(s.load(Ordering::Relaxed)).unwrap_or(Timestamp::UNIX_EPOCH)
            }
        }
    }

    /// Unix seconds, the unit the database stores.
    pub fn now_secs(&self) -> i64 {
        self.now().as_second()
    }

    /// Moves a pinned clock; does nothing to the system clock.
    pub fn set(&self, at: Timestamp) {
        if let Clock::Fixed(s) = self {
            s.store(at.as_second(), Ordering::Relaxed);
        }
    }
}
