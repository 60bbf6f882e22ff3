//! The forms of the link pages: accepting an invitation (`/invite/{secret}`) and setting
//! a new password (`/reset/{secret}`).

use std::net::SocketAddr;

use axum::{
    Extension, Router,
    extract::{ConnectInfo, Request, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::post,
};

use crate::server::{
    auth::CurrentUser,
    http::{
        error::ApiError,
        extract::Path,
        forms::{feedback, read_form, rerender},
        routes::auth::caller,
    },
    service::{
        ServiceError,
        invites::{self, Accepted, Invitee},
    },
    state::AppState,
};

async fn accept(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    user: Option<Extension<CurrentUser>>,
    Path(secret): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let who = caller(&state, connect, req.headers());
    let (parts, form) = read_form(&state, req).await?;
    let invitee = Invitee {
        email: form.get("email").unwrap_or_default(),
        display_name: form.get("display_name").unwrap_or_default(),
        password: form.all("password").first().copied().unwrap_or_default(),
    };
    let user = user.map(|Extension(u)| u);
    let result = invites::accept(
        &state,
        &secret,
        user.as_ref(),
        &invitee,
        who.ip,
        &who.user_agent,
    )
    .await;
    match result {
        Ok(Accepted::Account { token, .. }) => {
            let mut res = Redirect::to("/").into_response();
            who.set_session_cookie(&state, &mut res, &token)?;
            Ok(res)
        }
        Ok(Accepted::Joined { .. }) => Ok(Redirect::to("/account?joined=1").into_response()),
        Err(ServiceError::Invalid(errors)) => {
            let mut values = form.values();
            values.remove("password");
            Ok(rerender(
                &state,
                parts,
                &format!("/invite/{secret}"),
                feedback("invite", values, &errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await)
        }
        Err(e) => Err(e.into()),
    }
}

async fn reset(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, form) = read_form(&state, req).await?;
    let password = form.all("password").first().copied().unwrap_or_default();
    match invites::reset_password(&state, &secret, password).await {
        Ok(_) => Ok(Redirect::to("/login?reset=1").into_response()),
        Err(ServiceError::Invalid(errors)) => Ok(rerender(
            &state,
            parts,
            &format!("/reset/{secret}"),
            feedback("reset", Default::default(), &errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await),
        Err(e) => Err(e.into()),
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/forms/invite/{secret}", post(accept))
        .route("/forms/reset/{secret}", post(reset))
}
