//! The HTML forms of `/account`: display name, password, and signing sessions out.

use std::net::SocketAddr;

use axum::{
    Extension, Router,
    extract::{ConnectInfo, Request, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::post,
};

use crate::server::{
    http::{
        error::ApiError,
        extract::{FormUser, Path},
        forms::{feedback, read_form, rerender},
        middleware::session::SessionToken,
        routes::auth::caller,
    },
    service::{ServiceError, account, sessions},
    state::AppState,
};

type Token = Option<Extension<SessionToken>>;

fn token_of(token: &Token) -> Option<&str> {
    token.as_ref().map(|Extension(SessionToken(t))| t.as_str())
}

async fn rename(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, form) = read_form(&state, req).await?;
    let name = form.get("display_name").unwrap_or_default();
    match account::rename(&state, &user, name).await {
        Ok(()) => Ok(Redirect::to("/account?saved=name").into_response()),
        Err(ServiceError::Invalid(errors)) => Ok(rerender(
            &state,
            parts,
            "/account",
            feedback("name", form.values(), &errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await),
        Err(e) => Err(e.into()),
    }
}

async fn change_password(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    FormUser(user): FormUser,
    token: Token,
    req: Request,
) -> Result<Response, ApiError> {
    let who = caller(&state, connect, req.headers());
    let (parts, form) = read_form(&state, req).await?;
    // Passwords are taken as typed: a space at either end is part of them.
    let raw = |name: &str| form.all(name).first().copied().unwrap_or_default();
    let result = account::change_password(
        &state,
        &user,
        token_of(&token),
        raw("current_password"),
        raw("new_password"),
        who.ip,
    )
    .await;
    match result {
        Ok(n) => {
            Ok(Redirect::to(&format!("/account?saved=password&signed_out={n}")).into_response())
        }
        Err(ServiceError::Invalid(errors)) => Ok(rerender(
            &state,
            parts,
            "/account",
            // Nothing typed into a password field is written back into the page.
            feedback("password", Default::default(), &errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await),
        Err(e) => Err(e.into()),
    }
}

async fn sign_out_one(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    token: Token,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if sessions::sign_out(&state, &user, token_of(&token), &id).await? {
        return Ok(Redirect::to("/login?signed_out=1").into_response());
    }
    Ok(Redirect::to("/account?signed_out=1").into_response())
}

async fn sign_out_others(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    token: Token,
) -> Result<Response, ApiError> {
    let n = sessions::sign_out_others(&state, &user, token_of(&token)).await?;
    Ok(Redirect::to(&format!("/account?signed_out={n}")).into_response())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/forms/account/name", post(rename))
        .route("/forms/account/password", post(change_password))
        .route(
            "/forms/account/sessions/others/sign-out",
            post(sign_out_others),
        )
        .route("/forms/account/sessions/{id}/sign-out", post(sign_out_one))
}
