//! The HTML forms of the notifications page: mark read (one, or all that were shown),
//! quiet hours, the webhook (its secret shown once, a test, removal), resending a dead
//! letter and removing a push device.

use axum::{
    Router,
    extract::{Request, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use leptos::prelude::provide_context;

use crate::{
    domain::{DomainError, alerts::AlertSettings},
    server::{
        http::{
            error::ApiError,
            extract::{FormUser, Path},
            forms::{feedback, read_form, rerender, rerender_with},
        },
        service::{ServiceError, notifications, push},
        state::AppState,
    },
};

const PAGE: &str = "/notifications";

fn back() -> Response {
    Redirect::to(PAGE).into_response()
}

async fn read_one(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    notifications::mark_read(&state, &user, id).await?;
    Ok(back())
}

async fn read_all(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    req: Request,
) -> Result<Response, ApiError> {
    let (_, form) = read_form(&state, req).await?;
    // Only what the page showed: a notification that arrived since stays unread.
    let up_to = form.get("up_to").and_then(|v| v.parse::<i64>().ok());
    notifications::mark_all_read(&state, &user, up_to).await?;
    Ok(back())
}

async fn settings(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, form) = read_form(&state, req).await?;
    let result = notifications::put_settings(
        &state,
        &user,
        form.get("quiet_start"),
        form.get("quiet_end"),
        form.get("urgent_through").is_some(),
    )
    .await;
    match result {
        Ok(_) => Ok(back()),
        Err(ServiceError::Invalid(errors)) => Ok(rerender(
            &state,
            parts,
            PAGE,
            feedback("quiet", form.values(), &errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await),
        Err(e) => Err(e.into()),
    }
}

async fn webhook(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, form) = read_form(&state, req).await?;
    match notifications::set_webhook(&state, &user, form.get("url").unwrap_or_default()).await {
        Ok(created) => Ok(rerender_with(&state, parts, PAGE, StatusCode::OK, move || {
            provide_context(created.clone())
        })
        .await),
        Err(ServiceError::Invalid(errors)) => Ok(rerender(
            &state,
            parts,
            PAGE,
            feedback("webhook", form.values(), &errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await),
        Err(e) => Err(e.into()),
    }
}

async fn test(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, _) = read_form(&state, req).await?;
    let tested = notifications::test_webhook(&state, &user).await?;
    Ok(rerender_with(&state, parts, PAGE, StatusCode::OK, move || {
        provide_context(tested.clone())
    })
    .await)
}

async fn delete(
    State(state): State<AppState>,
    FormUser(user): FormUser,
) -> Result<Response, ApiError> {
    notifications::delete_webhook(&state, &user).await?;
    Ok(back())
}

async fn resend(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    notifications::resend(&state, &user, id).await?;
    Ok(back())
}

/// "Stop notifying": removes one of the user's push devices.
async fn remove_device(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    push::unsubscribe(&state, &user, id).await?;
    Ok(back())
}

/// The meter page's rules form: checkboxes are present only when ticked.
async fn meter_rules(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, form) = read_form(&state, req).await?;
    let mut errors = Vec::new();
    let mut levels = Vec::new();
    for part in form.get("quota_levels").unwrap_or_default().split(',') {
        let part = part.trim().trim_end_matches('%').trim();
        if part.is_empty() {
            continue;
        }
        match part.parse::<u8>() {
            Ok(l) => levels.push(l),
            Err(_) => errors.push(DomainError::new(
                "quota_levels",
                "whole percentages, comma-separated",
            )),
        }
    }
    let mut number = |name: &'static str, default: u32| match form.get(name).map(str::parse::<u32>)
    {
        None => default,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            errors.push(DomainError::new(name, "a whole number"));
            default
        }
    };
    let defaults = AlertSettings::default();
    let settings = AlertSettings {
        enabled: form.get("enabled").is_some(),
        quota_levels: levels,
        over_today: form.get("over_today").is_some(),
        run_out: form.get("run_out").is_some(),
        range_minutes: number("range_minutes", defaults.range_minutes),
        range_hysteresis: defaults.range_hysteresis,
        collector_failures: number("collector_failures", defaults.collector_failures),
    };
    let result = if errors.is_empty() {
        notifications::put_meter_rules(&state, &user, id, settings).await
    } else {
        Err(ServiceError::Invalid(errors))
    };
    let page = format!("/meters/{id}");
    match result {
        Ok(_) => Ok(Redirect::to(&format!("{page}?saved=rules")).into_response()),
        Err(ServiceError::Invalid(errors)) => Ok(rerender(
            &state,
            parts,
            &page,
            feedback("rules", form.values(), &errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await),
        Err(e) => Err(e.into()),
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notifications/read-all", post(read_all))
        .route("/notifications/{id}/read", post(read_one))
        .route("/notifications/settings", post(settings))
        .route("/notifications/webhook", post(webhook))
        .route("/notifications/webhook/test", post(test))
        .route("/notifications/webhook/delete", post(delete))
        .route("/notifications/deliveries/{id}/resend", post(resend))
        .route("/notifications/devices/{id}/delete", post(remove_device))
        .route("/meters/{id}/rules", post(meter_rules))
}
