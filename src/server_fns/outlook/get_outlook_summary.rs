use leptos::prelude::*;

use crate::dto::OutlookSummary;

/// Today's outlook summary for the signed-in user.
#[server]
pub async fn get_outlook_summary() -> Result<OutlookSummary, ServerFnError> {
    let user = crate::server_fns::require_user()?;
    let state = crate::server_fns::app_state()?;
    crate::server::service::outlook::summary(&state, &user)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "outlook summary failed");
            ServerFnError::new("the outlook could not be computed")
        })
}
