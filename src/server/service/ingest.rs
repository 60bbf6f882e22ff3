//! Writing readings: into their day blocks, and every rollup they touch, in one
//! transaction. All ways in — the JSON API, manual entry, the collector, imports, the demo
//! seed — end here, so there is one write path to get right.
//!
//! Rollups are recomputed from the complete readings of each touched bucket, never patched
//! with the new readings alone. That keeps them exact under late, out-of-order, repeated
//! and corrected readings, at the price of re-reading a day block per touched day (a few
//! hundred bytes for 10-minute data).

use std::collections::{BTreeMap, BTreeSet, HashMap};

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
            batch::BlockWrite,
            blocks::{SECS_PER_DAY, utc_day},
            codec::DayRollups,
            meters::MeterRow,
            rollups::{DailyRow, WeeklyRow},
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
    /// Meters whose data changed, and everyone who sees them, for cache invalidation.
    pub meters: Vec<i64>,
    pub audience: Vec<i64>,
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
    let work: Vec<MeterWork<'_>> = by_meter
        .into_iter()
        .filter_map(|(id, new)| {
            let meter = meters.get(&id)?;
            Some(MeterWork {
                tz: timezone(&meter.timezone),
                quota: quota_rules(meter),
                meter,
                new: new.into_values().collect(),
            })
        })
        .collect();
    let days: BTreeSet<i64> = work
        .iter()
        .flat_map(|w| w.new.iter().map(|r| utc_day(r.ts)))
        .collect();
    db.ensure_partitions_for_days(&days).await?;

    let mut tx = db.begin_write().await?;
    // Meters in id order: concurrent writers lock them in the same order, so they cannot
    // deadlock each other on PostgreSQL.
    let locked: Vec<i64> = work.iter().map(|w| w.meter.id).collect();
    tx.lock_meters(&locked).await?;
    write_meters(&mut tx, &work).await?;
    // The precomputed outlooks of everyone who sees these meters (their owners, and
    // whoever they are shared with) no longer hold; the next read recomputes them.
    let mut audience: Vec<i64> = work.iter().map(|w| w.meter.owner_id).collect();
    audience.extend(tx.shared_audience(&locked).await?);
    audience.sort_unstable();
    audience.dedup();
    tx.stale_outlooks(&audience).await?;
    tx.commit().await?;
    Ok(WriteReport {
        stored: work.iter().map(|w| w.new.len()).sum(),
        meters: locked,
        audience,
    })
}

