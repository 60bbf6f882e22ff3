use leptos::prelude::*;

use crate::domain::outlook::Outlook;

/// The signed-in user's outlook for today (precomputed when fresh).
#[server]
pub async fn get_outlook() -> Result<Outlook, ServerFnError> {
    let user = crate::server_fns::require_user()?;
    let state = crate::server_fns::app_state()?;
    crate::server::service::outlook::get(
        &state,
        crate::server::service::outlook::Whose::me(&user),
        None,
    )
    .await
    .map(|served| served.outlook)
    .map_err(crate::server_fns::internal)
}
