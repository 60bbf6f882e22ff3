use leptos::prelude::*;

/// Whether the install still waits for its first account.
#[server]
pub async fn setup_needed() -> Result<bool, ServerFnError> {
    let state = crate::server_fns::app_state()?;
    crate::server::service::setup::needed(&state)
        .await
        .map_err(|e| crate::server_fns::internal(e.into()))
}
