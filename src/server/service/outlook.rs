//! The daily outlook of a user: gathered from rollups (never a scan of raw readings),
//! computed by `domain::outlook`, and kept precomputed per user and day until a new
//! reading makes it stale.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use jiff::{civil::Date, tz::TimeZone};

use crate::{
    domain::{
        access::TokenReach,
        meter::NormalRange,
        outlook::{
            Outlook, OutlookInput, TipTemplate,
            meter::{DayRecord, DayRun, QuotaMeterData},
            sensor::SensorData,
        },
        period::{ResetRule, date_of_day_number, day_number, local_midnight},
        quota::CounterSample,
    },
    server::{
        cache::{self, Hit, Strategy},
        service::{ServiceError, ServiceResult, access, freshness},
        state::AppState,
        storage::{
            StoreResult,
            meters::MeterRow,
            rollups::{DailyRow, VERDICT_CHUNK_DAYS, VerdictChunkRow},
        },
    },
};

/// How far back the outlook looks (streaks, trends).
const HISTORY_DAYS: i64 = 366;

/// A timezone by IANA name; an unknown name (which validation should have stopped)
/// falls back to UTC rather than failing the whole page.
pub fn timezone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

/// A user's local date now.
pub fn local_today(state: &AppState, tz_name: &str) -> Date {
    state.clock.now().to_zoned(timezone(tz_name)).date()
}

fn last_of(row: &DailyRow) -> CounterSample {
    CounterSample {
        at: row.last_ts,
        used: row.last,
        remaining: row.last_remaining,
    }
}

/// "Now" for an outlook of `date`: the present for today, the day's last second for a past day.
fn now_for(state: &AppState, date: Date, today: Date, tz: &TimeZone) -> i64 {
    if date >= today {
        state.clock.now_secs()
    } else {
        local_midnight(date.tomorrow().unwrap_or(date), tz).as_second() - 1
    }
}

/// Days of full daily rows: enough for trends, averages, "now" and "this morning". Older
/// days are read as runs of verdicts, for streaks. A meter silent for longer has its
/// newest day looked up on its own.
const DETAIL_DAYS: i64 = 14;

/// Verdict masks (oldest chunk first; the SQL's literal 62 is [`VERDICT_CHUNK_DAYS`]) as runs of consecutive days with the same verdict.
/// Days without one are left out: for streaks they break a run just as a gap does.
fn runs_of_verdicts(chunks: &[VerdictChunkRow]) -> Vec<DayRun> {
    let mut runs: Vec<DayRun> = Vec::new();
    for c in chunks {
        for bit in 0..VERDICT_CHUNK_DAYS {
            let within = if c.within_bits >> bit & 1 == 1 {
                true
            } else if c.over_bits >> bit & 1 == 1 {
                false
            } else {
                continue;
            };
            let date = date_of_day_number(c.chunk * VERDICT_CHUNK_DAYS + bit);
            match runs.last_mut() {
                Some(run)
                    if run.within == Some(within) && run.last.tomorrow().ok() == Some(date) =>
                {
                    run.last = date;
                }
                _ => runs.push(DayRun {
                    first: date,
                    last: date,
                    within: Some(within),
                }),
            }
        }
    }
    runs
}

/// The rows of one meter in rows ordered by meter.
fn rows_of<T>(rows: &[T], meter_id: i64, key: impl Fn(&T) -> i64) -> &[T] {
    let start = rows.partition_point(|r| key(r) < meter_id);
    let end = rows.partition_point(|r| key(r) <= meter_id);
    &rows[start..end]
}

