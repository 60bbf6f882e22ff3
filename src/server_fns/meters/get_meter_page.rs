use leptos::prelude::*;

use crate::dto::MeterPage;

/// One of the signed-in user's meters with its recent days.
#[server]
pub async fn get_meter_page(id: i64) -> Result<MeterPage, ServerFnError> {
    let user = crate::server_fns::require_user()?;
    let state = crate::server_fns::app_state()?;
    crate::server::service::meter_page::page(&state, &user, id)
        .await
        .map_err(crate::server_fns::internal)
}
