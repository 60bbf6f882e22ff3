use leptos::prelude::*;

use crate::dto::MeterView;

/// The signed-in user's meters, archived ones last.
#[server]
pub async fn list_meters() -> Result<Vec<MeterView>, ServerFnError> {
    let user = crate::server_fns::require_user()?;
    let state = crate::server_fns::app_state()?;
    crate::server::service::meters::list(&state, &user)
        .await
        .map_err(crate::server_fns::internal)
}
