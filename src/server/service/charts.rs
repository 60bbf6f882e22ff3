//! A meter's trend over days and its hourly timeline — from rollups only: daily rows for
//! the trend, the hourly buckets of rollup blocks for the timeline.

use crate::domain::access::MeterAction;
use crate::{
    domain::{
        outlook::{MeterTrend, meter::DayRecord, trends},
        period::{date_of_day_number, day_number},
    },
    dto::Timeline,
    server::{
        auth::CurrentUser,
        service::{ServiceResult, meters, outlook::local_today},
        state::AppState,
        storage::blocks::{SECS_PER_DAY, utc_day},
    },
};

/// Longest trend and timeline asked for in one request.
pub const MAX_DAYS: i64 = 366;
pub const MAX_HOURS: i64 = 168;

/// The meter's last `days` days (today excluded while it runs: `to` is yesterday).
pub async fn trend(
    state: &AppState,
    user: &CurrentUser,
    meter_id: i64,
    days: i64,
) -> ServiceResult<MeterTrend> {
    let m = meters::allowed(state, user, meter_id, MeterAction::Read).await?;
    let days = days.clamp(1, MAX_DAYS);
    let today = local_today(state, &m.timezone);
    let to = today.yesterday().unwrap_or(today);
    let from = today
        .checked_sub(jiff::Span::new().days(days))
        .unwrap_or(today);
    let rows = state
        .db
        .daily_rollups(m.id, day_number(from) - 2, day_number(to))
        .await?;
    let records: Vec<DayRecord> = rows
        .iter()
        .map(|r| DayRecord {
            date: date_of_day_number(r.day),
            // Sensors have no usage: their trend shows the day's mean.
            usage: r.usage.or((m.kind == "sensor").then(|| r.stats().mean())),
            budget: r.budget,
        })
        .collect();
    Ok(MeterTrend {
        meter_id: m.id,
        name: m.name,
        unit: m.unit,
        days: trends::trend(&records, from, to),
    })
}

/// The last `hours` whole hours up to now.
pub async fn timeline(
    state: &AppState,
    user: &CurrentUser,
    meter_id: i64,
    hours: i64,
) -> ServiceResult<Timeline> {
    let m = meters::allowed(state, user, meter_id, MeterAction::Read).await?;
    let hours = hours.clamp(1, MAX_HOURS);
    let now = state.clock.now_secs();
    let last_hour = now - now.rem_euclid(3600);
    let first_hour = last_hour - (hours - 1) * 3600;
    // One hour more in front, for the counter's value before the first hour.
    let blocks = state
        .db
        .rollup_blocks(m.id, utc_day(first_hour - 3600), utc_day(last_hour))
        .await?;
    let stats_at = |start: i64| {
        let day = utc_day(start);
        blocks.get(&day).and_then(|b| {
            b.hour
                .get(((start - day * SECS_PER_DAY) / 3600) as usize)
                .copied()
                .flatten()
        })
    };
    let counter = m.kind == "quota";
    let before = stats_at(first_hour - 3600).map(|s| s.last);
    let slots: Vec<(i64, Option<_>)> = (0..hours)
        .map(|i| first_hour + i * 3600)
        .map(|h| (h, stats_at(h)))
        .collect();
    Ok(Timeline {
        meter_id: m.id,
        unit: m.unit,
        counter,
        hours: trends::timeline(&slots, before, counter),
    })
}
