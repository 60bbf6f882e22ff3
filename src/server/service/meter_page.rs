//! A meter's detail page: the meter, its last two weeks by day, its source and latest
//! collection attempts, and its latest imports. Composed here, above the services it
//! reads, so `meters` stays a leaf the others can use.

use crate::{
    domain::{access::MeterAction, period::day_number},
    server::{
        auth::CurrentUser,
        service::{ServiceResult, access, import, meters, outlook::timezone, shares, sources},
        state::AppState,
    },
};

/// The detail page of the caller's meter: the meter and its last two weeks by day.
pub async fn page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> ServiceResult<crate::dto::MeterPage> {
    let a = access::meter(state, user, id, MeterAction::Read).await?;
    let meter = meters::view(state, &a).await?;
    let m = &a.meter;
    let today = day_number(state.clock.now().to_zoned(timezone(&m.timezone)).date());
    let mut days = state.db.daily_rollups(m.id, today - 13, today).await?;
    days.reverse();
    let recent_days = days
        .iter()
        .map(|d| crate::dto::DayLine {
            date: crate::domain::period::date_of_day_number(d.day).to_string(),
            readings: d.count,
            min: d.min,
            max: d.max,
            last: d.last,
            usage: d.usage,
            budget: d.budget,
        })
        .collect();
    // Where readings come from (and its credentials) is the owner's business; imports
    // are for whoever may add readings.
    let (source, attempts, sharing, rules) = if a.may(MeterAction::Manage) {
        (
            sources::get(state, user, id).await?,
            sources::attempts(state, user, id, 10).await?,
            Some(shares::get(state, user, id).await?),
            Some(super::notifications::meter_rules(state, user, id).await?),
        )
    } else {
        (None, Vec::new(), None, None)
    };
    let imports = if a.may(MeterAction::WriteReadings) {
        state
            .db
            .imports_of(id, 3)
            .await?
            .iter()
            .map(import::view)
            .collect()
    } else {
        Vec::new()
    };
    Ok(crate::dto::MeterPage {
        meter,
        recent_days,
        source,
        attempts,
        imports,
        sharing,
        rules,
    })
}
