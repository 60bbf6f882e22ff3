//! First run: `/api/v1/setup` and the `/setup` page's form create the first administrator
//! with the setup code the server printed (see `service::setup`).

use std::net::SocketAddr;

use axum::{
    Extension, Json, Router,
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use serde::Deserialize;

use crate::server::{
    http::{
        error::ApiError,
        extract::JsonBody,
        forms::{feedback, read_form, rerender},
        routes::auth::{Caller, caller},
    },
    service::{
        ServiceError,
        setup::{self, FirstAdmin, SetupOutcome},
    },
    state::AppState,
};

/// How long a throttled attempt waits for its answer, as a throttled sign-in does.
const THROTTLED_ANSWER_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Deserialize)]
struct SetupBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    setup_code: String,
}

async fn status(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let needed = setup::needed(&state).await?;
    Ok(Json(serde_json::json!({"needed": needed})))
}

async fn run(
    state: &AppState,
    who: &Caller,
    input: &FirstAdmin<'_>,
) -> Result<Result<String, ServiceError>, ApiError> {
    match setup::create_first_admin(state, input, who.ip, &who.user_agent).await {
        Ok(SetupOutcome::Done { token, .. }) => Ok(Ok(token)),
        Ok(SetupOutcome::Throttled) => {
            tokio::time::sleep(THROTTLED_ANSWER_DELAY).await;
            Err(ApiError::TooManyRequests {
                retry_after_secs: 900,
            })
        }
        Err(e) => Ok(Err(e)),
    }
}

async fn create(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<SetupBody>,
) -> Result<Response, ApiError> {
    let who = caller(&state, connect, &headers);
    let input = FirstAdmin {
        email: &body.email,
        display_name: &body.display_name,
        password: &body.password,
        setup_code: &body.setup_code,
    };
    let token = run(&state, &who, &input).await??;
    let mut res = (
        StatusCode::CREATED,
        Json(serde_json::json!({"signed_in": true})),
    )
        .into_response();
    who.set_session_cookie(&state, &mut res, &token)?;
    Ok(res)
}

async fn create_by_form(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    req: Request,
) -> Result<Response, ApiError> {
    let who = caller(&state, connect, req.headers());
    let (parts, form) = read_form(&state, req).await?;
    let input = FirstAdmin {
        email: form.get("email").unwrap_or_default(),
        display_name: form.get("display_name").unwrap_or_default(),
        password: form.all("password").first().copied().unwrap_or_default(),
        setup_code: form.get("setup_code").unwrap_or_default(),
    };
    match run(&state, &who, &input).await? {
        Ok(token) => {
            let mut res = Redirect::to("/admin/users").into_response();
            who.set_session_cookie(&state, &mut res, &token)?;
            Ok(res)
        }
        Err(ServiceError::Invalid(errors)) => {
            let mut values = form.values();
            // Nothing secret is written back into the page.
            values.remove("password");
            values.remove("setup_code");
            Ok(rerender(
                &state,
                parts,
                "/setup",
                feedback("setup", values, &errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await)
        }
        Err(ServiceError::NotFound) => Ok(Redirect::to("/login").into_response()),
        Err(e) => Err(e.into()),
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/setup", axum::routing::get(status).post(create))
        .route("/forms/setup", post(create_by_form))
}
