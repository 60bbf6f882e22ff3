use leptos::prelude::*;

use crate::dto::TipView;

/// Every tip of the day, active ones first (admins only).
#[server]
pub async fn list_tips() -> Result<Vec<TipView>, ServerFnError> {
    let user = crate::server_fns::require_user()?;
    if !user.is_admin() {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(http::StatusCode::FORBIDDEN);
        }
        return Err(ServerFnError::new("admins only"));
    }
    let state = crate::server_fns::app_state()?;
    crate::server::service::tips::list(&state)
        .await
        .map_err(crate::server_fns::internal)
}
