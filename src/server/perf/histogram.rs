//! Fixed-bucket, log-scale latency histograms: recording is a binary search over a const
//! table and one relaxed atomic add, with no allocation and no lock. Percentiles are read
//! from snapshots, interpolated inside a bucket (at most one bucket wide of error, about
//! 25 % of the value).

use std::{
    sync::atomic::{AtomicU64, Ordering::Relaxed},
    time::Duration,
};

/// Upper bounds of the buckets in microseconds: ten per decade from 100 µs to 100 s
/// (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5 × 10ⁿ). One more bucket holds everything above.
pub const BOUNDS_US: [u64; 61] = {
    const MANTISSA: [u64; 10] = [100, 125, 150, 200, 250, 300, 400, 500, 600, 750];
    let mut out = [0u64; 61];
    let mut decade = 0;
    let mut scale = 1u64;
    while decade < 6 {
        let mut m = 0;
        while m < 10 {
            out[decade * 10 + m] = MANTISSA[m] * scale;
            m += 1;
        }
        scale *= 10;
        decade += 1;
    }
    out[60] = 100 * scale;
    out
};

/// Buckets: one per bound plus the overflow bucket.
pub const BUCKETS: usize = BOUNDS_US.len() + 1;

/// Bounds exported to Prometheus (a subset, so the exposition stays small): 1, 2.5, 5 × 10ⁿ.
pub fn is_exported_bound(i: usize) -> bool {
    i < BOUNDS_US.len() && matches!(i % 10, 0 | 4 | 7)
}

pub fn bucket_of(us: u64) -> usize {
    BOUNDS_US.partition_point(|&b| b < us)
}

/// A histogram that many threads record into.
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS],
    sum_us: AtomicU64,
    max_us: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_us: AtomicU64::new(0),
            max_us: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    pub fn record(&self, took: Duration) {
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.record_us(us);
    }

    pub fn record_us(&self, us: u64) {
        self.buckets[bucket_of(us)].fetch_add(1, Relaxed);
        self.sum_us.fetch_add(us, Relaxed);
        // Only a new maximum writes, so the common case is one load.
        if us > self.max_us.load(Relaxed) {
            self.max_us.fetch_max(us, Relaxed);
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            counts: std::array::from_fn(|i| self.buckets[i].load(Relaxed)),
            sum_us: self.sum_us.load(Relaxed),
            max_us: self.max_us.load(Relaxed),
        }
    }
}

/// A histogram's counts at one moment, or the difference between two moments.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub counts: [u64; BUCKETS],
    pub sum_us: u64,
    /// Largest value ever recorded (for a difference: the later snapshot's maximum).
    pub max_us: u64,
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot {
            counts: [0; BUCKETS],
            sum_us: 0,
            max_us: 0,
        }
    }
}

impl Snapshot {
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// What was recorded since `earlier`.
    pub fn since(&self, earlier: &Snapshot) -> Snapshot {
        Snapshot {
            counts: std::array::from_fn(|i| self.counts[i].saturating_sub(earlier.counts[i])),
            sum_us: self.sum_us.saturating_sub(earlier.sum_us),
            max_us: self.max_us,
        }
    }

    pub fn add(&mut self, other: &Snapshot) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += b;
        }
        self.sum_us += other.sum_us;
        self.max_us = self.max_us.max(other.max_us);
    }

    pub fn mean_ms(&self) -> Option<f64> {
        let n = self.count();
        (n > 0).then(|| self.sum_us as f64 / n as f64 / 1000.0)
    }

    /// The `q` quantile (0–1) in milliseconds, interpolated linearly inside its bucket;
    /// `None` when nothing was recorded.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let rank = (q.clamp(0.0, 1.0) * n as f64).ceil().max(1.0);
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            if c == 0 {
                continue;
            }
            if (seen + c) as f64 >= rank {
                let lower = if i == 0 { 0 } else { BOUNDS_US[i - 1] } as f64;
                let upper = BOUNDS_US
                    .get(i)
                    .copied()
                    .map_or((self.max_us as f64).max(lower), |b| b as f64);
                let within = (rank - seen as f64) / c as f64;
                return Some((lower + (upper - lower) * within) / 1000.0);
            }
            seen += c;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_rise_and_buckets_cover_everything() {
        assert!(BOUNDS_US.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(BOUNDS_US[0], 100);
        assert_eq!(BOUNDS_US[60], 100_000_000);
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(100), 0);
        assert_eq!(bucket_of(101), 1);
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn quantiles_land_in_the_right_bucket() {
        let h = Histogram::default();
        for _ in 0..90 {
            h.record_us(1_000);
        }
        for _ in 0..10 {
            h.record_us(220_000);
        }
        let s = h.snapshot();
        assert_eq!(s.count(), 100);
        let p50 = s.quantile_ms(0.5).expect("p50");
        assert!((0.75..=1.0).contains(&p50), "{p50}");
        let p99 = s.quantile_ms(0.99).expect("p99");
        assert!((200.0..=250.0).contains(&p99), "{p99}");
        assert_eq!(s.max_us, 220_000);
        let later = {
            h.record_us(5_000);
            h.snapshot()
        };
        assert_eq!(later.since(&s).count(), 1);
        assert_eq!(Snapshot::default().quantile_ms(0.5), None);
    }
}
