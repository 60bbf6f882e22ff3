//! Web Push: the server's VAPID key pair, the devices users subscribe, and sending one
//! message to one device through the outbound policy.
//!
//! - The key pair (P-256) is made the first time any instance starts and kept in
//!   `app_secrets`, inserted only if absent, so every instance signs with the same one
//!   and a browser's subscription (bound to the public key) keeps working across
//!   restarts and instances.
//! - A message is encrypted for the device with RFC 8291 `aes128gcm` (its `p256dh` key
//!   and `auth` secret; `web-push-native`, pure Rust) and carries a VAPID JWT (RFC 8292:
//!   ES256 over `{aud: the endpoint's origin, exp, sub}`) that tells the push service
//!   which server sent it.
//! - `TTL` (how long the push service keeps it for an offline device), `Topic` (a newer
//!   message of the same topic replaces an undelivered one) and `Urgency` come from the
//!   caller (`jobs::deliver`).

use std::time::{Duration, Instant};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use p256::{
    SecretKey,
    ecdsa::{Signature, SigningKey, signature::Signer},
    elliptic_curve::sec1::ToEncodedPoint,
};
use reqwest::Method;
use serde_json::json;

use crate::{
    domain::DomainError,
    dto::notify::{NewPushSubscription, PushDevice},
    server::{
        auth::CurrentUser,
        outbound::Outbound,
        service::{ServiceError, ServiceResult, webhook::Sent},
        state::AppState,
        storage::{Db, StoreResult, notifications::NotificationRow, push::PushSubscriptionRow},
    },
};

/// Where the private key is kept in `app_secrets` (base64url of the 32-byte scalar).
pub const SECRET_NAME: &str = "vapid_private_key";
/// Devices one user may subscribe; a further one replaces their oldest.
pub const MAX_DEVICES: i64 = 10;
/// The longest endpoint accepted (browsers' are a few hundred characters).
pub const MAX_ENDPOINT_LEN: usize = 2048;
/// A push service gets this long to answer.
pub const TIMEOUT: Duration = super::webhook::TIMEOUT;
/// How long a VAPID JWT is valid (RFC 8292: at most 24 hours).
const JWT_SECS: i64 = 12 * 3600;
/// The longest title and body put in a message: an encrypted message must stay within
/// the 4 096 bytes every push service accepts.
const MAX_TITLE: usize = 200;
const MAX_BODY: usize = 1500;

/// The server's VAPID key and the contact it names.
pub struct Vapid {
    key: SigningKey,
    /// base64url of the uncompressed public point, as `PushManager.subscribe` takes it.
    pub public_key: String,
    contact: Option<String>,
}

fn new_private_key() -> String {
    use argon2::password_hash::rand_core::OsRng;
    URL_SAFE_NO_PAD.encode(SecretKey::random(&mut OsRng).to_bytes())
}

/// At start: makes the key pair unless the database has one.
pub async fn keys_at_start(db: &Db, now: i64) -> StoreResult<()> {
    db.app_secret_or_insert(SECRET_NAME, &new_private_key(), now)
        .await
        .map(|_| ())
}

/// The key pair (made now if an older database has none yet).
pub async fn vapid(state: &AppState) -> ServiceResult<Vapid> {
    let stored = state
        .db
        .app_secret_or_insert(SECRET_NAME, &new_private_key(), state.clock.now_secs())
        .await?;
    let secret = URL_SAFE_NO_PAD
        .decode(stored.as_bytes())
        .ok()
        .and_then(|bytes| SecretKey::from_slice(&bytes).ok())
        .ok_or_else(|| anyhow::anyhow!("the stored VAPID key is not a P-256 private key"))?;
    let public_key = URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes());
    Ok(Vapid {
        key: SigningKey::from(&secret),
        public_key,
        contact: state.settings.security.push_contact.clone(),
    })
}

/// base64url, with or without padding (browsers send it without).
fn unbase64(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s.trim().trim_end_matches('=')).ok()
}

