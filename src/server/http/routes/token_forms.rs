//! The HTML forms of the tokens page: create (the token is shown once) and revoke.

use crate::server::http::extract::Path;
use axum::{
    Router,
    extract::{Request, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use leptos::prelude::provide_context;

use crate::{
    domain::DomainError,
    server::{
        http::{
            error::ApiError,
            extract::FormUser,
            forms::{feedback, read_form, rerender, rerender_with},
        },
        service::{ServiceError, tokens},
        state::AppState,
    },
};

async fn create(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, form) = read_form(&state, req).await?;
    let mut ids = Vec::new();
    let mut errors = Vec::new();
    for raw in form.all("meter_ids") {
        match raw.parse::<i64>() {
            Ok(id) => ids.push(id),
            Err(_) => errors.push(DomainError::new("meter_ids", "choose meters from the list")),
        }
    }
    let scope = match form.get("scope").unwrap_or("ingest") {
        "read" => tokens::Scope::Read,
        "ingest" => tokens::Scope::Ingest,
        _ => {
            errors.push(DomainError::new("scope", "choose what the token may do"));
            tokens::Scope::Ingest
        }
    };
    let expires_in_days = match form.number("expires_in_days") {
        Ok(days) => days.map(|d| d.round() as i64),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let result = if errors.is_empty() {
        let spec = tokens::TokenSpec {
            name: form.get("name").unwrap_or_default(),
            scope,
            meter_ids: &ids,
            expires_in_days,
        };
        tokens::create(&state, &user, &spec).await
    } else {
        Err(ServiceError::Invalid(errors))
    };
    match result {
        Ok(created) => Ok(rerender_with(
            &state,
            parts,
            "/settings/tokens",
            StatusCode::OK,
            move || provide_context(created.clone()),
        )
        .await),
        Err(ServiceError::Invalid(errors)) => Ok(rerender(
            &state,
            parts,
            "/settings/tokens",
            feedback("token", form.values(), &errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await),
        Err(e) => Err(e.into()),
    }
}

async fn revoke(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    tokens::revoke(&state, &user, id).await?;
    Ok(Redirect::to("/settings/tokens").into_response())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/tokens", post(create))
        .route("/settings/tokens/{id}/revoke", post(revoke))
}
