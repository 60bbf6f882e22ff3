use leptos::prelude::*;

use crate::dto::accounts::UsersPage;

/// Every user and household (admins only).
#[server]
pub async fn list_users() -> Result<UsersPage, ServerFnError> {
    let user = crate::server_fns::require_user()?;
    if !user.is_admin() {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(http::StatusCode::FORBIDDEN);
        }
        return Err(ServerFnError::new("admins only"));
    }
    let state = crate::server_fns::app_state()?;
    let users = crate::server::service::users::list(&state)
        .await
        .map_err(crate::server_fns::internal)?;
    let households = crate::server::service::households::list(&state)
        .await
        .map_err(crate::server_fns::internal)?;
    Ok(UsersPage { users, households })
}