/// What is shown of an endpoint: its origin.
fn service_of(endpoint: &str) -> String {
    url::Url::parse(endpoint)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

/// Checks a browser's subscription and stores it for the user: the endpoint must be
/// `https` (plain `http` only to an address an administrator opened) and pass the
/// outbound policy as far as it can be judged without resolving; the keys must be a
/// P-256 point and a 16-byte secret.
pub async fn subscribe(
    state: &AppState,
    user: &CurrentUser,
    sub: NewPushSubscription,
) -> ServiceResult<PushDevice> {
    let endpoint = sub.endpoint.as_deref().map(str::trim).unwrap_or_default();
    let bad_endpoint = |why: String| ServiceError::from(DomainError::new("endpoint", why));
    if endpoint.is_empty() || endpoint.len() > MAX_ENDPOINT_LEN {
        return Err(bad_endpoint(format!(
            "an https address of at most {MAX_ENDPOINT_LEN} characters"
        )));
    }
    let url = url::Url::parse(endpoint).map_err(|_| bad_endpoint("not a valid address".into()))?;
    let policy = crate::server::outbound::Policy::from_settings(&state.settings);
    if url.scheme() != "https" && !(url.scheme() == "http" && policy.opened(&url)) {
        return Err(bad_endpoint("an https address".into()));
    }
    policy
        .check_url(&url)
        .map_err(|refused| bad_endpoint(refused.to_string()))?;
    let mut errors = Vec::new();
    let p256dh = sub.keys.p256dh.unwrap_or_default();
    let point_ok = p256dh.len() <= 128
        && unbase64(&p256dh).is_some_and(|b| {
            b.len() == 65 && b[0] == 4 && p256::PublicKey::from_sec1_bytes(&b).is_ok()
        });
    if !point_ok {
        errors.push(DomainError::new(
            "keys.p256dh",
            "the subscription's P-256 key: 65 bytes, base64url",
        ));
    }
    let auth = sub.keys.auth.unwrap_or_default();
    if !(auth.len() <= 32 && unbase64(&auth).is_some_and(|b| b.len() == 16)) {
        errors.push(DomainError::new(
            "keys.auth",
            "the subscription's auth secret: 16 bytes, base64url",
        ));
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let now = state.clock.now_secs();
    let id = state
        .db
        .put_push_subscription(
            user.id,
            (endpoint, p256dh.trim(), auth.trim()),
            now,
            MAX_DEVICES,
        )
        .await?;
    Ok(PushDevice {
        id,
        service: service_of(endpoint),
        created_at: now,
    })
}

/// The user's subscribed devices, newest first.
pub async fn devices(state: &AppState, user: &CurrentUser) -> ServiceResult<Vec<PushDevice>> {
    Ok(state
        .db
        .push_subscriptions(user.id)
        .await?
        .into_iter()
        .map(|s| PushDevice {
            id: s.id,
            service: service_of(&s.endpoint),
            created_at: s.created_at,
        })
        .collect())
}

pub async fn unsubscribe(state: &AppState, user: &CurrentUser, id: i64) -> ServiceResult<()> {
    if state.db.delete_push_subscription(user.id, id).await? {
        Ok(())
    } else {
        Err(ServiceError::NotFound)
    }
}

/// One push message, before encryption, and the headers that go with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The JSON the service worker reads: `title`, `body`, `tag` (= the topic), `url`
    /// (what a tap opens), `urgent`, `count`.
    pub payload: Vec<u8>,
    pub topic: String,
    /// `high` when any notification in it is urgent, else `normal`.
    pub urgency: &'static str,
}

fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// The message for a batch: one notification as it is; several (a quiet-hours digest)
/// as a count with their titles. The topic is the meter's when they are all about one.
pub fn message(items: &[NotificationRow]) -> Message {
    let meters: std::collections::BTreeSet<Option<i64>> =
        items.iter().map(|n| n.meter_id).collect();
    let meter = match (meters.len(), meters.first()) {
        (1, Some(m)) => *m,
        _ => None,
    };
    let topic = crate::domain::alerts::push_topic(meter);
    let urgent = items.iter().any(|n| n.urgent);
    let (title, body) = match items {
        [one] => (one.title.clone(), one.body.clone()),
        _ => (
            format!("{} notifications", items.len()),
            items
                .iter()
                .rev()
                .map(|n| n.title.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    };
    let url = match meter {
        Some(id) => format!("/meters/{id}"),
        None => "/notifications".to_string(),
    };
    let payload = serde_json::to_vec(&json!({
        "title": clip(&title, MAX_TITLE),
        "body": clip(&body, MAX_BODY),
        "tag": topic,
        "url": url,
        "urgent": urgent,
        "count": items.len(),
    }))
    .unwrap_or_default();
    Message {
        payload,
        topic,
        urgency: if urgent { "high" } else { "normal" },
    }
}

/// The `Authorization` header for a request to `endpoint` (RFC 8292): `vapid t=<JWT>,
/// k=<public key>`, the JWT signed with ES256, its audience the endpoint's origin.
pub fn authorization(vapid: &Vapid, endpoint: &url::Url, now: i64) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
    let mut claims = json!({
        "aud": endpoint.origin().ascii_serialization(),
        "exp": now + JWT_SECS,
    });
    if let Some(contact) = &vapid.contact {
        claims["sub"] = json!(contact);
    }
    let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
    let signing_input = format!("{header}.{claims}");
    let signature: Signature = vapid.key.sign(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(signature.to_bytes());
    format!(
        "vapid t={signing_input}.{signature}, k={}",
        vapid.public_key
    )
}

fn not_sent(outcome: &'static str, error: &str) -> Sent {
    Sent {
        outcome,
        http_status: None,
        latency_ms: 0,
        error: Some(error.to_string()),
    }
}

/// Encrypts `msg` for one device and posts it to its push service through the outbound
/// policy. `gone` when the service says the subscription no longer exists (404, 410).
pub async fn send(
    outbound: &Outbound,
    vapid: &Vapid,
    sub: &PushSubscriptionRow,
    msg: &Message,
    ttl: i64,
    now: i64,
) -> Sent {
    let Ok(url) = url::Url::parse(&sub.endpoint) else {
        return not_sent("refused", "the endpoint is not a valid address");
    };
    let keys = unbase64(&sub.p256dh)
        .and_then(|b| p256::PublicKey::from_sec1_bytes(&b).ok())
        .zip(unbase64(&sub.auth).filter(|a| a.len() == 16));
    let Some((ua_public, auth)) = keys else {
        return not_sent("failed", "the subscription's keys are not usable");
    };
    let auth = web_push_native::Auth::clone_from_slice(&auth);
    let Ok(body) = web_push_native::encrypt(msg.payload.clone(), &ua_public, &auth) else {
        return not_sent("failed", "the message could not be encrypted");
    };
    let request = match outbound.request(Method::POST, url.as_str(), []) {
        Ok(r) => r,
        Err(refused) => return not_sent("refused", &refused.to_string()),
    };
    let started = Instant::now();
    let result = request
        .header("content-encoding", "aes128gcm")
        .header("content-type", "application/octet-stream")
        .header("ttl", ttl.max(0).to_string())
        .header("topic", &msg.topic)
        .header("urgency", msg.urgency)
        .header("authorization", authorization(vapid, &url, now))
        .timeout(TIMEOUT)
        .body(body)
        .send()
        .await;
    let latency_ms = started.elapsed().as_millis() as i64;
    match result {
        Ok(res) => {
            let status = res.status().as_u16();
            let (outcome, error) = match status {
                200..=299 => ("sent", None),
                404 | 410 => (
                    "gone",
                    Some(format!(
                        "answered {status}: the device unsubscribed; removed"
                    )),
                ),
                _ => ("failed", Some(format!("answered {status}"))),
            };
            Sent {
                outcome,
                http_status: Some(i64::from(status)),
                latency_ms,
                error,
            }
        }
        Err(e) => Sent::of_error(&e, latency_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, meter: Option<i64>, title: &str, urgent: bool) -> NotificationRow {
        NotificationRow {
            id,
            meter_id: meter,
            rule: "quota_80".into(),
            title: title.into(),
            body: "b".into(),
            urgent,
            created_at: 0,
            read_at: None,
        }
    }

    #[test]
    fn a_message_names_its_meter_and_a_digest_counts() {
        let one = message(&[row(1, Some(7), "Fibre: 80 %", false)]);
        assert_eq!((one.topic.as_str(), one.urgency), ("meter-7", "normal"));
        let json: serde_json::Value = serde_json::from_slice(&one.payload).expect("json");
        assert_eq!(json["url"], "/meters/7");
        assert_eq!(json["tag"], "meter-7");
        let two = message(&[row(1, Some(7), "a", false), row(2, Some(8), "b", true)]);
        assert_eq!((two.topic.as_str(), two.urgency), ("headroom", "high"));
        let json: serde_json::Value = serde_json::from_slice(&two.payload).expect("json");
        assert_eq!(json["title"], "2 notifications");
        assert_eq!(json["url"], "/notifications");
    }

    #[test]
    fn long_text_is_clipped_on_a_character_boundary() {
        let long = "é".repeat(2000);
        let msg = message(&[row(1, None, &long, false)]);
        // Well inside the 4 096 bytes a push service must accept, once encrypted.
        assert!(msg.payload.len() < 3000, "{}", msg.payload.len());
    }
}
