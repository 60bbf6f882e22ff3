use leptos::prelude::*;

use crate::dto::ImportView;

/// How far one of the signed-in user's imports has got.
#[server]
pub async fn import_status(id: i64) -> Result<ImportView, ServerFnError> {
    let user = crate::server_fns::require_user()?;
    let state = crate::server_fns::app_state()?;
    crate::server::service::import::owned(&state, &user, id)
        .await
        .map_err(crate::server_fns::internal)
}
