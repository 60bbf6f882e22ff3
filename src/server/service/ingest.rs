//! Writing readings: into their day blocks, and every rollup they touch, in one
//! transaction. All ways in — the JSON API, manual entry, the collector, imports, the demo
//! seed — end here, so there is one write path to get right.
//!
//! Rollups are recomputed from the complete readings of each touched bucket, never patched
//! with the new readings alone. That keeps them exact under late, out-of-order, repeated
//! and corrected readings, at the price of re-reading a day block per touched day (a few
//! hundred bytes for 10-minute data).

use std::collections::{BTreeMap, BTreeSet};

use jiff::{Timestamp, tz::TimeZone};

use crate::{
    domain::{
        period::{ResetRule, date_of_day_number, day_number, local_midnight, monday_of},
        quota::{CounterSample, DaySummary},
        rollup::{Reading, Stats, counter_usage},
    },
    server::{
        service::outlook::timezone,
        storage::{
            Db, StoreResult, Tx,
            blocks::{SECS_PER_DAY, utc_day},
            codec::DayRollups,
            meters::MeterRow,
            rollups::DailyRow,
        },
    },
};

/// A validated reading on its way to storage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewReading {
    pub meter_id: i64,
    pub ts: i64,
    pub value: f64,
    pub remaining: Option<f64>,
}

/// What a write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteReport {
    /// Readings written (a repeated instant counts once: the last one wins).
    pub stored: usize,
    /// Meters whose data changed, for cache invalidation.
    pub meters: Vec<i64>,
}

/// Stores `readings` (already validated and authorised) and refreshes their rollups.
/// Readings for meters that do not exist are ignored; callers check before.
pub async fn write(db: &Db, readings: &[NewReading]) -> StoreResult<WriteReport> {
    // Per meter, by instant; a later duplicate in the same batch replaces an earlier one.
    let mut by_meter: BTreeMap<i64, BTreeMap<i64, Reading>> = BTreeMap::new();
    for r in readings {
        by_meter.entry(r.meter_id).or_default().insert(
            r.ts,
            Reading {
                ts: r.ts,
                value: r.value,
                remaining: r.remaining,
            },
        );
    }
    let ids: Vec<i64> = by_meter.keys().copied().collect();
    let meters = db.meters_by_ids(&ids).await?;
    let days: BTreeSet<i64> = by_meter
        .values()
        .flat_map(|m| m.keys().map(|ts| utc_day(*ts)))
        .collect();
    db.ensure_partitions_for_days(&days).await?;

    let mut tx = db.begin_write().await?;
    let mut report = WriteReport {
        stored: 0,
        meters: Vec::new(),
    };
    // Meters in id order: concurrent writers lock them in the same order, so they cannot
    // deadlock each other on PostgreSQL.
    for (meter_id, new) in by_meter {
        let Some(meter) = meters.get(&meter_id) else {
            continue;
        };
        tx.lock_meter(meter_id).await?;
        report.stored += new.len();
        write_meter(&mut tx, meter, new.into_values().collect()).await?;
        report.meters.push(meter_id);
    }
    tx.commit().await?;
    Ok(report)
}

/// The settings a quota meter's daily summaries need.
struct QuotaRules {
    quota: f64,
    rule: ResetRule,
}

fn quota_rules(meter: &MeterRow) -> Option<QuotaRules> {
    Some(QuotaRules {
        quota: meter.quota?,
        rule: meter.reset_rule.as_deref()?.parse().ok()?,
    })
}

/// Merges `new` (sorted, distinct instants) into `existing` (the same); `new` wins ties.
fn merge(existing: Vec<Reading>, new: &[Reading]) -> Vec<Reading> {
    let mut out = Vec::with_capacity(existing.len() + new.len());
    let (mut i, mut j) = (0, 0);
    while i < existing.len() || j < new.len() {
        match (existing.get(i), new.get(j)) {
            (Some(a), Some(b)) if a.ts < b.ts => {
                out.push(*a);
                i += 1;
            }
            (Some(a), Some(b)) if a.ts == b.ts => {
                out.push(*b);
                i += 1;
                j += 1;
            }
            (_, Some(b)) => {
                out.push(*b);
                j += 1;
            }
            (Some(a), None) => {
                out.push(*a);
                i += 1;
            }
            (None, None) => break,
        }
    }
    out
}

/// Reading blocks already loaded in this write, by UTC day.
struct BlockCache {
    meter_id: i64,
    days: BTreeMap<i64, Vec<Reading>>,
}

impl BlockCache {
    async fn get(&mut self, tx: &mut Tx, day: i64) -> StoreResult<&[Reading]> {
        if !self.days.contains_key(&day) {
            let block = tx.reading_block(self.meter_id, day).await?;
            self.days.insert(day, block);
        }
        Ok(self.days.get(&day).map(Vec::as_slice).unwrap_or_default())
    }

    /// The readings in `[start, end)` (Unix seconds).
    async fn between(&mut self, tx: &mut Tx, start: i64, end: i64) -> StoreResult<Vec<Reading>> {
        let mut out = Vec::new();
        for day in utc_day(start)..=utc_day(end - 1) {
            out.extend(
                self.get(tx, day)
                    .await?
                    .iter()
                    .filter(|r| r.ts >= start && r.ts < end),
            );
        }
        Ok(out)
    }
}

