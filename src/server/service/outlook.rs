//! The daily outlook of a user: gathered from rollups (never a scan of raw readings),
//! computed by `domain::outlook`, and kept precomputed per user and day until a new
//! reading makes it stale.

use std::time::Instant;

use jiff::{civil::Date, tz::TimeZone};

use crate::{
    domain::{
        meter::NormalRange,
        outlook::{
            Outlook, OutlookInput, TipTemplate,
            meter::{DayRecord, QuotaMeterData},
            sensor::SensorData,
            tips,
        },
        period::{ResetRule, date_of_day_number, day_number, local_midnight},
        quota::CounterSample,
    },
    server::{
        service::{ServiceError, ServiceResult},
        state::AppState,
        storage::{StoreResult, meters::MeterRow, rollups::DailyRow},
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

async fn quota_data(
    state: &AppState,
    m: &MeterRow,
    date: Date,
    rule: ResetRule,
    quota: f64,
) -> StoreResult<QuotaMeterData> {
    let tz = timezone(&m.timezone);
    let today_here = local_today(state, &m.timezone);
    let now = now_for(state, date, today_here, &tz);
    let day = day_number(date);
    let period = rule.period_containing(date);
    let period_start_ts = period.start_instant(&tz).as_second();
    let rows = state
        .db
        .daily_rollups(m.id, day - HISTORY_DAYS, day)
        .await?;
    let today_row = rows.last().filter(|r| r.day == day);
    let latest = match today_row {
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
        None => rows.iter().rev().find(|r| r.day < day).map(last_of),
    };
    let at_day_start = rows.iter().rev().find(|r| r.day < day).map(last_of);
    let in_period = |s: &CounterSample| s.at >= period_start_ts;
    let history = rows
        .iter()
        .filter(|r| r.day < day)
        .map(|r| DayRecord {
            date: date_of_day_number(r.day),
            usage: r.usage,
            budget: r.budget,
        })
        .collect();
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
    })
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

/// Today's tip: active tips, one a day in turn.
async fn tip_for(state: &AppState, date: Date) -> StoreResult<Option<TipTemplate>> {
    let active: Vec<_> = state
        .db
        .tips()
        .await?
        .into_iter()
        .filter(|t| t.active)
        .collect();
    Ok(tips::pick(active.len(), date).map(|i| TipTemplate {
        title: active[i].title.clone(),
        body: active[i].body.clone(),
    }))
}

/// Computes `user_id`'s outlook for local day `date` from the rollups.
pub async fn compute(state: &AppState, user_id: i64, date: Date) -> StoreResult<Outlook> {
    let mut meters = Vec::new();
    let mut sensors = Vec::new();
    for m in state.db.active_meters(user_id).await? {
        match (
            m.kind.as_str(),
            m.quota,
            m.reset_rule.as_deref().and_then(|r| r.parse().ok()),
        ) {
            ("quota", Some(quota), Some(rule)) => {
                meters.push(quota_data(state, &m, date, rule, quota).await?)
            }
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
    Ok(Outlook::compute(&OutlookInput {
        user_id,
        today: date,
        now,
        meters,
        sensors,
        tip: tip_for(state, date).await?,
    }))
}

/// An outlook, whether it came precomputed, and how long getting it took.
pub struct Served {
    pub outlook: Outlook,
    pub cached: bool,
    pub load_time: f64,
}

/// The outlook of `user_id` for `date` (default: the user's today): precomputed when
/// fresh, otherwise computed now and kept for the next read.
pub async fn get(state: &AppState, user_id: i64, date: Option<Date>) -> ServiceResult<Served> {
    let started = Instant::now();
    let user = state
        .db
        .user_by_id(user_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let today = local_today(state, &user.timezone);
    let date = date.unwrap_or(today);
    if date > today {
        return Err(crate::domain::DomainError::new(
            "date",
            "is in the future; an outlook is for today or a past day",
        )
        .into());
    }
    let day = day_number(date);
    if let Some(json) = state.db.fresh_outlook(user_id, day).await?
        && let Ok(outlook) = serde_json::from_str::<Outlook>(&json)
    {
        return Ok(Served {
            outlook,
            cached: true,
            load_time: started.elapsed().as_secs_f64(),
        });
    }
    let outlook = compute(state, user_id, date).await?;
    if let Ok(json) = serde_json::to_string(&outlook) {
        state
            .db
            .put_outlook(user_id, day, state.clock.now_secs(), &json)
            .await?;
    }
    Ok(Served {
        outlook,
        cached: false,
        load_time: started.elapsed().as_secs_f64(),
    })
}
