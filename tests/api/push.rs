//! Web Push (SPEC S5): a device subscribes with keys made here as a browser makes them; a
//! local push service on 127.0.0.1 decrypts each message with the device's private key
//! (RFC 8291, done by hand below, independently of the server's crate), checks the VAPID
//! JWT (RFC 8292: ES256 with the key `/api/v1/push/key` gives, audience = its own origin,
//! not expired) and the TTL / Topic / Urgency headers; a device the service says is gone
//! (410) is removed and not tried again; bad subscriptions name their field.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use aes_gcm::{Aes128Gcm, KeyInit, aead::Aead};
use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::post,
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use hkdf::Hkdf;
use p256::{
    PublicKey, SecretKey,
    ecdsa::{Signature, VerifyingKey, signature::Verifier},
    elliptic_curve::sec1::ToEncodedPoint,
};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::*;
use crate::notifications::{
    advance, ingest, send_outbox, shared_meter_in, spawn_allowing_loopback,
};
use crate::on_both_backends;

const NOW: &str = "2026-12-12T12:00:00Z";

/// A browser's side of a subscription: its key pair and auth secret.
struct Device {
    secret: SecretKey,
    auth: [u8; 16],
}

impl Device {
    fn new(seed: u8) -> Device {
        Device {
            secret: SecretKey::from_slice(&[seed; 32]).expect("a valid scalar"),
            auth: [seed.wrapping_add(100); 16],
        }
    }

    fn public(&self) -> Vec<u8> {
        self.secret
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    }

    fn json(&self, endpoint: &str) -> Value {
        json!({
            "endpoint": endpoint,
            "expirationTime": null,
            "keys": {"p256dh": URL_SAFE_NO_PAD.encode(self.public()), "auth": URL_SAFE_NO_PAD.encode(self.auth)},
        })
    }

    /// RFC 8291 §3.4 and RFC 8188 §2, by hand: the header (salt, record size, the
    /// sender's one-time public key), the key derivation and one AES-128-GCM record.
    fn decrypt(&self, body: &[u8]) -> Vec<u8> {
        let salt = &body[..16];
        let record_size = u32::from_be_bytes(body[16..20].try_into().expect("4 bytes"));
        let id_len = usize::from(body[20]);
        assert_eq!(
            id_len, 65,
            "the key id is the sender's uncompressed P-256 key"
        );
        let sender = PublicKey::from_sec1_bytes(&body[21..21 + id_len]).expect("sender key");
        let ciphertext = &body[21 + id_len..];
        assert!(ciphertext.len() <= record_size as usize, "one record");
        let shared =
            p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), sender.as_affine());
        let mut info = b"WebPush: info\0".to_vec();
        info.extend_from_slice(&self.public());
        info.extend_from_slice(sender.to_encoded_point(false).as_bytes());
        let mut ikm = [0u8; 32];
        Hkdf::<Sha256>::new(Some(&self.auth), shared.raw_secret_bytes().as_ref())
            .expand(&info, &mut ikm)
            .expect("32 bytes");
        let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
        let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
        prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
            .expect("16");
        prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
            .expect("12");
        let mut plain = Aes128Gcm::new_from_slice(&cek)
            .expect("key")
            .decrypt(&nonce.into(), ciphertext)
            .expect("the record decrypts with the device's keys");
        // The last record ends with its delimiter 0x02, then any padding zeros.
        while plain.last() == Some(&0) {
            plain.pop();
        }
        assert_eq!(plain.pop(), Some(2), "last-record delimiter");
        plain
    }
}

/// One request to the local push service: the device's name, headers, body.
type Seen = (String, HeaderMap, Vec<u8>);

/// What the local push service saw, in order.
#[derive(Clone, Default)]
struct PushService {
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Statuses to answer per device name, in turn (then 201).
    script: Arc<Mutex<Vec<(String, u16)>>>,
}

async fn receive(
    State(s): State<PushService>,
    Path(device): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    s.seen
        .lock()
        .expect("lock")
        .push((device.clone(), headers, body.to_vec()));
    let mut script = s.script.lock().expect("lock");
    match script.iter().position(|(d, _)| *d == device) {
        Some(i) => StatusCode::from_u16(script.remove(i).1).expect("status"),
        None => StatusCode::CREATED,
    }
}