async fn write_meter(tx: &mut Tx, meter: &MeterRow, new: Vec<Reading>) -> StoreResult<()> {
    let tz = timezone(&meter.timezone);
    let mut cache = BlockCache {
        meter_id: meter.id,
        days: BTreeMap::new(),
    };

    // 1. Day blocks and their quarter-hour and hourly rollups.
    let mut local_days = BTreeSet::new();
    let mut start = 0;
    while start < new.len() {
        let day = utc_day(new[start].ts);
        let end = new[start..]
            .iter()
            .position(|r| utc_day(r.ts) != day)
            .map_or(new.len(), |n| start + n);
        let chunk = &new[start..end];
        let existing = tx.reading_block(meter.id, day).await?;
        let merged = merge(existing, chunk);
        tx.put_reading_block(meter.id, day, &merged).await?;
        tx.put_rollup_block(
            meter.id,
            day,
            &DayRollups::compute(day * SECS_PER_DAY, &merged),
        )
        .await?;
        for r in chunk {
            local_days.insert(local_day_number(r.ts, &tz));
        }
        cache.days.insert(day, merged);
        start = end;
    }

    // 2. Local days. A day's usage and budget start from the reading before it, so the day
    //    after each touched day is refreshed too when it has readings.
    let touched: Vec<i64> = local_days.iter().copied().collect();
    for day in touched {
        if !local_days.contains(&(day + 1)) && tx.has_daily(meter.id, day + 1).await? {
            local_days.insert(day + 1);
        }
    }
    let quota = quota_rules(meter);
    let mut weeks = BTreeSet::new();
    for day in &local_days {
        let date = date_of_day_number(*day);
        let start = local_midnight(date, &tz).as_second();
        let end = local_midnight(date_of_day_number(day + 1), &tz).as_second();
        let readings = cache.between(tx, start, end).await?;
        let Some(stats) = Stats::of_sorted(&readings) else {
            continue;
        };
        let previous = tx.daily_before(meter.id, *day).await?;
        let row = daily_row(
            meter.id,
            *day,
            &stats,
            &readings,
            previous.as_ref(),
            quota.as_ref(),
            &tz,
        );
        tx.put_daily(&row).await?;
        weeks.insert(day_number(monday_of(date)));
    }

    // 3. Weeks, from their days.
    for monday in weeks {
        tx.refresh_week(meter.id, monday).await?;
    }
    Ok(())
}

/// The local day number of instant `ts` in `tz`.
pub fn local_day_number(ts: i64, tz: &TimeZone) -> i64 {
    let at = Timestamp::from_second(ts).unwrap_or(Timestamp::UNIX_EPOCH);
    day_number(at.to_zoned(tz.clone()).date())
}

fn daily_row(
    meter_id: i64,
    day: i64,
    stats: &Stats,
    readings: &[Reading],
    previous: Option<&DailyRow>,
    quota: Option<&QuotaRules>,
    tz: &TimeZone,
) -> DailyRow {
    let last_remaining = readings.last().and_then(|r| r.remaining);
    let (usage, budget, pace) = match quota {
        Some(q) => {
            let usage = counter_usage(previous.map(|p| p.last), readings);
            let date = date_of_day_number(day);
            let period = q.rule.period_containing(date);
            let summary = DaySummary::compute(
                q.quota,
                period,
                period.start_instant(tz).as_second(),
                date,
                previous.map(|p| CounterSample {
                    at: p.last_ts,
                    used: p.last,
                    remaining: p.last_remaining,
                }),
                CounterSample {
                    at: stats.last_ts,
                    used: stats.last,
                    remaining: last_remaining,
                },
            );
            (Some(usage), Some(summary.budget), Some(summary.pace))
        }
        None => (None, None, None),
    };
    DailyRow {
        meter_id,
        day,
        count: i64::from(stats.count),
        sum: stats.sum,
        min: stats.min,
        max: stats.max,
        first: stats.first,
        last: stats.last,
        first_ts: stats.first_ts,
        last_ts: stats.last_ts,
        last_remaining,
        usage,
        budget,
        pace,
    }
}

/// Rebuilds every daily and weekly rollup of a meter from its raw readings, e.g. after its
/// timezone changed (local days move) — and, in tests, to check the incremental path.
pub async fn rebuild_local_rollups(db: &Db, meter: &MeterRow) -> StoreResult<()> {
    let blocks = db.reading_blocks(meter.id, 0, i64::from(i32::MAX)).await?;
    let all: Vec<Reading> = blocks.into_values().flatten().collect();
    let mut tx = db.begin_write().await?;
    tx.lock_meter(meter.id).await?;
    tx.clear_local_rollups(meter.id).await?;
    if !all.is_empty() {
        // Re-writing the readings recomputes every bucket they fall in.
        write_meter(&mut tx, meter, all).await?;
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(ts: i64, value: f64) -> Reading {
        Reading {
            ts,
            value,
            remaining: None,
        }
    }

    #[test]
    fn merge_keeps_order_and_lets_new_readings_win() {
        let merged = merge(
            vec![r(1, 1.0), r(3, 3.0), r(5, 5.0)],
            &[r(0, 0.0), r(3, 33.0), r(6, 6.0)],
        );
        let got: Vec<(i64, f64)> = merged.iter().map(|r| (r.ts, r.value)).collect();
        assert_eq!(got, vec![(0, 0.0), (1, 1.0), (3, 33.0), (5, 5.0), (6, 6.0)]);
    }
}
