//! `If-None-Match` → `304 Not Modified` for any successful GET whose response carries an
//! ETag (the JSON APIs answer from cached bytes with one). Comparison is weak, as RFC 9110
//! asks for `If-None-Match`, so a compressed copy's weakened tag still matches.

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::Response,
};

fn opaque(tag: &str) -> &str {
    tag.trim().trim_start_matches("W/")
}

/// Does the `If-None-Match` list name `etag`?
pub fn matches(if_none_match: &str, etag: &str) -> bool {
    let etag = opaque(etag);
    if_none_match
        .split(',')
        .any(|t| t.trim() == "*" || opaque(t) == etag)
}

/// The `If-None-Match` of a GET or HEAD, taken before the request moves on.
pub fn wanted(req: &Request) -> Option<HeaderValue> {
    matches!(*req.method(), Method::GET | Method::HEAD)
        .then(|| req.headers().get(header::IF_NONE_MATCH).cloned())
        .flatten()
}

/// `res`, or a bodiless 304 carrying its validators when the client already has it.
pub fn answer(wanted: Option<HeaderValue>, res: Response) -> Response {
    let Some(wanted) = wanted.as_ref().and_then(|v| v.to_str().ok()) else {
        return res;
    };
    let hit = res.status() == StatusCode::OK
        && res
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|etag| matches(wanted, etag));
    if !hit {
        return res;
    }
    let mut headers = HeaderMap::new();
    for name in [
        header::ETAG,
        header::CACHE_CONTROL,
        header::VARY,
        header::EXPIRES,
    ] {
        if let Some(v) = res.headers().get(&name) {
            headers.insert(name, v.clone());
        }
    }
    let (mut parts, _) = res.into_parts();
    parts.status = StatusCode::NOT_MODIFIED;
    parts.headers = headers;
    // The extensions stay: they are the server's notes on the answer (a replay ticket,
    // say), and a 304 answers the same request.
    Response::from_parts(parts, Body::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_comparison_over_a_list() {
        assert!(matches("\"abc\"", "\"abc\""));
        assert!(matches("W/\"abc\"", "\"abc\""));
        assert!(matches("\"x\", W/\"abc\"", "W/\"abc\""));
        assert!(matches("*", "\"abc\""));
        assert!(!matches("\"abd\"", "\"abc\""));
    }
}