async fn start_push_service(s: PushService) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = Router::new()
        .route("/push/{device}", post(receive))
        .with_state(s);
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn subscribe(c: &reqwest::Client, app: &TestApp, body: &Value) -> (u16, Value) {
    json_of(
        c.post(app.url("/api/v1/push/subscriptions"))
            .json(body)
            .send()
            .await
            .expect("POST"),
    )
    .await
}

fn header(h: &HeaderMap, name: &str) -> String {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// Checks `Authorization: vapid t=<JWT>, k=<key>` as a push service does; returns the
/// claims.
fn check_vapid(h: &HeaderMap, server_key: &str, origin: &str, now: i64) -> Value {
    let auth = header(h, "authorization");
    let rest = auth.strip_prefix("vapid ").expect("vapid scheme");
    let (t, k) = rest.split_once(", ").expect("t and k");
    let jwt = t.strip_prefix("t=").expect("t=");
    assert_eq!(
        k.strip_prefix("k="),
        Some(server_key),
        "k is the server's key"
    );
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let head: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("b64"))
        .expect("header JSON");
    assert_eq!(head["alg"], "ES256");
    let key = VerifyingKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(server_key).expect("b64"))
        .expect("P-256 key");
    let sig = Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).expect("b64"))
        .expect("64-byte signature");
    key.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
        .expect("the JWT is signed with the server's VAPID key");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("claims");
    assert_eq!(claims["aud"], origin, "{claims}");
    let exp = claims["exp"].as_i64().expect("exp");
    assert!(
        exp > now && exp <= now + 24 * 3600,
        "exp {exp} within a day of {now}"
    );
    claims
}

async fn server_key(app: &TestApp) -> String {
    let (status, key) = json_of(app.get("/api/v1/push/key").await).await;
    assert_eq!(status, 200, "{key}");
    let key = key["public_key"].as_str().expect("key").to_string();
    assert_eq!(URL_SAFE_NO_PAD.decode(&key).expect("base64url").len(), 65);
    key
}

