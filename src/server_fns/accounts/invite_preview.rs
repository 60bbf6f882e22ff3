use leptos::prelude::*;

use crate::dto::accounts::InvitePreview;

/// What the invitation `secret` offers; an error (and 404 for an unknown link) when it
/// does not work any more.
#[server]
pub async fn get_invite(secret: String) -> Result<InvitePreview, ServerFnError> {
    let state = crate::server_fns::app_state()?;
    crate::server::service::invites::preview(&state, &secret)
        .await
        .map_err(crate::server_fns::internal)
}

/// Whether the reset link `secret` still works.
#[server]
pub async fn check_reset_link(secret: String) -> Result<(), ServerFnError> {
    let state = crate::server_fns::app_state()?;
    crate::server::service::invites::reset_usable(&state, &secret)
        .await
        .map_err(crate::server_fns::internal)
}
