//! Session tokens and the cookie that carries them.
//!
//! The cookie holds 256 random bits; the database holds only their SHA-256, so reading the
//! sessions table does not let anyone sign in. A new token is issued at every sign-in
//! (the old one is deleted), which defeats session fixation.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use http::HeaderMap;
use sha2::{Digest, Sha256};

pub const COOKIE_NAME: &str = "headroom_session";
/// The name over HTTPS: browsers accept a `__Host-` cookie only with `Secure`, `Path=/`
/// and no `Domain`, so a sibling subdomain or a plain-HTTP page cannot plant or shadow it.
pub const SECURE_COOKIE_NAME: &str = "__Host-headroom_session";

/// A fresh random token for a cookie.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database stores for `token`.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The session token sent by the browser, if any.
pub fn token_from_headers(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SECURE_COOKIE_NAME || *name == COOKIE_NAME)
        .map(|(_, value)| value)
        // A real token is 43 URL-safe characters; anything else is not worth a query.
        .filter(|v| {
            v.len() == 43
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// `Set-Cookie` value that stores `token` for `max_age_secs`.
pub fn set_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    if secure {
        format!(
            "{SECURE_COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}; Secure"
        )
    } else {
        format!("{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}")
    }
}

/// `Set-Cookie` values that remove the session cookie, under either name.
pub fn clear_cookies(secure: bool) -> Vec<String> {
    let mut out = vec![set_cookie("", 0, false)];
    if secure {
        out.push(set_cookie("", 0, true));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_parse_back_from_cookies() {
        let a = new_token();
        assert_ne!(a, new_token());
        let mut headers = HeaderMap::new();
        let cookie = format!("theme=dark; {COOKIE_NAME}={a}; other=1");
        headers.insert(http::header::COOKIE, cookie.parse().expect("ascii"));
        assert_eq!(token_from_headers(&headers), Some(a.as_str()));
    }

    #[test]
    fn malformed_tokens_are_ignored() {
        let mut headers = HeaderMap::new();
        let cookie = format!("{COOKIE_NAME}=' OR 1=1 --");
        headers.insert(http::header::COOKIE, cookie.parse().expect("ascii"));
        assert_eq!(token_from_headers(&headers), None);
    }

    #[test]
    fn cookie_is_http_only_and_lax_and_host_prefixed_when_secure() {
        let c = set_cookie("abc", 60, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure"));
        assert!(c.starts_with("__Host-headroom_session=abc; Path=/;"), "{c}");
        assert!(!c.contains("Domain"));
        let plain = set_cookie("abc", 60, false);
        assert!(!plain.contains("Secure") && plain.starts_with("headroom_session="));
    }

    #[test]
    fn either_cookie_name_carries_the_token() {
        let a = new_token();
        let mut headers = HeaderMap::new();
        let cookie = format!("{SECURE_COOKIE_NAME}={a}");
        headers.insert(http::header::COOKIE, cookie.parse().expect("ascii"));
        assert_eq!(token_from_headers(&headers), Some(a.as_str()));
    }
}