on_both_backends! {
    async fn a_push_is_encrypted_for_the_device_and_signed_by_the_server(backend) {
        let app = spawn_allowing_loopback(backend, NOW).await;
        let (meter, token, _tom) = shared_meter_in(&app, "Europe/Berlin").await;
        let service = PushService::default();
        let addr = start_push_service(service.clone()).await;
        let phone = Device::new(7);
        let (status, created) = subscribe(&app.client, &app, &phone.json(&format!("http://{addr}/push/phone"))).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["service"], format!("http://{addr}"));
        let key = server_key(&app).await;
        // The key is made once and kept: the same on every read.
        assert_eq!(server_key(&app).await, key);
        ingest(&app, &token, meter, &[("2026-12-01T00:10:00Z", 0.0), ("2026-12-12T10:00:00Z", 82_000.0)]).await;
        assert_eq!(send_outbox(&app).await, 1);
        let seen = service.seen.lock().expect("lock").clone();
        assert_eq!(seen.len(), 1);
        let (_, headers, body) = &seen[0];
        assert_eq!(header(headers, "content-encoding"), "aes128gcm");
        // 13:00 in Berlin: the morning outlook (05:00) is 16 hours away.
        assert_eq!(header(headers, "ttl"), "57600");
        assert_eq!(header(headers, "topic"), format!("meter-{meter}"));
        assert_eq!(header(headers, "urgency"), "normal");
        let now = app.state.clock.now_secs();
        check_vapid(headers, &key, &format!("http://{addr}"), now);
        let message: Value = serde_json::from_slice(&phone.decrypt(body)).expect("JSON inside");
        assert_eq!(message["title"], "Fibre: 80 % of the quota used");
        assert_eq!(message["tag"], format!("meter-{meter}"));
        assert_eq!(message["url"], format!("/meters/{meter}"));
        // 100 % is urgent: Urgency high.
        ingest(&app, &token, meter, &[("2026-12-12T11:00:00Z", 100_500.0)]).await;
        assert_eq!(send_outbox(&app).await, 1);
        let seen = service.seen.lock().expect("lock").clone();
        assert_eq!(header(&seen[1].1, "urgency"), "high");
        let message: Value = serde_json::from_slice(&phone.decrypt(&seen[1].2)).expect("JSON");
        assert_eq!(message["urgent"], true);
        let (_, log) = json_of(app.get("/api/v1/deliveries").await).await;
        let pushes: Vec<_> = log["attempts"].as_array().expect("attempts").iter()
            .filter(|a| a["channel"] == "push")
            .map(|a| (a["outcome"].as_str().unwrap_or("").to_string(), a["http_status"].as_i64()))
            .collect();
        assert_eq!(pushes, [("sent".to_string(), Some(201)), ("sent".to_string(), Some(201))], "{log}");
    }

    async fn a_gone_device_is_removed_and_a_failing_one_retried(backend) {
        let app = spawn_allowing_loopback(backend, NOW).await;
        let (meter, token, _tom) = shared_meter_in(&app, "UTC").await;
        let service = PushService::default();
        let addr = start_push_service(service.clone()).await;
        *service.script.lock().expect("lock") = vec![("old".into(), 410), ("tablet".into(), 500)];
        let (old, tablet) = (Device::new(3), Device::new(4));
        for (name, d) in [("old", &old), ("tablet", &tablet)] {
            let (status, body) = subscribe(&app.client, &app, &d.json(&format!("http://{addr}/push/{name}"))).await;
            assert_eq!(status, 201, "{body}");
        }
        ingest(&app, &token, meter, &[("2026-12-01T00:10:00Z", 0.0), ("2026-12-12T10:00:00Z", 82_000.0)]).await;
        assert_eq!(send_outbox(&app).await, 1);
        // 410: the old device is gone from the list.
        let (_, devices) = json_of(app.get("/api/v1/push/subscriptions").await).await;
        assert_eq!(devices.as_array().expect("list").len(), 1, "{devices}");
        let (_, log) = json_of(app.get("/api/v1/deliveries").await).await;
        let mut first: Vec<_> = log["attempts"].as_array().expect("attempts").iter()
            .map(|a| (a["outcome"].as_str().unwrap_or("").to_string(), a["http_status"].as_i64(), a["next_at"].is_i64()))
            .collect();
        first.sort();
        assert_eq!(first, [("failed".to_string(), Some(500), true), ("gone".to_string(), Some(410), false)], "{log}");
        // The 500 is tried again after the back-off, to the device that is left only.
        assert_eq!(send_outbox(&app).await, 0);
        advance(&app, 31);
        assert_eq!(send_outbox(&app).await, 1);
        advance(&app, 3600);
        assert_eq!(send_outbox(&app).await, 0, "delivered: nothing left");
        let seen = service.seen.lock().expect("lock").clone();
        let names: Vec<&str> = seen.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(names.iter().filter(|n| **n == "old").count(), 1, "{names:?}");
        assert_eq!(names.iter().filter(|n| **n == "tablet").count(), 2, "{names:?}");
        let last = seen.iter().rev().find(|(n, _, _)| n == "tablet").expect("tablet");
        let message: Value = serde_json::from_slice(&tablet.decrypt(&last.2)).expect("JSON");
        assert_eq!(message["title"], "Fibre: 80 % of the quota used");
    }

    async fn bad_subscriptions_name_their_field(backend) {
        let app = spawn_app_at(backend, NOW).await;
        app.signed_in_user("mia@example.org", "UTC").await;
        let d = Device::new(9);
        let mut bad_key = d.json("https://push.example.org/a");
        bad_key["keys"]["p256dh"] = json!("AAAA");
        let mut bad_auth = d.json("https://push.example.org/a");
        bad_auth["keys"]["auth"] = json!("c2hvcnQ");
        for (body, field) in [
            (d.json("ftp://push.example.org/a"), "endpoint"),
            (d.json("http://push.example.org/a"), "endpoint"),
            (d.json("https://169.254.169.254/a"), "endpoint"),
            // Loopback is not opened on this server, so not even https reaches it.
            (d.json("https://127.0.0.1/a"), "endpoint"),
            (d.json(&format!("https://push.example.org/{}", "a".repeat(2100))), "endpoint"),
            (json!({"keys": {}}), "endpoint"),
            (bad_key, "keys.p256dh"),
            (bad_auth, "keys.auth"),
            (json!({"endpoint": "https://push.example.org/a"}), "keys.p256dh"),
        ] {
            let (status, err) = subscribe(&app.client, &app, &body).await;
            assert_eq!((status, err["error"]["field"].as_str()), (422, Some(field)), "{body}: {err}");
        }
        // Eleven devices: the oldest makes room. The same endpoint again is the same device.
        let mut ids = Vec::new();
        for i in 0..11 {
            advance(&app, 1);
            let (status, body) = subscribe(&app.client, &app, &Device::new(20 + i).json(&format!("https://push.example.org/d{i}"))).await;
            assert_eq!(status, 201, "{body}");
            ids.push(body["id"].as_i64().expect("id"));
        }
        let (status, again) = subscribe(&app.client, &app, &Device::new(50).json("https://push.example.org/d10")).await;
        assert_eq!((status, again["id"].as_i64()), (201, Some(ids[10])));
        let (_, devices) = json_of(app.get("/api/v1/push/subscriptions").await).await;
        let listed: Vec<i64> = devices.as_array().expect("list").iter().map(|d| d["id"].as_i64().expect("id")).collect();
        assert_eq!(listed.len(), 10, "{devices}");
        assert!(!listed.contains(&ids[0]), "the oldest went: {devices}");
        assert!(devices[0].get("endpoint").is_none(), "the endpoint stays on the server");
        // Another user's device does not exist for Tom; Mia removes her own.
        let tom = crate::meters_api::spawn_user_client(&app, "tom@example.org").await;
        let path = format!("/api/v1/push/subscriptions/{}", ids[5]);
        let res = tom.delete(app.url(&path)).send().await.expect("DELETE");
        assert_eq!(res.status(), 404);
        let res = app.client.delete(app.url(&path)).send().await.expect("DELETE");
        assert_eq!(res.status(), 204);
        let res = app.client.delete(app.url(&path)).send().await.expect("DELETE");
        assert_eq!(res.status(), 404);
    }
}

