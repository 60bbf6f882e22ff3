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
        .find(|(name, _)| *name == COOKIE_NAME)
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
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

/// `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    set_cookie("", 0, secure)
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
    fn cookie_is_http_only_and_lax() {
        let c = set_cookie("abc", 60, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure"));
        assert!(!set_cookie("abc", 60, false).contains("Secure"));
    }
}
