use leptos::prelude::*;

use crate::dto::accounts::AccountPage;

/// The signed-in user's account and sessions (the one this request came with marked).
#[server]
pub async fn get_account() -> Result<AccountPage, ServerFnError> {
    let user = crate::server_fns::require_user()?;
    let state = crate::server_fns::app_state()?;
    let token = use_context::<http::request::Parts>().and_then(|p| {
        crate::server::auth::session::token_from_headers(&p.headers).map(str::to_owned)
    });
    let account = crate::server::service::account::view(&state, &user)
        .await
        .map_err(crate::server_fns::internal)?;
    let sessions = crate::server::service::sessions::list(&state, &user, token.as_deref())
        .await
        .map_err(crate::server_fns::internal)?;
    Ok(AccountPage { account, sessions })
}
