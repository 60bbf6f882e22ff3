//! Security headers on every response. Pages set their own Content-Security-Policy with a
//! per-request nonce (see `ui::app`); JSON answers get a policy that allows nothing.
//! Scripts (the service worker in particular) are left alone: a CSP on a worker script
//! would govern the worker itself.

use axum::{
    http::{HeaderName, HeaderValue, header},
    response::Response,
};

const FIXED: [(HeaderName, &str); 4] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "same-origin"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=()",
    ),
];

/// For answers that went out over HTTPS: browsers then refuse plain HTTP to this host
/// for a year, so a network in the middle cannot strip TLS from a later visit.
pub fn add_hsts(res: &mut Response) {
    res.headers_mut()
        .entry(header::STRICT_TRANSPORT_SECURITY)
        .or_insert(HeaderValue::from_static("max-age=31536000"));
}

pub fn add(res: &mut Response) {
    let h = res.headers_mut();
    for (name, value) in FIXED {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    }
    let is_json = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        h.entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(HeaderValue::from_static(
                "default-src 'none'; frame-ancestors 'none'",
            ));
    }
}