/// What the engine needs about quota meter `m`; `recent` holds its full rows of the last
/// [`DETAIL_DAYS`] and `verdicts` the year before them, both read for all meters at once.
async fn quota_data(
    state: &AppState,
    m: &MeterRow,
    date: Date,
    (rule, quota): (ResetRule, f64),
    recent: &[DailyRow],
    verdicts: &[VerdictChunkRow],
) -> StoreResult<QuotaMeterData> {
    let tz = timezone(&m.timezone);
    let today_here = local_today(state, &m.timezone);
    let now = now_for(state, date, today_here, &tz);
    let day = day_number(date);
    let period = rule.period_containing(date);
    let period_start_ts = period.start_instant(&tz).as_second();
    let at_day_start = match recent.iter().rev().find(|r| r.day < day) {
        Some(r) => Some(last_of(r)),
        None => state
            .db
            .latest_daily_at_or_before(m.id, day - 1)
            .await?
            .map(|r| last_of(&r)),
    };
    let latest = match recent.last().filter(|r| r.day == day) {
        Some(r) if r.last_ts <= now => Some(last_of(r)),
        // Today's rollup holds readings stamped after "now": find the newest that is not.
        Some(_) => state
            .db
            .reading_at_or_before(m.id, now, 3)
            .await?
            .map(|r| CounterSample {
                at: r.ts,
                used: r.value,
                remaining: r.remaining,
            }),
        None => at_day_start,
    };
    let in_period = |s: &CounterSample| s.at >= period_start_ts;
    let history = recent
        .iter()
        .filter(|r| r.day < day)
        .map(|r| DayRecord {
            date: date_of_day_number(r.day),
            usage: r.usage,
            budget: r.budget,
        })
        .collect();
    let earlier = runs_of_verdicts(verdicts);
    Ok(QuotaMeterData {
        meter_id: m.id,
        name: m.name.clone(),
        unit: m.unit.clone(),
        quota,
        period,
        period_start_ts,
        today: date,
        now,
        latest: latest.filter(in_period),
        at_day_start: at_day_start.filter(in_period),
        history,
        earlier,
    })
}

/// A quota meter's quota and reset rule; `None` for a sensor or a rule that does not parse.
fn quota_and_rule(m: &MeterRow) -> Option<(f64, ResetRule)> {
    Some((m.quota?, m.reset_rule.as_deref()?.parse().ok()?))
}

/// Today's outlook of one quota meter with the figures it came from (the chart
/// explorer's budget line and projection); `None` for a sensor or an unusable rule.
pub async fn quota_meter(
    state: &AppState,
    m: &MeterRow,
) -> ServiceResult<Option<(QuotaMeterData, crate::domain::outlook::meter::QuotaOutlook)>> {
    let Some((quota, rule)) = quota_and_rule(m) else {
        return Ok(None);
    };
    let date = local_today(state, &m.timezone);
    let day = day_number(date);
    let recent = state.db.daily_rollups(m.id, day - DETAIL_DAYS, day).await?;
    let d = quota_data(state, m, date, (rule, quota), &recent, &[]).await?;
    let o = crate::domain::outlook::meter::QuotaOutlook::compute(&d);
    Ok(Some((d, o)))
}

/// Days before today that the notification rules read: the projection's pace is the last
/// seven days' average, and nothing the rules judge looks further back (streaks do, and
/// no rule is about a streak). Half the rows of [`DETAIL_DAYS`], in a pass over every meter.
const RULE_DAYS: i64 = 7;

/// Today's outlook of each of `meters` (any owners; `None` for one that is not a quota
/// meter with a usable rule) as far as the notification rules read it, their last
/// [`RULE_DAYS`] read in one query: the scheduler's rule pass over every quota meter, a
/// page at a time. Today's figures, the pace and the projection are those of the full
/// outlook; streaks and trends are left short.
pub async fn quota_meters_today(
    state: &AppState,
    meters: &[MeterRow],
) -> StoreResult<Vec<Option<crate::domain::outlook::meter::QuotaOutlook>>> {
    let dates: Vec<Date> = meters
        .iter()
        .map(|m| local_today(state, &m.timezone))
        .collect();
    let days = dates.iter().map(|d| day_number(*d));
    let (Some(first), Some(last)) = (days.clone().min(), days.max()) else {
        return Ok(Vec::new());
    };
    let ids: Vec<i64> = meters.iter().map(|m| m.id).collect();
    // Full rows for `quota_data`, from the quota columns: the statistics it never reads
    // (count, sum, min, max, first) stay zero.
    let recent: Vec<DailyRow> = state
        .db
        .quota_days_of(&ids, first - RULE_DAYS, last)
        .await?
        .into_iter()
        .map(|q| DailyRow {
            meter_id: q.meter_id,
            day: q.day,
            count: 0,
            sum: 0.0,
            min: 0.0,
            max: 0.0,
            first: 0.0,
            last: q.last,
            first_ts: 0,
            last_ts: q.last_ts,
            last_remaining: q.last_remaining,
            usage: q.usage,
            budget: q.budget,
            pace: None,
        })
        .collect();
    let mut out = Vec::with_capacity(meters.len());
    for (m, date) in meters.iter().zip(dates) {
        let Some((quota, rule)) = quota_and_rule(m) else {
            out.push(None);
            continue;
        };
        // Timezones differ across the page: each meter's own window of days.
        let day = day_number(date);
        let rows = rows_of(&recent, m.id, |r| r.meter_id);
        let rows = &rows[rows.partition_point(|r| r.day < day - RULE_DAYS)
            ..rows.partition_point(|r| r.day <= day)];
        let d = quota_data(state, m, date, (rule, quota), rows, &[]).await?;
        out.push(Some(crate::domain::outlook::meter::QuotaOutlook::compute(
            &d,
        )));
    }
    Ok(out)
}

