use leptos::prelude::*;

/// How many of the signed-in user's notifications are unread (the header's badge).
#[server]
pub async fn unread_count() -> Result<i64, ServerFnError> {
    let user = crate::server_fns::require_user()?;
    let state = crate::server_fns::app_state()?;
    crate::server::service::notifications::unread(&state, user.id)
        .await
        .map_err(crate::server_fns::internal)
}
