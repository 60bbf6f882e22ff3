//! HTML form posts that answer like a page: on success they redirect (303, so a reload
//! does not post again); on invalid input they render the same page again, with the values
//! as typed and a message per field, and status 422. No JavaScript needed for either.

use std::collections::BTreeMap;

use axum::{
    Form,
    body::Body,
    extract::{FromRequest, Request},
    http::{Method, StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use leptos::prelude::*;

use crate::{
    domain::DomainError,
    dto::FormFeedback,
    server::{auth::CurrentUser, http::error::ApiError, state::AppState},
    ui::app::shell,
};

/// Makes the request's user visible to Leptos components during server rendering, as the
/// server-side [`CurrentUser`] and as the [`SessionUser`](crate::dto::SessionUser) DTO.
pub fn provide_request_context() {
    if let Some(user) =
        use_context::<Parts>().and_then(|p| p.extensions.get::<CurrentUser>().cloned())
    {
        provide_context(user.to_dto());
        provide_context(user);
    }
}

/// The fields of a posted form, in order; a name may repeat (checkbox groups).
#[derive(Debug, Clone, Default)]
pub struct FormData(Vec<(String, String)>);

impl FormData {
    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The values to show again when the form is re-rendered.
    pub fn values(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (k, v) in &self.0 {
            out.entry(k.clone())
                .and_modify(|e: &mut String| {
                    e.push(',');
                    e.push_str(v);
                })
                .or_insert_with(|| v.clone());
        }
        out
    }

    /// A number field: `None` when blank, an error naming the field when not a number.
    pub fn number(&self, name: &'static str) -> Result<Option<f64>, DomainError> {
        self.get(name)
            .map(|v| {
                v.replace(['\u{202F}', ' ', '_'], "")
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .ok_or_else(|| DomainError::new(name, "must be a number"))
            })
            .transpose()
    }
}

/// Splits a form post into its parts (kept for re-rendering) and its fields.
pub async fn read_form(state: &AppState, req: Request) -> Result<(Parts, FormData), ApiError> {
    let (parts, body) = req.into_parts();
    let again = Request::from_parts(parts.clone(), body);
    match Form::<Vec<(String, String)>>::from_request(again, state).await {
        Ok(Form(pairs)) => Ok((parts, FormData(pairs))),
        Err(e) => Err(ApiError::invalid("form", e.body_text())),
    }
}

/// Feedback for `form` from field errors and the submitted values.
pub fn feedback(
    form: &str,
    values: BTreeMap<String, String>,
    errors: &[DomainError],
) -> FormFeedback {
    let mut by_field = BTreeMap::new();
    for e in errors {
        by_field
            .entry(e.field.to_string())
            .or_insert_with(|| e.message.clone());
    }
    FormFeedback {
        form: form.to_string(),
        values,
        errors: by_field,
    }
}

/// Renders the page at `page` (the page holding the form) with `feedback` in context,
/// answering with `status`. The request keeps its cookies and session.
pub async fn rerender(
    state: &AppState,
    parts: Parts,
    page: &str,
    feedback: FormFeedback,
    status: StatusCode,
) -> Response {
    rerender_with(state, parts, page, status, move || {
        provide_context(feedback.clone())
    })
    .await
}

/// Like [`rerender`], with whatever `context` provides (e.g. a token shown once).
pub async fn rerender_with(
    state: &AppState,
    mut parts: Parts,
    page: &str,
    status: StatusCode,
    context: impl Fn() + Clone + Send + Sync + 'static,
) -> Response {
    parts.method = Method::GET;
    match page.parse() {
        Ok(uri) => parts.uri = uri,
        Err(_) => return ApiError::NotFound.into_response(),
    }
    let options = state.leptos.clone();
    let state = state.clone();
    let handler = leptos_axum::render_app_to_stream_in_order_with_context(
        move || {
            provide_context(state.clone());
            provide_request_context();
            context();
        },
        move || shell(options.clone()),
    );
    let mut res = handler(Request::from_parts(parts, Body::empty())).await;
    if res.status() == StatusCode::OK {
        *res.status_mut() = status;
    }
    res
}
