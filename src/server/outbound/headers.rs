//! Which request headers a user may configure on a fetch.
//!
//! Headers that say who or where the request is for (`Host`, `Forwarded`, …), carry
//! someone's credentials (`Cookie`, `Authorization`: the bearer token has its own field),
//! steer the connection (`Connection`, `Transfer-Encoding`, …) or unlock a cloud metadata
//! service (`Metadata-Flavor`, …) are the client's business, not the user's.

/// Refused by exact (case-insensitive) name.
const REFUSED: &[&str] = &[
    "host",
    "cookie",
    "cookie2",
    "authorization",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "upgrade",
    "trailer",
    "content-length",
    "forwarded",
    "x-real-ip",
    "metadata",
    "metadata-flavor",
    "x-google-metadata-request",
];

/// Refused by (case-insensitive) prefix.
const REFUSED_PREFIXES: &[&str] = &["proxy-", "x-forwarded-", "x-aws-ec2-metadata-token"];

/// Whether a user may not set the header `name`.
pub fn is_refused(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    REFUSED.contains(&name.as_str()) || REFUSED_PREFIXES.iter().any(|p| name.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_hop_by_hop_and_metadata_headers_are_refused_in_any_case() {
        for name in [
            "Host",
            "COOKIE",
            "Authorization",
            "Proxy-Authorization",
            "proxy-connection",
            "Connection",
            "Keep-Alive",
            "Transfer-Encoding",
            "TE",
            "Upgrade",
            "Trailer",
            "Content-Length",
            "Forwarded",
            "X-Forwarded-For",
            "X-Forwarded-Host",
            "X-Real-IP",
            "Metadata-Flavor",
            "Metadata",
            "X-aws-ec2-metadata-token",
            "X-aws-ec2-metadata-token-ttl-seconds",
        ] {
            assert!(is_refused(name), "{name} allowed");
        }
        for name in [
            "X-Api-Key",
            "Accept-Language",
            "X-Metadata-Version",
            "Tenant",
        ] {
            assert!(!is_refused(name), "{name} refused");
        }
    }
}
