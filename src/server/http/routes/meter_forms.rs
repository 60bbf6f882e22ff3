//! The HTML forms of the meter pages: add, edit, archive, and a reading by hand.

use crate::domain::access::MeterAction;
use crate::server::http::extract::Path;
use axum::{
    Router,
    extract::{Request, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use jiff::civil::DateTime;
use serde_json::json;

use crate::{
    domain::{DomainError, meter::MeterDraft},
    server::{
        http::{
            error::ApiError,
            extract::FormUser,
            forms::{FormData, feedback, read_form, rerender},
        },
        service::{
            ServiceError, meters,
            outlook::timezone,
            readings::{self, Writer},
            shares,
            sources::{self, SourceInput},
        },
        state::AppState,
    },
};

/// The reset rule the radio buttons and selects describe.
fn reset_rule(form: &FormData) -> Result<Option<String>, DomainError> {
    Ok(match form.get("reset_kind") {
        Some("monthly") => Some(format!("monthly:{}", form.get("reset_day").unwrap_or("1"))),
        Some("weekly") => Some(format!(
            "weekly:{}",
            form.get("reset_weekday").unwrap_or("mon")
        )),
        Some("every") => {
            let days = form.get("every_days").unwrap_or_default();
            let anchor = form
                .get("anchor")
                .ok_or_else(|| DomainError::new("anchor", "pick a day on which a period starts"))?;
            Some(format!("every:{days}:{anchor}"))
        }
        _ => None,
    })
}

/// The meter the form describes, or the problems that stop it being read at all.
fn draft(form: &FormData, kind: &str) -> Result<MeterDraft, Vec<DomainError>> {
    let mut errors = Vec::new();
    let mut number =
        |name: &'static str| form.number(name).map_err(|e| errors.push(e)).ok().flatten();
    let mut d = MeterDraft {
        kind: Some(kind.to_string()),
        name: form.get("name").map(str::to_owned),
        unit: form.get("unit").map(str::to_owned),
        timezone: form.get("timezone").map(str::to_owned),
        ..MeterDraft::default()
    };
    if kind == "quota" {
        d.quota = number("quota");
        match reset_rule(form) {
            Ok(rule) => d.reset_rule = rule,
            Err(e) => errors.push(e),
        }
    } else {
        d.range_min = number("range_min");
        d.range_max = number("range_max");
    }
    if errors.is_empty() {
        Ok(d)
    } else {
        Err(errors)
    }
}

fn invalid(errors: Vec<DomainError>) -> ServiceError {
    ServiceError::Invalid(errors)
}

async fn create(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, form) = read_form(&state, req).await?;
    let kind = form.get("kind").unwrap_or_default().to_string();
    let result = match draft(&form, &kind) {
        Ok(d) => meters::create(&state, &user, &d).await,
        Err(e) => Err(invalid(e)),
    };
    match result {
        Ok(m) => Ok(Redirect::to(&format!("/meters/{}?saved=meter", m.meter.id)).into_response()),
        Err(ServiceError::Invalid(errors)) => Ok(rerender(
            &state,
            parts,
            "/meters/new",
            feedback("meter", form.values(), &errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await),
        Err(e) => Err(e.into()),
    }
}

async fn update(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Response, ApiError> {
    let current = meters::allowed(&state, &user, id, MeterAction::Edit).await?;
    let (parts, form) = read_form(&state, req).await?;
    let result = match draft(&form, &current.kind) {
        Ok(d) => meters::update(&state, &user, id, &d).await,
        Err(e) => Err(invalid(e)),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/meters/{id}?saved=meter")).into_response()),
        Err(ServiceError::Invalid(errors)) => Ok(rerender(
            &state,
            parts,
            &format!("/meters/{id}"),
            feedback("meter", form.values(), &errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await),
        Err(e) => Err(e.into()),
    }
}

async fn archive(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    meters::archive(&state, &user, id).await?;
    Ok(Redirect::to(&format!("/meters?archived={id}")).into_response())
}

/// The sharing form: a select for the whole household and one per member
/// (`member_<id>`), each `none`, `viewer` or `editor`.
async fn sharing(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Response, ApiError> {
    meters::allowed(&state, &user, id, MeterAction::Manage).await?;
    let (parts, form) = read_form(&state, req).await?;
    let members = form
        .values()
        .into_iter()
        .filter_map(|(k, v)| {
            let user_id = k.strip_prefix("member_")?.parse().ok()?;
            (v != "none").then_some(shares::MemberRole { user_id, role: v })
        })
        .collect();
    let request = shares::SharingRequest {
        household_role: form.get("household_role").map(str::to_owned),
        members,
    };
    match shares::put(&state, &user, id, &request).await {
        Ok(_) => Ok(Redirect::to(&format!("/meters/{id}?saved=sharing")).into_response()),
        Err(ServiceError::Invalid(errors)) => Ok(rerender(
            &state,
            parts,
            &format!("/meters/{id}"),
            feedback("sharing", form.values(), &errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await),
        Err(e) => Err(e.into()),
    }
}

/// A reading typed in by hand. The time is local to the meter (what `datetime-local` gives).
async fn add_reading(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Response, ApiError> {
    let meter = meters::allowed(&state, &user, id, MeterAction::WriteReadings).await?;
    let (parts, form) = read_form(&state, req).await?;
    let mut errors = Vec::new();
    // `at` (Unix seconds) is sent by the page when it replays a reading queued offline:
    // the reading keeps the time it was taken, and a replay that is repeated (the answer
    // was lost) rewrites the same (meter, time) instead of adding a second reading.
    let at = form
        .get("at")
        .and_then(|raw| raw.parse::<i64>().ok())
        .filter(|&t| t > 0 && t <= state.clock.now_secs() + 300);
    let ts = match form.get("timestamp") {
        None => Some(at.unwrap_or_else(|| state.clock.now_secs())),
        Some(raw) => raw
            .parse::<DateTime>()
            .ok()
            .and_then(|dt| dt.to_zoned(timezone(&meter.timezone)).ok())
            .map(|z| z.timestamp().as_second())
            .or_else(|| {
                errors.push(DomainError::new("timestamp", "must be a date and time"));
                None
            }),
    };
    let value = match form.number("value") {
        Ok(Some(v)) => Some(v),
        Ok(None) => {
            errors.push(DomainError::new("value", "is required"));
            None
        }
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if let (Some(ts), Some(value), true) = (ts, value, errors.is_empty()) {
        let entry = json!({"meter_id": id, "timestamp": ts, "value": value});
        match readings::accept(&state, Writer::User(&user), &[entry], false).await {
            Ok(_) => {
                return Ok(Redirect::to(&format!("/meters/{id}?saved=reading")).into_response());
            }
            Err(ServiceError::Items { items, .. }) => {
                errors.extend(
                    items
                        .into_iter()
                        .map(|i| DomainError::new(i.field, i.message)),
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(rerender(
        &state,
        parts,
        &format!("/meters/{id}"),
        feedback("reading", form.values(), &errors),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await)
}

/// The collection form: where readings come from (`none` removes the source).
async fn source(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Response, ApiError> {
    meters::allowed(&state, &user, id, MeterAction::Manage).await?;
    let (parts, form) = read_form(&state, req).await?;
    let mut errors = Vec::new();
    if form.get("source_kind").is_none_or(|k| k == "none") {
        sources::delete(&state, &user, id).await?;
        return Ok(Redirect::to(&format!("/meters/{id}?saved=source")).into_response());
    }
    let mut headers = std::collections::BTreeMap::new();
    for line in form
        .get("headers")
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        match line.split_once(':') {
            Some((k, v)) => {
                headers.insert(k.trim().to_string(), v.trim().to_string());
            }
            None => errors.push(DomainError::new(
                "headers",
                format!("{line:?} should look like Name: value"),
            )),
        }
    }
    let mut int = |name: &'static str, factor: i64| match form.number(name) {
        Ok(v) => v.map(|v| (v * factor as f64).round() as i64),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let interval_secs = int("interval_minutes", 60);
    let timeout_secs = int("timeout_secs", 1);
    let scale = form.number("scale").unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let input = SourceInput {
        kind: form.get("source_kind").map(str::to_owned),
        url: form.get("url").map(str::to_owned),
        headers,
        // An empty password field keeps the stored token; "clear" removes it.
        bearer_token: if form.get("clear_token").is_some() {
            Some(String::new())
        } else {
            form.get("bearer_token").map(str::to_owned)
        },
        used_path: form.get("used_path").map(str::to_owned),
        remaining_path: form.get("remaining_path").map(str::to_owned),
        quota_path: form.get("quota_path").map(str::to_owned),
        scale,
        interval_secs,
        timeout_secs,
        enabled: Some(form.get("enabled").is_some()),
    };
    let result = if errors.is_empty() {
        sources::put(&state, &user, id, &input).await
    } else {
        Err(ServiceError::Invalid(errors))
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/meters/{id}?saved=source")).into_response()),
        Err(ServiceError::Invalid(errors)) => {
            // The form calls them by their form names.
            let errors = errors
                .into_iter()
                .map(|e| match e.field {
                    "kind" => DomainError::new("source_kind", e.message),
                    "interval_secs" => DomainError::new("interval_minutes", e.message),
                    _ => e,
                })
                .collect::<Vec<_>>();
            Ok(rerender(
                &state,
                parts,
                &format!("/meters/{id}"),
                feedback("source", form.values(), &errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await)
        }
        Err(e) => Err(e.into()),
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/meters/new", post(create))
        .route("/meters/{id}/source", post(source))
        .route("/meters/{id}", post(update))
        .route("/meters/{id}/archive", post(archive))
        .route("/meters/{id}/sharing", post(sharing))
        .route("/meters/{id}/readings", post(add_reading))
}
