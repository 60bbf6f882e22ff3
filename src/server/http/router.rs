//! Every address the server answers: JSON and form routes, Leptos pages and server
//! functions, static files. The layers every request passes through are put around it
//! by `http::pipeline`.

use axum::{
    Router,
    http::{HeaderValue, header},
    response::IntoResponse,
    routing::any,
};
use std::sync::OnceLock;

use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tower_http::{services::ServeDir, set_header::SetResponseHeaderLayer};

use crate::{
    server::{
        http::{forms::provide_request_context, routes},
        state::AppState,
    },
    ui::app::{App, shell},
};

/// Unknown `/api/...` addresses get a JSON 404 that says the endpoint does not exist
/// (as opposed to a thing that does not), not the HTML page.
async fn api_not_found(method: http::Method, uri: http::Uri) -> impl IntoResponse {
    let body = serde_json::json!({"error": {"code": "not_found", "message": format!("no such endpoint: {method} {}", uri.path())}});
    (http::StatusCode::NOT_FOUND, axum::Json(body))
}

/// The page routes, listed once per process.
///
/// Listing renders the whole app with a process-wide switch on that parks every Resource
/// first polled meanwhile, forever (leptos_server's `SuppressResourceLoad`). Listed per
/// `build`, a second server in the process (the test suite runs dozens) would park the
/// Resources of pages the first is rendering at that moment: the request never answers.
/// Listed once, before any router exists, nothing can be rendering while it happens.
fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The routes, with `state`; no layers (see `http::pipeline`).
pub fn build(state: AppState) -> Router {
    let leptos_options = state.leptos.clone();
    let page_routes = page_routes();

    let mut router = Router::new()
        .merge(routes::health::router())
        .merge(routes::auth::router())
        .merge(routes::meters::router())
        .merge(routes::meter_forms::router())
        .merge(routes::token_forms::router())
        .merge(routes::readings::router())
        .merge(routes::sources::router())
        .merge(routes::imports::router())
        .merge(routes::outlook::router())
        .merge(routes::series::router())
        .merge(routes::legacy::router())
        .merge(routes::tips::router())
        .merge(routes::perf::router())
        .merge(crate::server::http::openapi::router())
        .merge(routes::tokens::router())
        .merge(routes::notifications::router())
        .merge(routes::notify_forms::router())
        .merge(routes::push::router())
        // Accounts: setup, the caller's own account, links, administrators' user pages.
        .merge(routes::setup::router())
        .merge(routes::account::router())
        .merge(routes::account_forms::router())
        .merge(routes::invites::router())
        .merge(routes::invite_forms::router())
        .merge(routes::users::router())
        .merge(routes::user_forms::router())
        .merge(routes::pwa::router(&leptos_options));
    if state.settings.server.test_hooks {
        router = router.merge(routes::test_hooks::router());
    }

    // Hashed build output: served from its precompressed copies and cached for a year,
    // since a new build has new names.
    let pkg_dir = std::path::Path::new(leptos_options.site_root.as_ref())
        .join(leptos_options.site_pkg_dir.as_ref());
    let pkg = tower::ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ))
        .service(
            ServeDir::new(pkg_dir)
                .precompressed_br()
                .precompressed_gzip(),
        );

    router
        .route("/api/{*rest}", any(api_not_found))
        .nest_service(&format!("/{}", leptos_options.site_pkg_dir), pkg)
        .leptos_routes_with_context(&state, page_routes, provide_request_context, {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide_request_context, shell))
        .with_state(state)
}
