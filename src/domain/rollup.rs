//! Aggregates of readings: the statistics every rollup tier keeps, and the usage of a
//! quota counter over a span, with counter resets.
//!
//! Rollups are always *recomputed* from the readings of their bucket, never patched
//! incrementally: a late, out-of-order or corrected reading then cannot leave a bucket
//! wrong, which is what the property tests below and in the storage tests check.

use serde::{Deserialize, Serialize};

/// One reading: `value` at Unix second `ts`; quota sources may also report `remaining`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub ts: i64,
    pub value: f64,
    pub remaining: Option<f64>,
}

/// count, sum, min, max, first and last of the readings in a bucket, with the instants of
/// the first and the last (needed to merge buckets and to answer "value at").
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub count: u32,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    pub first: f64,
    pub last: f64,
    pub first_ts: i64,
    pub last_ts: i64,
}

impl Stats {
    /// Statistics of `readings`, which must be sorted by time (as blocks keep them).
    /// `None` for an empty slice: an empty bucket is absent, not zero.
    pub fn of_sorted(readings: &[Reading]) -> Option<Stats> {
        let (head, tail) = readings.split_first()?;
        let mut s = Stats {
            count: 1,
            sum: head.value,
            min: head.value,
            max: head.value,
            first: head.value,
            last: head.value,
            first_ts: head.ts,
            last_ts: head.ts,
        };
        for r in tail {
            s.count += 1;
            s.sum += r.value;
            s.min = s.min.min(r.value);
            s.max = s.max.max(r.value);
            s.last = r.value;
            s.last_ts = r.ts;
        }
        Some(s)
    }

    /// The statistics of two disjoint spans together (`self` earlier or later than
    /// `other`, in any order).
    pub fn merge(self, other: Stats) -> Stats {
        let (a, b) = if self.first_ts <= other.first_ts {
            (self, other)
        } else {
            (other, self)
        };
        Stats {
            count: a.count + b.count,
            sum: a.sum + b.sum,
            min: a.min.min(b.min),
            max: a.max.max(b.max),
            first: a.first,
            first_ts: a.first_ts,
            last: if b.last_ts >= a.last_ts {
                b.last
            } else {
                a.last
            },
            last_ts: a.last_ts.max(b.last_ts),
        }
    }

    pub fn mean(&self) -> f64 {
        self.sum / f64::from(self.count.max(1))
    }
}

/// How much a quota counter grew over `readings` (sorted by time), given the reading just
/// before them (`previous`, if any). A drop in the counter is a reset — the source started
/// again from zero — so the new value counts as use, never a negative amount.
pub fn counter_usage(previous: Option<f64>, readings: &[Reading]) -> f64 {
    let mut prev = previous;
    let mut used = 0.0;
    for r in readings {
        used += match prev {
            Some(p) if r.value >= p => r.value - p,
            // Reset (or the very first reading of a meter's history, which starts a count
            // we have not seen grow): only a drop counts from zero.
            Some(_) => r.value,
            None => 0.0,
        };
        prev = Some(r.value);
    }
    used
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn r(ts: i64, value: f64) -> Reading {
        Reading {
            ts,
            value,
            remaining: None,
        }
    }

    #[test]
    fn stats_of_a_bucket() {
        let s = Stats::of_sorted(&[r(0, 3.0), r(10, 1.0), r(20, 5.0)]).expect("not empty");
        assert_eq!((s.count, s.sum, s.min, s.max), (3, 9.0, 1.0, 5.0));
        assert_eq!((s.first, s.last, s.first_ts, s.last_ts), (3.0, 5.0, 0, 20));
        assert!(Stats::of_sorted(&[]).is_none());
    }

    #[test]
    fn usage_counts_growth_and_treats_drops_as_resets() {
        // 100 → 150 (+50) → 20 (reset: +20) → 60 (+40)
        let readings = [r(1, 150.0), r(2, 20.0), r(3, 60.0)];
        assert_eq!(counter_usage(Some(100.0), &readings), 110.0);
        // Without a previous reading the first value is only a starting point.
        assert_eq!(counter_usage(None, &readings), 60.0);
        assert_eq!(counter_usage(Some(5.0), &[]), 0.0);
    }

    proptest! {
        #[test]
        fn merging_split_buckets_equals_the_whole(values in prop::collection::vec(-1e6f64..1e6, 2..60), cut in 1usize..59) {
            let readings: Vec<Reading> = values.iter().enumerate().map(|(i, v)| r(i as i64 * 60, *v)).collect();
            let cut = cut.min(readings.len() - 1);
            let whole = Stats::of_sorted(&readings).expect("not empty");
            let a = Stats::of_sorted(&readings[..cut]).expect("not empty");
            let b = Stats::of_sorted(&readings[cut..]).expect("not empty");
            for merged in [a.merge(b), b.merge(a)] {
                prop_assert_eq!(merged.count, whole.count);
                prop_assert_eq!((merged.min, merged.max), (whole.min, whole.max));
                prop_assert_eq!((merged.first, merged.last), (whole.first, whole.last));
                prop_assert_eq!((merged.first_ts, merged.last_ts), (whole.first_ts, whole.last_ts));
                prop_assert!((merged.sum - whole.sum).abs() <= 1e-9 * whole.sum.abs().max(1.0));
            }
        }

        #[test]
        fn usage_is_never_negative_and_splits_add_up(values in prop::collection::vec(0f64..1e6, 1..60), cut in 0usize..60) {
            let readings: Vec<Reading> = values.iter().enumerate().map(|(i, v)| r(i as i64, *v)).collect();
            let cut = cut.min(readings.len());
            let whole = counter_usage(Some(0.0), &readings);
            prop_assert!(whole >= 0.0);
            let prev_b = if cut == 0 { Some(0.0) } else { Some(readings[cut - 1].value) };
            let split = counter_usage(Some(0.0), &readings[..cut]) + counter_usage(prev_b, &readings[cut..]);
            prop_assert!((split - whole).abs() <= 1e-6 * whole.max(1.0));
        }
    }
}
