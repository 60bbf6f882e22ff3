//! A meter's detail page: the meter, its last two weeks by day, its source and latest
//! collection attempts, and its latest imports. Composed here, above the services it
//! reads, so `meters` stays a leaf the others can use.

use crate::{
    domain::period::day_number,
    server::{
        auth::CurrentUser,
        service::{ServiceResult, import, meters, outlook::timezone, sources},
        state::AppState,
    },
};

/// The detail page of the caller's meter: the meter and its last two weeks by day.
pub async fn page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> ServiceResult<crate::dto::MeterPage> {
    let m = meters::owned(state, user, id).await?;
    let meter = meters::view(state, &m).await?;
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
    let source = sources::get(state, user, id).await?;
    let attempts = sources::attempts(state, user, id, 10).await?;
    let imports = state
        .db
        .imports_of(id, 3)
        .await?
        .iter()
        .map(import::view)
        .collect();
    Ok(crate::dto::MeterPage {
        meter,
        recent_days,
        source,
        attempts,
        imports,
    })
}
