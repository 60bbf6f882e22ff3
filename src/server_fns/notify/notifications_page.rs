use leptos::prelude::*;

use crate::dto::notify::InboxPage;

/// The signed-in user's notifications (newest first, one page), settings, webhook and
/// delivery log.
#[server]
pub async fn notifications_page(before: Option<i64>) -> Result<InboxPage, ServerFnError> {
    use crate::server::service::notifications as n;
    let user = crate::server_fns::require_user()?;
    let state = crate::server_fns::app_state()?;
    let internal = crate::server_fns::internal;
    Ok(InboxPage {
        list: n::list(&state, &user, false, before, Some(50))
            .await
            .map_err(internal)?,
        settings: n::settings(&state, &user).await.map_err(internal)?,
        webhook: n::webhook_of(&state, &user).await.map_err(internal)?,
        deliveries: n::deliveries(&state, &user).await.map_err(internal)?,
        push_key: crate::server::service::push::vapid(&state)
            .await
            .map_err(internal)?
            .public_key,
        push_devices: crate::server::service::push::devices(&state, &user)
            .await
            .map_err(internal)?,
    })
}