/// One meter's part of a write.
struct MeterWork<'a> {
    meter: &'a MeterRow,
    tz: TimeZone,
    quota: Option<QuotaRules>,
    /// Sorted, distinct instants.
    new: Vec<Reading>,
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
fn merge(existing: &[Reading], new: &[Reading]) -> Vec<Reading> {
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

/// Local midnight to local midnight of day number `day`, in Unix seconds.
fn local_bounds(day: i64, tz: &TimeZone) -> (i64, i64) {
    (
        local_midnight(date_of_day_number(day), tz).as_second(),
        local_midnight(date_of_day_number(day + 1), tz).as_second(),
    )
}

/// Writes the readings of several meters and refreshes every rollup they touch, in
/// three phases that each handle all meters at once (see `storage::batch`).
async fn write_meters(tx: &mut Tx, work: &[MeterWork<'_>]) -> StoreResult<()> {
    let by_id: HashMap<i64, &MeterWork<'_>> = work.iter().map(|w| (w.meter.id, w)).collect();

    // 1. Day blocks with their quarter-hour and hourly rollups.
    let mut touched: BTreeMap<(i64, i64), Vec<Reading>> = BTreeMap::new();
    for w in work {
        for r in &w.new {
            touched
                .entry((w.meter.id, utc_day(r.ts)))
                .or_default()
                .push(*r);
        }
    }
    let keys: Vec<(i64, i64)> = touched.keys().copied().collect();
    let existing = tx.load_blocks(&keys).await?;
    let mut blocks: HashMap<(i64, i64), Vec<Reading>> = HashMap::with_capacity(keys.len());
    for (key, new) in &touched {
        let merged = merge(
            existing.get(key).map(Vec::as_slice).unwrap_or_default(),
            new,
        );
        blocks.insert(*key, merged);
    }
    let rollups: Vec<DayRollups> = keys
        .iter()
        .map(|k| DayRollups::compute(k.1 * SECS_PER_DAY, &blocks[k]))
        .collect();
    let writes: Vec<BlockWrite<'_>> = keys
        .iter()
        .zip(&rollups)
        .map(|(k, r)| BlockWrite {
            meter_id: k.0,
            day: k.1,
            readings: &blocks[k],
            rollups: r,
        })
        .collect();
    tx.put_blocks(&writes).await?;
    drop(writes);

    // 2. Local days: those of the new readings, and the next stored day after each (its
    //    usage and budget start from the last reading before it, however many empty days
    //    lie between).
    let mut local: BTreeSet<(i64, i64)> = BTreeSet::new();
    for w in work {
        for r in &w.new {
            local.insert((w.meter.id, local_day_number(r.ts, &w.tz)));
        }
    }
    let touched_days: Vec<(i64, i64)> = local.iter().copied().collect();
    local.extend(tx.next_dailies(&touched_days).await?);
    // The UTC day blocks those local days span that are not in hand yet.
    let mut missing = BTreeSet::new();
    for (m, d) in &local {
        let (start, end) = local_bounds(*d, &by_id[m].tz);
        for day in utc_day(start)..=utc_day(end - 1) {
            if !blocks.contains_key(&(*m, day)) {
                missing.insert((*m, day));
            }
        }
    }
    let missing: Vec<(i64, i64)> = missing.into_iter().collect();
    let mut loaded = tx.load_blocks(&missing).await?;
    for key in missing {
        blocks.insert(key, loaded.remove(&key).unwrap_or_default());
    }
    // The newest day before each, as stored before this write.
    let local_keys: Vec<(i64, i64)> = local.iter().copied().collect();
    let stored_before = tx.dailies_before(&local_keys).await?;
    let mut rows: Vec<DailyRow> = Vec::with_capacity(local_keys.len());
    let mut weeks = BTreeSet::new();
    for (m, d) in local_keys {
        let w = by_id[&m];
        let (start, end) = local_bounds(d, &w.tz);
        let readings: Vec<Reading> = (utc_day(start)..=utc_day(end - 1))
            .flat_map(|day| blocks[&(m, day)].iter().copied())
            .filter(|r| r.ts >= start && r.ts < end)
            .collect();
        let Some(stats) = Stats::of_sorted(&readings) else {
            continue;
        };
        // The reading before the day: the newer of what was stored and what this write
        // just recomputed (a recomputed day replaces its stored self).
        let computed = rows.last().filter(|r| r.meter_id == m);
        let previous = match (stored_before.get(&(m, d)), computed) {
            (Some(s), Some(c)) if s.day > c.day => Some(s),
            (_, Some(c)) => Some(c),
            (s, None) => s,
        };
        let row = daily_row(m, d, &stats, &readings, previous, w.quota.as_ref(), &w.tz);
        rows.push(row);
        weeks.insert((m, day_number(monday_of(date_of_day_number(d)))));
    }
    tx.put_dailies(&rows).await?;

    // 3. Weeks, from their days.
    let ranges: Vec<(i64, i64, i64)> = weeks
        .iter()
        .map(|(m, monday)| (*m, *monday, monday + 6))
        .collect();
    let mut by_week: BTreeMap<(i64, i64), Vec<DailyRow>> = BTreeMap::new();
    for d in tx.dailies_in(&ranges).await? {
        let monday = day_number(monday_of(date_of_day_number(d.day)));
        by_week.entry((d.meter_id, monday)).or_default().push(d);
    }
    let weekly: Vec<WeeklyRow> = by_week
        .into_iter()
        .filter_map(|((m, monday), days)| weekly_row(m, monday, &days))
        .collect();
    tx.put_weeklies(&weekly).await
}

fn weekly_row(meter_id: i64, week: i64, days: &[DailyRow]) -> Option<WeeklyRow> {
    let stats = days.iter().map(DailyRow::stats).reduce(Stats::merge)?;
    let usage = days
        .iter()
        .map(|d| d.usage)
        .try_fold(0.0, |acc, u| u.map(|u| acc + u));
    Some(WeeklyRow {
        meter_id,
        week,
        count: i64::from(stats.count),
        sum: stats.sum,
        min: stats.min,
        max: stats.max,
        first: stats.first,
        last: stats.last,
        first_ts: stats.first_ts,
        last_ts: stats.last_ts,
        usage,
    })
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
    tx.lock_meters(&[meter.id]).await?;
    tx.clear_local_rollups(meter.id).await?;
    if !all.is_empty() {
        // Re-writing the readings recomputes every bucket they fall in.
        let work = [MeterWork {
            meter,
            tz: timezone(&meter.timezone),
            quota: quota_rules(meter),
            new: all,
        }];
        write_meters(&mut tx, &work).await?;
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
            &[r(1, 1.0), r(3, 3.0), r(5, 5.0)],
            &[r(0, 0.0), r(3, 33.0), r(6, 6.0)],
        );
        let got: Vec<(i64, f64)> = merged.iter().map(|r| (r.ts, r.value)).collect();
        assert_eq!(got, vec![(0, 0.0), (1, 1.0), (3, 33.0), (5, 5.0), (6, 6.0)]);
    }
}
