use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::dto::series::Explorer;

/// The explorer's chart of one meter (and up to three of the same unit in `with`, ids
/// separated by commas) over a preset `range` or `from`/`to`, in `width` × `dpr` columns.
/// A GET, so the service worker keeps the last answers for offline viewing.
#[server(input = GetUrl)]
pub async fn get_meter_series(
    id: i64,
    range: Option<String>,
    from: Option<String>,
    to: Option<String>,
    with: Option<String>,
    width: Option<f64>,
    dpr: Option<f64>,
) -> Result<Explorer, ServerFnError> {
    let user = crate::server_fns::require_user()?;
    let state = crate::server_fns::app_state()?;
    let with: Vec<i64> = with
        .unwrap_or_default()
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .take(8)
        .collect();
    let q = crate::server::service::series::RangeQuery {
        range,
        from,
        to,
        width,
        dpr,
    };
    crate::server::service::series::explorer(&state, &user, id, &q, &with)
        .await
        .map_err(crate::server_fns::internal)
}
