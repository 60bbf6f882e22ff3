//! Today's outlook for a user: each quota meter's standing, computed by `domain` from the
//! few readings it needs (the newest one, and the newest one before today began).

use jiff::tz::TimeZone;

use crate::{
    domain::{
        period::{ResetRule, local_midnight},
        quota::{CounterSample, QuotaInputs, QuotaSnapshot},
    },
    dto::{OutlookSummary, QuotaMeterView},
    server::{
        auth::CurrentUser,
        state::AppState,
        storage::{StoreResult, meters::MeterRow, readings::Sample},
    },
};

/// A timezone by IANA name; an unknown name (which validation should have stopped)
/// falls back to UTC rather than failing the whole page.
pub fn timezone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

fn counter(s: Sample) -> CounterSample {
    CounterSample {
        at: s.ts,
        used: s.value,
        remaining: s.remaining,
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
    let today = now.to_zoned(tz.clone()).date();
    let period = rule.period_containing(today);
    let period_start = period.start_instant(&tz).as_second();
    let day_start = local_midnight(today, &tz).as_second();
    let latest = state
        .db
        .latest_reading_between(meter.id, period_start, now.as_second())
        .await?;
    let at_day_start = if day_start > period_start {
        state
            .db
            .latest_reading_between(meter.id, period_start, day_start - 1)
            .await?
    } else {
        None
    };
    let snapshot = QuotaSnapshot::compute(QuotaInputs {
        quota,
        period,
        today,
        latest: latest.map(counter),
        at_day_start: at_day_start.map(counter),
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
