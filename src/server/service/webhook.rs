//! Sending to a user's webhook: a JSON body, signed, through the outbound policy.
//!
//! The receiver gets `Headroom-Timestamp` (Unix seconds), `Headroom-Signature:
//! sha256=<hex>` — HMAC-SHA256 with the webhook's secret over `<timestamp>:<body>` — and
//! `Idempotency-Key`. Checking the signature proves the sender; refusing timestamps more
//! than a few minutes old refuses a replayed capture; the key is the same on every
//! retry of one delivery, so a receiver that saw it before can drop the repeat.

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::json;
use sha2::Sha256;

use crate::server::{
    hex,
    outbound::{Outbound, refusal},
    storage::notifications::NotificationRow,
};

/// A receiver gets this long to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The longest webhook address accepted.
pub const MAX_URL_LEN: usize = 2048;

/// What one request to a webhook did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// `sent` (2xx), `failed` (another status or no connection), `timeout` or `refused`
    /// (the outbound policy's).
    pub outcome: &'static str,
    pub http_status: Option<i64>,
    pub latency_ms: i64,
    /// A fixed description, never text from the answer.
    pub error: Option<String>,
}

impl Sent {
    /// A request that got no answer: refused by the outbound policy, timed out, or
    /// failed to connect — in fixed words, never text from the other side. Shared by
    /// every outbound channel (webhooks, Web Push).
    pub fn of_error(e: &reqwest::Error, latency_ms: i64) -> Sent {
        let (outcome, error) = if let Some(refused) = refusal(e) {
            ("refused", refused.to_string())
        } else if e.is_timeout() {
            (
                "timeout",
                format!("no answer within {} s", TIMEOUT.as_secs()),
            )
        } else if e.is_connect() {
            ("failed", "could not connect".to_string())
        } else {
            ("failed", "the request failed".to_string())
        };
        Sent {
            outcome,
            http_status: None,
            latency_ms,
            error: Some(error),
        }
    }
}

/// `sha256=<hex>` of HMAC-SHA256(`secret`, `<timestamp>:<body>`).
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b":");
    mac.update(body);
    let mut out = String::from("sha256=");
    hex::push_bytes(&mut out, &mac.finalize().into_bytes());
    out
}

/// A new webhook secret: 32 random bytes, hex.
pub fn new_secret() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let mut out = String::from("whsec_");
    hex::push_bytes(&mut out, &bytes);
    out
}

/// The JSON a webhook receives: `kind` is `notification`, `digest` (what quiet hours
/// held) or `test`.
pub fn body(kind: &str, idempotency_key: &str, sent_at: i64, items: &[NotificationRow]) -> Vec<u8> {
    let notifications: Vec<_> = items
        .iter()
        .map(|n| {
            json!({
                "id": n.id,
                "meter_id": n.meter_id,
                "rule": n.rule,
                "title": n.title,
                "body": n.body,
                "urgent": n.urgent,
                "created_at": n.created_at,
            })
        })
        .collect();
    serde_json::to_vec(&json!({
        "type": kind,
        "idempotency_key": idempotency_key,
        "sent_at": sent_at,
        "notifications": notifications,
    }))
    .unwrap_or_default()
}

/// Posts `body` to `url`, signed with `secret` at `timestamp`.
pub async fn send(
    outbound: &Outbound,
    (url, secret): (&str, &str),
    idempotency_key: &str,
    timestamp: i64,
    body: Vec<u8>,
) -> Sent {
    let started = Instant::now();
    let sig = signature(secret, timestamp, &body);
    let request = match outbound.request(Method::POST, url, []) {
        Ok(r) => r,
        Err(refused) => {
            return Sent {
                outcome: "refused",
                http_status: None,
                latency_ms: 0,
                error: Some(refused.to_string()),
            };
        }
    };
    let result = request
        .header("content-type", "application/json")
        .header("headroom-timestamp", timestamp.to_string())
        .header("headroom-signature", sig)
        .header("idempotency-key", idempotency_key)
        .timeout(TIMEOUT)
        .body(body)
        .send()
        .await;
    let latency_ms = started.elapsed().as_millis() as i64;
    match result {
        Ok(res) => {
            let status = res.status();
            Sent {
                outcome: if status.is_success() {
                    "sent"
                } else {
                    "failed"
                },
                http_status: Some(i64::from(status.as_u16())),
                latency_ms,
                error: (!status.is_success()).then(|| format!("answered {}", status.as_u16())),
            }
        }
        Err(e) => Sent::of_error(&e, latency_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_and_body() {
        // Computed independently: Python's
        // hmac.new(b"Jefe", b"1700000000:{}", hashlib.sha256).hexdigest().
        assert_eq!(
            signature("Jefe", 1_700_000_000, b"{}"),
            "sha256=e543314bafb85c59df36cb03a7e3659c28069a7605c199f46465414e71be4a8e"
        );
        assert_ne!(
            signature("Jefe", 1_700_000_001, b"{}"),
            signature("Jefe", 1_700_000_000, b"{}")
        );
    }

    #[test]
    fn secrets_are_random_and_long() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), "whsec_".len() + 64);
    }
}