async fn sensor_data(state: &AppState, m: &MeterRow, date: Date) -> StoreResult<SensorData> {
    let tz = timezone(&m.timezone);
    let now = now_for(state, date, local_today(state, &m.timezone), &tz);
    let day = day_number(date);
    let row = state.db.latest_daily_at_or_before(m.id, day).await?;
    let latest = match &row {
        Some(r) if r.last_ts <= now => Some((r.last_ts, r.last)),
        Some(_) => state
            .db
            .reading_at_or_before(m.id, now, 3)
            .await?
            .map(|r| (r.ts, r.value)),
        None => None,
    };
    Ok(SensorData {
        meter_id: m.id,
        name: m.name.clone(),
        unit: m.unit.clone(),
        range: NormalRange {
            min: m.range_min,
            max: m.range_max,
        },
        latest,
        today: row.filter(|r| r.day == day).map(|r| r.stats()),
    })
}

/// The active tips, in order; the outlook chooses today's from them. Every outlook
/// computed needs them and they change only when an administrator edits one, so they are
/// cached (`content_templates`, cleared with every outlook by `freshness::all_outlooks_changed`):
/// warming 10 000 outlooks read the same rows 10 000 times.
async fn active_tips(state: &AppState) -> ServiceResult<std::sync::Arc<Vec<TipTemplate>>> {
    let key = cache::key(Strategy::ContentTemplates, format_args!("active_tips"));
    let hit = state
        .cache
        .get_or_compute_json(Strategy::ContentTemplates, &key, &[], || async {
            Ok::<_, ServiceError>(
                state
                    .db
                    .tips()
                    .await?
                    .into_iter()
                    .filter(|t| t.active)
                    .map(|t| TipTemplate {
                        title: t.title,
                        body: t.body,
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .await?;
    hit.decoded::<Vec<TipTemplate>>()
        .ok_or_else(|| anyhow::anyhow!("cached tips do not decode").into())
}

/// Computes `user_id`'s outlook for local day `date` from the rollups: their active
/// meters and those shared with them (marked with their owner's name).
///
/// With `only`, the outlook covers just those meters (a read token's).
pub async fn compute(
    state: &AppState,
    user_id: i64,
    date: Date,
    only: Option<&[i64]>,
) -> ServiceResult<Outlook> {
    let mut meters = Vec::new();
    let mut sensors = Vec::new();
    let day = day_number(date);
    // Three queries, at once on three pooled connections (each finds the meters the user
    // sees itself): the meters, then for all quota meters however many, a few days of full
    // rows and the year before them as verdict masks. In turn they took the sum of three
    // round trips, and on PostgreSQL their tails added up (p95 7.9 ms against a 5 ms budget).
    let (active, recent, verdicts, tips) = tokio::try_join!(
        access::visible(state, user_id, true, only),
        async {
            Ok::<_, ServiceError>(
                state
                    .db
                    .visible_daily_rollups(user_id, day - DETAIL_DAYS, day)
                    .await?,
            )
        },
        async {
            Ok::<_, ServiceError>(
                state
                    .db
                    .visible_verdicts(user_id, day - HISTORY_DAYS, day - DETAIL_DAYS - 1)
                    .await?,
            )
        },
        active_tips(state),
    )?;
    let shared_by: HashMap<i64, String> = active
        .iter()
        .filter(|a| a.shared())
        .map(|a| (a.meter.id, a.owner_name.clone()))
        .collect();
    for m in active.into_iter().map(|a| a.meter) {
        match (
            m.kind.as_str(),
            m.quota,
            m.reset_rule.as_deref().and_then(|r| r.parse().ok()),
        ) {
            ("quota", Some(quota), Some(rule)) => meters.push(
                quota_data(
                    state,
                    &m,
                    date,
                    (rule, quota),
                    rows_of(&recent, m.id, |r| r.meter_id),
                    rows_of(&verdicts, m.id, |r| r.meter_id),
                )
                .await?,
            ),
            ("sensor", ..) => sensors.push(sensor_data(state, &m, date).await?),
            _ => tracing::warn!(
                meter.id = m.id,
                "meter without a usable quota or rule is left out"
            ),
        }
    }
    let now = meters
        .first()
        .map_or_else(|| state.clock.now_secs(), |m| m.now);
    let mut outlook = Outlook::compute(&OutlookInput {
        user_id,
        today: date,
        now,
        meters,
        sensors,
        tips: tips.to_vec(),
    });
    for m in &mut outlook.meters {
        m.shared_by = shared_by.get(&m.meter_id).cloned();
    }
    for s in &mut outlook.sensors {
        s.shared_by = shared_by.get(&s.meter_id).cloned();
    }
    Ok(outlook)
}

/// An outlook, whether it came precomputed, and how long getting it took.
pub struct Served {
    pub outlook: Outlook,
    pub cached: bool,
    pub load_time: f64,
}

/// Whose outlook, and their timezone when the caller already knows it (a signed-in user
/// reading their own), which saves a database query on the hot path.
#[derive(Debug, Clone, Copy)]
pub struct Whose<'a> {
    pub user_id: i64,
    pub timezone: Option<&'a str>,
    /// A caller acting through a read token sees only the token's meters.
    pub reach: Option<&'a TokenReach>,
}

impl<'a> Whose<'a> {
    pub fn me(user: &'a crate::server::auth::CurrentUser) -> Self {
        Whose {
            user_id: user.id,
            timezone: Some(&user.timezone),
            reach: user.via_token.as_deref(),
        }
    }

    pub fn id(user_id: i64) -> Self {
        Whose {
            user_id,
            timezone: None,
            reach: None,
        }
    }

    /// What tells this caller's outlook apart in the cache: nothing for a user's own,
    /// the token for a token's narrower one.
    pub fn variant(&self) -> String {
        self.reach
            .map_or_else(String::new, |r| format!(":t{}", r.token_id))
    }
}

/// The local day an outlook is asked for: `date`, or the user's today. Future days are
/// refused; an unknown user is `NotFound`.
pub async fn day_of(state: &AppState, whose: Whose<'_>, date: Option<Date>) -> ServiceResult<Date> {
    let today = match whose.timezone {
        Some(tz) => local_today(state, tz),
        None => {
            let user = state
                .db
                .user_by_id(whose.user_id)
                .await?
                .ok_or(ServiceError::NotFound)?;
            local_today(state, &user.timezone)
        }
    };
    let date = date.unwrap_or(today);
    if date > today {
        return Err(crate::domain::DomainError::new(
            "date",
            "is in the future; an outlook is for today or a past day",
        )
        .into());
    }
    Ok(date)
}

/// The cache key of `user_id`'s outlook for `date`, and of values derived from it
/// (`outlook:u1:2026-11-21`, `outlook:u1:2026-11-21:v2`); all carry the tag `user:<id>`.
pub fn cache_key(strategy: Strategy, user_id: i64, date: Date, variant: &str) -> String {
    cache::key(strategy, format_args!("u{user_id}:{date}{variant}"))
}

/// Where the time of an outlook that no cache tier held went: looking for the stored row,
/// reading the rollups and computing (JSON included), keeping the result as the row.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MissTiming {
    pub row_lookup: Duration,
    pub compute: Duration,
    pub store: Duration,
}

/// The outlook as cached JSON bytes, read through the cache: in-process copy, Redis, the
/// precomputed row, or computed now (and kept at every level for the next read).
pub async fn cached(
    state: &AppState,
    whose: Whose<'_>,
    date: Option<Date>,
) -> ServiceResult<(Hit, Date)> {
    cached_timed(state, whose, date)
        .await
        .map(|(hit, date, _)| (hit, date))
}

/// [`cached`], and when this call computed the outlook itself (not another request it
/// waited for), where that time went.
pub async fn cached_timed(
    state: &AppState,
    whose: Whose<'_>,
    date: Option<Date>,
) -> ServiceResult<(Hit, Date, Option<MissTiming>)> {
    let timing = std::sync::OnceLock::new();
    let timing_ref = &timing;
    let date = day_of(state, whose, date).await?;
    let user_id = whose.user_id;
    let key = cache_key(Strategy::Outlook, user_id, date, &whose.variant());
    let only = whose.reach.map(|r| r.meter_ids.as_slice());
    let hit = state
        .cache
        .get_or_compute(
            Strategy::Outlook,
            &key,
            &[freshness::user_tag(user_id)],
            || async move {
                if only.is_some() {
                    // A token's narrower outlook is not the user's: never stored as it.
                    let outlook = compute(state, user_id, date, only).await?;
                    return Ok::<_, ServiceError>(serde_json::to_vec(&outlook)?);
                }
                let day = day_number(date);
                let started = Instant::now();
                if let Some(json) = state.db.fresh_outlook(user_id, day).await? {
                    return Ok::<_, ServiceError>(json.into_bytes());
                }
                let row_lookup = started.elapsed();
                let outlook = compute(state, user_id, date, None).await?;
                let json = serde_json::to_string(&outlook)?;
                let compute = started.elapsed() - row_lookup;
                // The row only spares the next cold read a computation: when it cannot be
                // written (a full disk), the outlook is still the answer.
                if let Err(e) = state
                    .db
                    .put_outlook(user_id, day, state.clock.now_secs(), &json)
                    .await
                {
                    tracing::warn!(error = %e, user_id, "could not keep the computed outlook");
                }
                let _ = timing_ref.set(MissTiming {
                    row_lookup,
                    compute,
                    store: started.elapsed() - row_lookup - compute,
                });
                Ok(json.into_bytes())
            },
        )
        .await?;
    Ok((hit, date, timing.into_inner()))
}

/// The outlook of `user_id` for `date` (default: the user's today), as a value.
pub async fn get(state: &AppState, whose: Whose<'_>, date: Option<Date>) -> ServiceResult<Served> {
    let started = Instant::now();
    let (hit, _) = cached(state, whose, date).await?;
    let outlook = hit
        .json::<Outlook>()
        .ok_or_else(|| anyhow::anyhow!("a cached outlook does not decode"))?;
    Ok(Served {
        outlook,
        cached: hit.cached(),
        load_time: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn verdict_masks_become_runs_across_chunks() {
        // The last two days of one chunk within budget, the first of the next too, then one
        // over, one without a verdict, and one within.
        let chunk = 330;
        let first = chunk * VERDICT_CHUNK_DAYS + 60;
        let rows = [
            VerdictChunkRow {
                meter_id: 1,
                chunk,
                within_bits: 0b11 << 60,
                over_bits: 0,
            },
            VerdictChunkRow {
                meter_id: 1,
                chunk: chunk + 1,
                within_bits: 0b1001,
                over_bits: 0b10,
            },
        ];
        let runs = runs_of_verdicts(&rows);
        let d = |n: i64| date_of_day_number(first + n);
        assert_eq!(
            runs,
            vec![
                DayRun {
                    first: d(0),
                    last: d(2),
                    within: Some(true)
                },
                DayRun {
                    first: d(3),
                    last: d(3),
                    within: Some(false)
                },
                DayRun {
                    first: d(5),
                    last: d(5),
                    within: Some(true)
                },
            ]
        );
        assert_eq!(d(0), date(2026, 3, 8));
    }
}
