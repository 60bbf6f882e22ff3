use leptos::prelude::*;

use crate::domain::outlook::peers::PeerComparison;

/// Where the signed-in user's pace stands among households on a similar plan nearby.
#[server]
pub async fn get_peer_comparison() -> Result<PeerComparison, ServerFnError> {
    let user = crate::server_fns::require_user()?;
    let state = crate::server_fns::app_state()?;
    let row = state
        .db
        .user_by_id(user.id)
        .await
        .map_err(|e| crate::server_fns::internal(e.into()))?
        .ok_or_else(|| ServerFnError::new("not found"))?;
    crate::server::service::peers::compare(&state, &row)
        .await
        .map_err(crate::server_fns::internal)
}
