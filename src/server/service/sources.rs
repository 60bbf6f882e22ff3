//! Configuring where a meter's readings are collected from.

use crate::domain::access::MeterAction;
use std::collections::BTreeMap;

use serde::Deserialize;

use crate::{
    domain::{DomainError, json_path::check_path},
    dto::{AttemptView, SourceView},
    server::{
        auth::CurrentUser,
        outbound::{self, Refused},
        service::{ServiceError, ServiceResult, meters, time},
        state::AppState,
        storage::sources::SourceRow,
    },
};

/// A source as a client or the form describes it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct SourceInput {
    pub kind: Option<String>,
    pub url: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// `None` keeps the stored token; `Some("")` removes it.
    pub bearer_token: Option<String>,
    pub used_path: Option<String>,
    pub remaining_path: Option<String>,
    pub quota_path: Option<String>,
    pub scale: Option<f64>,
    pub interval_secs: Option<i64>,
    pub timeout_secs: Option<i64>,
    pub enabled: Option<bool>,
}

fn view(s: &SourceRow) -> SourceView {
    let header_names = serde_json::from_str::<BTreeMap<String, String>>(&s.headers)
        .map(|h| h.into_keys().collect())
        .unwrap_or_default();
    SourceView {
        kind: s.kind.clone(),
        url: s.url.clone(),
        header_names,
        has_bearer_token: s.bearer_token.is_some(),
        used_path: s.used_path.clone(),
        remaining_path: s.remaining_path.clone(),
        quota_path: s.quota_path.clone(),
        scale: s.scale,
        interval_secs: s.interval_secs,
        timeout_secs: s.timeout_secs,
        enabled: s.enabled,
        next_run: (s.next_due_at > 0).then(|| time::rfc3339(s.next_due_at)),
        consecutive_failures: s.consecutive_failures,
    }
}

fn blank_to_none(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

pub async fn get(
    state: &AppState,
    user: &CurrentUser,
    meter_id: i64,
) -> ServiceResult<Option<SourceView>> {
    meters::allowed(state, user, meter_id, MeterAction::Manage).await?;
    Ok(state.db.source(meter_id).await?.as_ref().map(view))
}

pub async fn attempts(
    state: &AppState,
    user: &CurrentUser,
    meter_id: i64,
    limit: i64,
) -> ServiceResult<Vec<AttemptView>> {
    meters::allowed(state, user, meter_id, MeterAction::Manage).await?;
    Ok(state
        .db
        .attempts(meter_id, limit)
        .await?
        .into_iter()
        .map(|a| AttemptView {
            started_at: time::rfc3339(a.started_at),
            attempt: a.attempt,
            status: a.status,
            response_ms: a.response_ms,
            http_status: a.http_status,
            error: a.error,
        })
        .collect())
}

/// Validates and stores a meter's source; it runs at the next pass of the collector.
pub async fn put(
    state: &AppState,
    user: &CurrentUser,
    meter_id: i64,
    input: &SourceInput,
) -> ServiceResult<SourceView> {
    meters::allowed(state, user, meter_id, MeterAction::Manage).await?;
    let existing = state.db.source(meter_id).await?;
    let mut errors = Vec::new();
    let kind = match input.kind.as_deref() {
        Some(k @ ("http" | "simulator")) => k.to_string(),
        _ => {
            errors.push(DomainError::new(
                "kind",
                "must be \"http\" or \"simulator\"",
            ));
            String::new()
        }
    };
    let url = blank_to_none(&input.url);
    let used_path = blank_to_none(&input.used_path);
    if kind == "http" {
        // Names are checked when fetched: one may not resolve yet, and what it resolves
        // to may change. An IP literal can be judged now.
        let policy = outbound::Policy::from_settings(&state.settings);
        match url.as_deref().map(reqwest::Url::parse) {
            Some(Ok(u)) => match policy.check_url(&u) {
                Ok(()) => {}
                Err(Refused::Address) => errors.push(DomainError::new(
                    "url",
                    "points at a local, private or reserved address, which the server does not fetch from (an administrator can open ranges with HEADROOM_OUTBOUND_ALLOW)",
                )),
                Err(_) => errors.push(DomainError::new(
                    "url",
                    "must be an http:// or https:// address",
                )),
            },
            Some(Err(_)) => errors.push(DomainError::new(
                "url",
                "must be an http:// or https:// address",
            )),
            None => errors.push(DomainError::new("url", "is required for an HTTP source")),
        }
        if used_path.is_none() {
            errors.push(DomainError::new(
                "used_path",
                "is required: where the answer says how much is used",
            ));
        }
    }
    for (field, path) in [
        ("used_path", &used_path),
        ("remaining_path", &blank_to_none(&input.remaining_path)),
        ("quota_path", &blank_to_none(&input.quota_path)),
    ] {
        if let Some(Err(e)) = path.as_deref().map(check_path) {
            errors.push(DomainError::new(
                field,
                format!("{e} (e.g. data.usage.used_mb or plans[0].used)"),
            ));
        }
    }
    for (name, value) in &input.headers {
        if name.eq_ignore_ascii_case("authorization") {
            errors.push(DomainError::new(
                "headers",
                format!("{name:?} is not allowed: put a bearer token in its own field"),
            ));
        } else if outbound::headers::is_refused(name) {
            errors.push(DomainError::new(
                "headers",
                format!(
                    "{name:?} is not allowed: the server sets identity, connection and proxy headers itself"
                ),
            ));
        } else if http::HeaderName::from_bytes(name.as_bytes()).is_err()
            || http::HeaderValue::from_str(value).is_err()
        {
            errors.push(DomainError::new(
                "headers",
                format!("{name:?} is not a valid header"),
            ));
        }
    }
    let scale = input.scale.unwrap_or(1.0);
    if !(scale.is_finite() && scale > 0.0) {
        errors.push(DomainError::new("scale", "must be a number above 0"));
    }
    let interval_secs = input.interval_secs.unwrap_or(600);
    if !(60..=86_400).contains(&interval_secs) {
        errors.push(DomainError::new(
            "interval_secs",
            "must be from 60 seconds to a day",
        ));
    }
    let timeout_secs = input.timeout_secs.unwrap_or(30);
    if !(1..=120).contains(&timeout_secs) {
        errors.push(DomainError::new(
            "timeout_secs",
            "must be from 1 to 120 seconds",
        ));
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let bearer_token = match &input.bearer_token {
        None => existing.as_ref().and_then(|s| s.bearer_token.clone()),
        Some(t) if t.trim().is_empty() => None,
        Some(t) => Some(t.trim().to_string()),
    };
    let row = SourceRow {
        meter_id,
        kind,
        url,
        headers: serde_json::to_string(&input.headers).unwrap_or_else(|_| "{}".into()),
        bearer_token,
        used_path,
        remaining_path: blank_to_none(&input.remaining_path),
        quota_path: blank_to_none(&input.quota_path),
        scale,
        interval_secs,
        timeout_secs,
        enabled: input.enabled.unwrap_or(true),
        // Due at once, so the user sees whether it works.
        next_due_at: state.clock.now_secs(),
        consecutive_failures: 0,
    };
    state.db.put_source(&row).await?;
    tracing::info!(meter.id = meter_id, kind = %row.kind, "source saved");
    Ok(view(&row))
}

pub async fn delete(state: &AppState, user: &CurrentUser, meter_id: i64) -> ServiceResult<()> {
    meters::allowed(state, user, meter_id, MeterAction::Manage).await?;
    state.db.delete_source(meter_id).await?;
    Ok(())
}
