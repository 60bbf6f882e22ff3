use leptos::prelude::*;

use crate::dto::Timeline;

/// One of the signed-in user's meters hour by hour over the last `hours` hours.
#[server]
pub async fn get_meter_timeline(id: i64, hours: i64) -> Result<Timeline, ServerFnError> {
    let user = crate::server_fns::require_user()?;
    let state = crate::server_fns::app_state()?;
    crate::server::service::charts::timeline(&state, &user, id, hours)
        .await
        .map_err(crate::server_fns::internal)
}
