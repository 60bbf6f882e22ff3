//! `/api/v1/admin/tips` (admins only) and the forms of the `/admin/tips` page.

use crate::server::http::extract::Path;
use axum::{
    Json, Router,
    extract::{Request, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post, put},
};

use crate::server::{
    http::{
        error::ApiError,
        extract::{AdminUser, FormUser, JsonBody},
        forms::{feedback, read_form, rerender},
    },
    service::{
        ServiceError,
        tips::{self, TipInput, TipView},
    },
    state::AppState,
};

async fn list(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
) -> Result<Json<Vec<TipView>>, ApiError> {
    Ok(Json(tips::list(&state).await?))
}

async fn create(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    JsonBody(input): JsonBody<TipInput>,
) -> Result<(StatusCode, Json<TipView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(tips::create(&state, &input).await?),
    ))
}

async fn update(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<TipInput>,
) -> Result<Json<TipView>, ApiError> {
    Ok(Json(tips::update(&state, id, &input).await?))
}

/// The page's form: a new tip, or changes to tip `id` (the form says which).
async fn form(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    req: Request,
) -> Result<Response, ApiError> {
    if !user.is_admin() {
        return Err(ApiError::Forbidden);
    }
    let (parts, form) = read_form(&state, req).await?;
    let input = TipInput {
        title: form.get("title").unwrap_or_default().to_string(),
        body: form.get("body").unwrap_or_default().to_string(),
        active: form.get("active").is_some(),
    };
    let (result, which) = match form.get("id").and_then(|v| v.parse::<i64>().ok()) {
        Some(id) => (tips::update(&state, id, &input).await, format!("tip-{id}")),
        None => (
            tips::create(
                &state,
                &TipInput {
                    active: true,
                    ..input
                },
            )
            .await,
            "tip-new".to_string(),
        ),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/admin/tips?saved=1").into_response()),
        Err(ServiceError::Invalid(errors)) => Ok(rerender(
            &state,
            parts,
            "/admin/tips",
            feedback(&which, form.values(), &errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await),
        Err(e) => Err(e.into()),
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/tips", get(list).post(create))
        .route("/api/v1/admin/tips/{id}", put(update))
        .route("/admin/tips", post(form))
}
