//! Today's outlook for a user: each quota meter's standing, computed by `domain` from the
//! two readings it needs — the newest one, and the newest one before today began — both
//! read from daily rollups (no scan of raw readings).

use jiff::tz::TimeZone;

use crate::{
    domain::{
        period::{ResetRule, day_number},
        quota::{CounterSample, QuotaInputs, QuotaSnapshot},
    },
    dto::{OutlookSummary, QuotaMeterView},
    server::{
        auth::CurrentUser,
        state::AppState,
        storage::{StoreResult, meters::MeterRow, rollups::DailyRow},
    },
};

/// A timezone by IANA name; an unknown name (which validation should have stopped)
/// falls back to UTC rather than failing the whole page.
pub fn timezone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

fn last_of(row: &DailyRow) -> CounterSample {
    CounterSample {
        at: row.last_ts,
        used: row.last,
        remaining: row.last_remaining,
    }
}

async fn quota_view(state: &AppState, meter: &MeterRow) -> StoreResult<Option<QuotaMeterView>> {
    let (Some(quota), Some(rule)) = (meter.quota, meter.reset_rule.as_deref()) else {
        return Ok(None);
    };
    let Ok(rule) = rule.parse::<ResetRule>() else {
        tracing::warn!(
            meter.id = meter.id,
            rule,
            "meter has an unreadable reset rule"
        );
        return Ok(None);
    };
    let tz = timezone(&meter.timezone);
    let now = state.clock.now();
    let now_s = now.as_second();
    let today = now.to_zoned(tz.clone()).date();
    let today_n = day_number(today);
    let period = rule.period_containing(today);
    let period_start = period.start_instant(&tz).as_second();
    let latest = match state
        .db
        .latest_daily_at_or_before(meter.id, today_n)
        .await?
    {
        Some(row) if row.last_ts <= now_s => Some(last_of(&row)),
        // Today's rollup already holds readings stamped after "now" (a pinned clock, or a
        // source a little ahead): find the newest one that is not.
        Some(_) => state
            .db
            .reading_at_or_before(meter.id, now_s, 3)
            .await?
            .map(|r| CounterSample {
                at: r.ts,
                used: r.value,
                remaining: r.remaining,
            }),
        None => None,
    };
    let at_day_start = state
        .db
        .latest_daily_at_or_before(meter.id, today_n - 1)
        .await?
        .map(|row| last_of(&row));
    let in_period = |s: &CounterSample| s.at >= period_start;
    let snapshot = QuotaSnapshot::compute(QuotaInputs {
        quota,
        period,
        today,
        latest: latest.filter(in_period),
        at_day_start: at_day_start.filter(in_period),
    });
    let last_day = period.end.yesterday().unwrap_or(period.end);
    Ok(Some(QuotaMeterView {
        meter_id: meter.id,
        name: meter.name.clone(),
        unit: meter.unit.clone(),
        timezone: meter.timezone.clone(),
        period_first_day: period.start.to_string(),
        period_last_day: last_day.to_string(),
        snapshot,
    }))
}

/// The outlook summary for `user` today (in the user's timezone).
pub async fn summary(state: &AppState, user: &CurrentUser) -> StoreResult<OutlookSummary> {
    let meters = state.db.active_meters(user.id).await?;
    let mut views = Vec::new();
    for meter in meters.iter().filter(|m| m.kind == "quota") {
        if let Some(v) = quota_view(state, meter).await? {
            views.push(v);
        }
    }
    let date = state
        .clock
        .now()
        .to_zoned(timezone(&user.timezone))
        .date()
        .to_string();
    let mut views = views.into_iter();
    Ok(OutlookSummary {
        date,
        primary: views.next(),
        others: views.collect(),
    })
}
