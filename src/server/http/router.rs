//! The whole HTTP surface in one place: JSON and form routes, Leptos pages and server
//! functions, static files, and the middleware every request passes through.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    extract::{MatchedPath, Request},
    http::{
        HeaderValue,
        header::{self, HeaderName},
    },
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::any,
};
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::{
    compression::{
        CompressionLayer,
        predicate::{NotForContentType, Predicate, SizeAbove},
    },
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    services::ServeDir,
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};

use crate::{
    server::{
        http::{
            forms::provide_request_context,
            middleware::{conditional, csrf, rate_limit, security_headers, session, timeout},
            routes,
        },
        state::AppState,
    },
    ui::app::{App, shell},
};

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const X_RESPONSE_TIME: HeaderName = HeaderName::from_static("x-response-time");

/// Request ids: a per-process random prefix and a counter — unique, cheap, sortable in a
/// log, and no lock on the hot path.
#[derive(Clone)]
struct ProcessRequestIds {
    prefix: u32,
}

static NEXT_REQUEST: AtomicU64 = AtomicU64::new(1);

impl MakeRequestId for ProcessRequestIds {
    fn make_request_id<B>(&mut self, _req: &http::Request<B>) -> Option<RequestId> {
        let n = NEXT_REQUEST.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{:08x}-{n:x}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

fn process_prefix() -> u32 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    nanos ^ std::process::id().rotate_left(16)
}

/// Time to response headers, in milliseconds, on every response.
async fn response_time(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let mut res = next.run(req).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(v) = HeaderValue::from_str(&format!("{ms:.2}ms")) {
        res.headers_mut().insert(X_RESPONSE_TIME, v);
    }
    res
}

/// Unknown `/api/...` addresses get a JSON 404 that says the endpoint does not exist
/// (as opposed to a thing that does not), not the HTML page.
async fn api_not_found(method: http::Method, uri: http::Uri) -> impl IntoResponse {
    let body = serde_json::json!({"error": {"code": "not_found", "message": format!("no such endpoint: {method} {}", uri.path())}});
    (http::StatusCode::NOT_FOUND, axum::Json(body))
}

pub fn build(state: AppState) -> Router {
    let leptos_options = state.leptos.clone();
    let page_routes = generate_route_list(App);

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
        .merge(routes::seed::router())
        .merge(routes::tips::router())
        .merge(routes::performance::router())
        .merge(crate::server::http::openapi::router())
        .merge(routes::tokens::router())
        .merge(routes::pwa::router(&leptos_options));
    if state.settings.test_hooks {
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
        // Inner to outer. On the way in a request meets the outer layers first: its id,
        // timing, compression, CSRF, then its session, then the rate limit (which needs
        // the session's user), then the conditional-GET check.
        .layer(middleware::from_fn(conditional::not_modified))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            rate_limit::limit,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::resolve,
        ))
        .layer(middleware::from_fn(csrf::guard))
        .layer(middleware::from_fn(security_headers::apply))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            timeout::limit,
        ))
        // Text over 1 KiB, by Accept-Encoding (brotli, zstd, gzip); streamed pages too.
        .layer(
            CompressionLayer::new().compress_when(
                SizeAbove::new(1024)
                    .and(NotForContentType::GRPC)
                    .and(NotForContentType::IMAGES)
                    .and(NotForContentType::SSE)
                    .and(NotForContentType::const_new("application/wasm")),
            ),
        )
        .layer(middleware::from_fn(conditional::weaken_etag_when_encoded))
        .layer(middleware::from_fn(response_time))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &http::Request<_>| {
                let route = req
                    .extensions()
                    .get::<MatchedPath>()
                    .map_or("fallback", MatchedPath::as_str);
                let id = req
                    .headers()
                    .get(X_REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), route, request_id = id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(X_REQUEST_ID))
        .layer(SetRequestIdLayer::new(
            X_REQUEST_ID,
            ProcessRequestIds {
                prefix: process_prefix(),
            },
        ))
        .with_state(state)
}
