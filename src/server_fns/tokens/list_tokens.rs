use leptos::prelude::*;

use crate::dto::TokenView;

/// The signed-in user's API tokens, newest first.
#[server]
pub async fn list_tokens() -> Result<Vec<TokenView>, ServerFnError> {
    let user = crate::server_fns::require_user()?;
    let state = crate::server_fns::app_state()?;
    crate::server::service::tokens::list(&state, &user)
        .await
        .map_err(crate::server_fns::internal)
}