/// SQLite cannot alter a CHECK, so 0010 rebuilds `deliveries`: a database with an outbox
/// in flight comes through with every row, id and index, and takes `push` rows after.
#[tokio::test]
async fn the_sqlite_outbox_survives_the_push_migration() {
    use sqlx::{Row, sqlite::SqlitePoolOptions};
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .expect("open");
    let all = sqlx::migrate!("migrations/sqlite");
    let mut before = sqlx::migrate::Migrator::DEFAULT;
    before.migrations = all
        .migrations
        .iter()
        .filter(|m| m.version < 10)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    before.run(&pool).await.expect("0001–0009");
    for sql in [
        "INSERT INTO users (id, email, display_name, password_hash, role, created_at) VALUES (1, 'a@x', 'A', 'h', 'member', 0)",
        "INSERT INTO notifications (id, user_id, rule, episode, title, body, created_at) VALUES (5, 1, 'quota_80', 'e', 't', 'b', 0)",
        "INSERT INTO deliveries (id, user_id, notification_id, channel, batch, status, first_due, due_at, attempts, claimed_until) VALUES (42, 1, 5, 'webhook', 'n5', 'pending', 10, 70, 2, 0)",
        "INSERT INTO deliveries (id, user_id, notification_id, channel, batch, status, first_due, due_at, attempts, sent_at) VALUES (43, 1, 5, 'webhook', 'n6', 'sent', 10, 10, 1, 11)",
    ] {
        sqlx::query(sql).execute(&pool).await.expect(sql);
    }
    assert!(
        sqlx::query("INSERT INTO deliveries (user_id, notification_id, channel, batch, first_due, due_at) VALUES (1, 5, 'push', 'x', 0, 0)")
            .execute(&pool)
            .await
            .is_err(),
        "0009 refuses push"
    );
    all.run(&pool).await.expect("0010");
    let rows = sqlx::query(
        "SELECT id, channel, batch, status, due_at, attempts, sent_at FROM deliveries ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .expect("rows");
    let got: Vec<(i64, String, String, i64, i64, Option<i64>)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6)))
        .collect();
    assert_eq!(
        got,
        [
            (42, "n5".into(), "pending".into(), 70, 2, None),
            (43, "n6".into(), "sent".into(), 10, 1, Some(11)),
        ]
    );
    sqlx::query("INSERT INTO deliveries (user_id, notification_id, channel, batch, first_due, due_at) VALUES (1, 5, 'push', 'push:n5', 0, 0)")
        .execute(&pool)
        .await
        .expect("push is a channel now");
    assert!(
        sqlx::query("INSERT INTO deliveries (user_id, notification_id, channel, batch, first_due, due_at) VALUES (1, 5, 'sms', 'x', 0, 0)")
            .execute(&pool)
            .await
            .is_err(),
        "other channels are still refused"
    );
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deliveries' AND sql IS NOT NULL ORDER BY name",
    )
    .fetch_all(&pool)
    .await
    .expect("indexes");
    assert_eq!(indexes, ["deliveries_batch", "deliveries_due"]);
}
