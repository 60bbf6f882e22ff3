use leptos::prelude::*;

use crate::dto::perf::PerfReport;

/// Everything the performance center's pages show (admins only): the summary, the last
/// `minutes` of analytics, the detailed metrics and the thresholds, as the JSON API gives
/// them.
#[server]
pub async fn performance_report(minutes: i64) -> Result<PerfReport, ServerFnError> {
    let user = crate::server_fns::require_user()?;
    if !user.is_admin() {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(http::StatusCode::FORBIDDEN);
        }
        return Err(ServerFnError::new("admins only"));
    }
    let state = crate::server_fns::app_state()?;
    let minutes = minutes.clamp(1, 7 * 24 * 60);
    use crate::server::perf::report;
    let summary = report::summary(&state)
        .await
        .map_err(|e| crate::server_fns::internal(e.into()))?;
    let analytics = report::analytics(&state, minutes)
        .await
        .map_err(|e| crate::server_fns::internal(e.into()))?;
    let metrics = report::metrics(&state).await;
    Ok(PerfReport {
        summary,
        analytics,
        metrics,
        thresholds: state.perf.thresholds(),
    })
}
