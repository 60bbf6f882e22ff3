use leptos::prelude::*;

use crate::domain::outlook::MeterTrend;

/// One of the signed-in user's meters over its last `days` days.
#[server]
pub async fn get_meter_trend(id: i64, days: i64) -> Result<MeterTrend, ServerFnError> {
    let user = crate::server_fns::require_user()?;
    let state = crate::server_fns::app_state()?;
    crate::server::service::charts::trend(&state, &user, id, days)
        .await
        .map_err(crate::server_fns::internal)
}
