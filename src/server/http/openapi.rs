//! The OpenAPI 3.1 description of the JSON API, served at `GET /api/v1/openapi.json`.
//! Written out here (not derived from the handlers) so it reads as documentation; a test
//! checks that every path it lists is routed.

use axum::{Json, Router, routing::get};
use serde_json::{Value, json};

use crate::server::state::AppState;

fn error_responses() -> Value {
    let e = json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let with = |d: &str| {
        let mut v = e.clone();
        v["description"] = json!(d);
        v
    };
    json!({
        "401": with("Not signed in, or no valid token"),
        "403": with("Not allowed"),
        "404": with("No such thing, or not yours"),
        "422": with("Invalid input: see field, fields or items"),
    })
}

fn ok(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn array(name: &str) -> Value {
    json!({"type": "array", "items": schema(name)})
}

/// The series routes' query: a preset or a range, and the chart's size; `id` is the
/// path parameter, or `None` for the several-meters route, which takes `ids` instead.
fn series_params(id: Option<Value>) -> Value {
    let mut p = vec![
        query(
            "range",
            "string",
            "6h, 24h (default), 7d, 30d or 1y, ending now",
        ),
        query(
            "from",
            "string",
            "Unix seconds, RFC 3339, or a date (UTC); wins over range",
        ),
        query(
            "to",
            "string",
            "the same; default now; at most 20 years after from",
        ),
        query(
            "width",
            "number",
            "the chart's CSS pixels, 0–100000; 0 or absent: 600 columns",
        ),
        query(
            "dpr",
            "number",
            "device pixels per CSS pixel, 0–10 (counted as 1–4)",
        ),
    ];
    match id {
        Some(id) => p.insert(0, id),
        None => p.insert(
            0,
            query(
                "ids",
                "string",
                "1 to 4 meter ids of one unit, separated by commas",
            ),
        ),
    }
    Value::Array(p)
}

fn op(
    summary: &str,
    tag: &str,
    parameters: Value,
    body: Option<Value>,
    status: &str,
    response: Value,
) -> Value {
    let mut responses = error_responses();
    responses[status] = response;
    let mut o = json!({"summary": summary, "tags": [tag], "parameters": parameters, "responses": responses});
    if let Some(b) = body {
        o["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": b}}});
    }
    o
}

fn path_id(name: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "integer"}})
}

fn query(name: &str, kind: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": kind}})
}

/// The document.
pub fn document() -> Value {
    let mut doc = base_document();
    if let (Some(paths), Value::Object(perf)) = (doc["paths"].as_object_mut(), performance_paths())
    {
        paths.extend(perf);
    }
    if let (Some(paths), Value::Object(accounts)) = (doc["paths"].as_object_mut(), account_paths())
    {
        paths.extend(accounts);
    }
    if let (Some(paths), Value::Object(notify)) =
        (doc["paths"].as_object_mut(), notification_paths())
    {
        paths.extend(notify);
    }
    doc
}

/// Accounts: first run, the caller's own account and sessions, single-use links, and
/// administrators' users and households (issue 19).
fn account_paths() -> Value {
    let id = path_id("id");
    let sid = json!({"name": "id", "in": "path", "required": true, "description": "a session id from the list", "schema": {"type": "string"}});
    let secret = json!({"name": "secret", "in": "path", "required": true, "description": "the last segment of the link", "schema": {"type": "string"}});
    let obj = |props: Value| json!({"type": "object", "properties": props});
    let s = |max: u32| json!({"type": "string", "maxLength": max});
    let password = json!({"type": "string", "minLength": 8, "description": "at most 1024 bytes"});
    let user = obj(
        json!({"id": {"type": "integer"}, "email": s(254), "display_name": s(80), "role": {"enum": ["admin", "member"]},
        "household_id": {"type": ["integer", "null"]}, "household": {"type": ["string", "null"]}, "disabled": {"type": "boolean"}, "created_at": {"type": "string"}}),
    );
    let account = obj(
        json!({"id": {"type": "integer"}, "email": s(254), "display_name": s(80), "role": {"enum": ["admin", "member"]},
        "household_id": {"type": ["integer", "null"]}, "household": {"type": ["string", "null"]}}),
    );
    let session = obj(
        json!({"id": {"type": "string"}, "device": {"type": "string"}, "created_at": {"type": "string"},
        "last_seen_at": {"type": ["string", "null"]}, "current": {"type": "boolean"}}),
    );
    let household = obj(
        json!({"id": {"type": "integer"}, "name": s(80), "members": {"type": "integer"}, "created_at": {"type": "string"}}),
    );
    let link = obj(
        json!({"kind": {"enum": ["account", "household", "reset"]}, "url": {"type": "string"}, "expires_at": {"type": "string"}}),
    );
    let signed_out = ok(
        "How many sessions were signed out",
        obj(json!({"signed_out": {"type": "integer"}})),
    );
    let list = |v: &Value| json!({"type": "array", "items": v});
    let tag = "accounts";
    json!({
        "/api/v1/setup": {
            "get": op("Whether the install still waits for its first account", tag, json!([]), None, "200", ok("needed", obj(json!({"needed": {"type": "boolean"}})))),
            "post": op("Create the first administrator with the setup code printed at start (404 once any account exists; wrong code: 422 on setup_code; throttled: 429)", tag, json!([]),
                Some(obj(json!({"email": s(254), "display_name": s(80), "password": password, "setup_code": {"type": "string"}}))), "201", json!({"description": "Created and signed in (session cookie)"}))},
        "/api/v1/account": {
            "get": op("Your account", tag, json!([]), None, "200", ok("Account", account.clone())),
            "patch": op("Change your display name", tag, json!([]), Some(obj(json!({"display_name": s(80)}))), "200", ok("Account", account))},
        "/api/v1/account/password": {"post": op("Change your password (signs out your other sessions)", tag, json!([]),
            Some(obj(json!({"current_password": {"type": "string"}, "new_password": password}))), "200", signed_out.clone())},
        "/api/v1/account/sessions": {
            "get": op("Your sessions, most recently used first", tag, json!([]), None, "200", ok("Sessions", list(&session))),
            "delete": op("Sign out every session but this one", tag, json!([]), None, "200", signed_out)},
        "/api/v1/account/sessions/{id}": {"delete": op("Sign out one of your sessions", tag, json!([sid]), None, "204", json!({"description": "Signed out"}))},
        "/api/v1/invites": {"post": op("Make an invitation link (admins)", tag, json!([]),
            Some(obj(json!({"kind": {"enum": ["account", "household"]}, "role": {"enum": ["admin", "member"]}, "household_id": {"type": "integer"}}))), "201", ok("The link, shown once", link.clone()))},
        "/api/v1/invites/{secret}": {"get": op("What an invitation offers (422 on secret when used or expired)", tag, json!([secret.clone()]), None, "200",
            ok("Invitation", obj(json!({"kind": {"type": "string"}, "role": {"type": "string"}, "household": {"type": ["string", "null"]}, "expires_at": {"type": "string"}}))))},
        "/api/v1/invites/{secret}/accept": {"post": op("Accept an invitation: a new account (signed in), or, signed in, join the household", tag, json!([secret.clone()]),
            Some(obj(json!({"email": s(254), "display_name": s(80), "password": password}))), "201", json!({"description": "Created and signed in; 200 {household_id} when joining"}))},
        "/api/v1/resets/{secret}": {"post": op("Set a new password through a reset link (signs out every session)", tag, json!([secret]),
            Some(obj(json!({"password": password}))), "204", json!({"description": "Password set"}))},
        "/api/v1/users": {"get": op("Every user (admins)", tag, json!([]), None, "200", ok("Users", list(&user)))},
        "/api/v1/users/{id}": {"patch": op("Disable or enable, change role, move into or out of a household (admins); 422 when no active admin would be left", tag, json!([id.clone()]),
            Some(obj(json!({"disabled": {"type": "boolean"}, "role": {"enum": ["admin", "member"]}, "household_id": {"type": ["integer", "null"]}}))), "200", ok("User", user))},
        "/api/v1/users/{id}/reset-link": {"post": op("Make a password-reset link for a user (admins)", tag, json!([id]), None, "201", ok("The link, shown once", link))},
        "/api/v1/households": {
            "get": op("Every household (admins)", tag, json!([]), None, "200", ok("Households", list(&household))),
            "post": op("Create a household (admins)", tag, json!([]), Some(obj(json!({"name": s(80)}))), "201", ok("Household", household))}
    })
}

/// The performance center (admins only; SPEC S8, S12).
/// Notifications: the list and read marks, quiet hours, the webhook, deliveries, and a
/// meter's rules.
fn notification_paths() -> Value {
    let id = path_id("id");
    let obj = |props: Value| json!({"type": "object", "properties": props});
    let int = json!({"type": "integer"});
    let opt_int = json!({"type": ["integer", "null"]});
    let string = json!({"type": "string"});
    let opt_string = json!({"type": ["string", "null"]});
    let notification = obj(
        json!({"id": int, "meter_id": opt_int, "rule": string, "title": string, "body": string,
        "urgent": {"type": "boolean"}, "created_at": int, "read_at": opt_int}),
    );
    let list = obj(
        json!({"items": {"type": "array", "items": notification}, "unread": int, "next_before": opt_int}),
    );
    let clock = json!({"type": ["string", "null"], "pattern": "^\\d{1,2}:\\d{2}$", "description": "HH:MM in the user's timezone"});
    let settings = obj(
        json!({"quiet_start": clock, "quiet_end": clock, "urgent_through": {"type": "boolean"}, "timezone": string}),
    );
    let rules = obj(
        json!({"enabled": {"type": "boolean"}, "quota_levels": {"type": "array", "maxItems": 5, "items": {"type": "integer", "minimum": 1, "maximum": 200}},
        "over_today": {"type": "boolean"}, "run_out": {"type": "boolean"}, "range_minutes": {"type": "integer", "minimum": 0, "maximum": 1440},
        "range_hysteresis": {"type": "number", "minimum": 0, "maximum": 0.5}, "collector_failures": {"type": "integer", "minimum": 1, "maximum": 100}}),
    );
    let meter_rules = obj(
        json!({"meter_id": int, "kind": string, "defaults": {"type": "boolean"}, "settings": rules}),
    );
    let webhook = obj(json!({"url": string, "created_at": int}));
    let new_webhook = obj(
        json!({"url": string, "secret": {"type": "string", "description": "Shown this once"}, "created_at": int}),
    );
    let attempt = obj(
        json!({"id": int, "channel": string, "batch": string, "at": int, "outcome": {"enum": ["sent", "failed", "timeout", "refused", "no_webhook", "gone", "no_subscription"]},
        "http_status": opt_int, "latency_ms": opt_int, "next_at": opt_int, "error": opt_string}),
    );
    let dead = obj(
        json!({"id": int, "channel": string, "batch": string, "first_due": int, "attempts": int, "notifications": int}),
    );
    let deliveries = obj(
        json!({"attempts": {"type": "array", "items": attempt}, "dead_letters": {"type": "array", "items": dead}}),
    );
    let tested = obj(
        json!({"outcome": string, "http_status": opt_int, "latency_ms": int, "error": opt_string}),
    );
    let device = obj(
        json!({"id": int, "service": {"type": "string", "description": "The push service's origin"}, "created_at": int}),
    );
    let none = |d: &str| json!({"description": d});
    json!({
        "/api/v1/notifications": {"get": op("Your notifications, newest first", "notifications", json!([
            query("unread", "boolean", "only unread ones"), query("before", "integer", "older than this id (next_before of the last page)"),
            query("limit", "integer", "1–100, default 50")]), None, "200", ok("A page of them, and how many are unread", list))},
        "/api/v1/notifications/{id}/read": {"post": op("Mark one read", "notifications", json!([id.clone()]), None, "204", none("Read"))},
        "/api/v1/notifications/read-all": {"post": op("Mark all read (up to an id: what you saw)", "notifications", json!([query("up_to", "integer", "the newest id seen")]), None, "200", ok("How many", obj(json!({"marked": int}))))},
        "/api/v1/notifications/settings": {
            "get": op("Quiet hours", "notifications", json!([]), None, "200", ok("Settings", settings.clone())),
            "put": op("Set quiet hours (both times or neither) and whether urgent ones pass them", "notifications", json!([]), Some(obj(json!({"quiet_start": clock, "quiet_end": clock, "urgent_through": {"type": "boolean"}}))), "200", ok("Settings", settings))},
        "/api/v1/webhook": {
            "get": op("Your webhook (without its secret)", "notifications", json!([]), None, "200", ok("The webhook", webhook)),
            "put": op("Set your webhook; a new secret is made and shown once", "notifications", json!([]), Some(json!({"type": "object", "required": ["url"], "properties": {"url": {"type": "string", "maxLength": 2048}}})), "201", ok("With its secret", new_webhook)),
            "delete": op("Remove your webhook; what was still to be sent to it is given up", "notifications", json!([]), None, "204", none("Removed"))},
        "/api/v1/webhook/test": {"post": op("Send a signed test message to your webhook now", "notifications", json!([]), None, "200", ok("What happened", tested))},
        "/api/v1/deliveries": {"get": op("Every delivery attempt (newest first) and the dead letters", "notifications", json!([]), None, "200", ok("The log", deliveries))},
        "/api/v1/deliveries/{id}/resend": {"post": op("Send a dead letter again, with a new day of retries", "notifications", json!([id.clone()]), None, "202", none("Queued"))},
        "/api/v1/meters/{id}/rules": {
            "get": op("A meter's notification rules (anyone who sees the meter)", "notifications", json!([id.clone()]), None, "200", ok("Rules", meter_rules.clone())),
            "put": op("Change a meter's rules (its owner); fields left out take their defaults", "notifications", json!([id.clone()]), Some(rules), "200", ok("Rules", meter_rules))},
        "/api/v1/push/key": {"get": op("The server's VAPID public key, for PushManager.subscribe's applicationServerKey", "notifications", json!([]), None, "200",
            ok("base64url of the uncompressed P-256 point (65 bytes)", obj(json!({"public_key": string}))))},
        "/api/v1/push/subscriptions": {
            "get": op("Your devices subscribed to Web Push, newest first (the push service's origin, not the endpoint)", "notifications", json!([]), None, "200",
                ok("Devices", json!({"type": "array", "items": device.clone()}))),
            "post": op("Subscribe a device: the browser's PushSubscription.toJSON(). The endpoint must be https and pass the outbound policy; at most 10 devices, a further one replaces the oldest; an endpoint seen before is updated (422 names the bad field: endpoint, keys.p256dh, keys.auth)", "notifications", json!([]),
                Some(json!({"type": "object", "required": ["endpoint", "keys"], "properties": {
                    "endpoint": {"type": "string", "format": "uri", "maxLength": 2048},
                    "expirationTime": {"type": ["number", "null"]},
                    "keys": {"type": "object", "required": ["p256dh", "auth"], "properties": {
                        "p256dh": {"type": "string", "description": "base64url of the device's P-256 public key (65 bytes)"},
                        "auth": {"type": "string", "description": "base64url of the 16-byte auth secret"}}}}})),
                "201", ok("The device", device))},
        "/api/v1/push/subscriptions/{id}": {"delete": op("Stop notifying a device", "notifications", json!([id]), None, "204", none("Removed"))},
    })
}

fn performance_paths() -> Value {
    let id = path_id("id");
    let obj = || json!({"type": "object"});
    let tag = "performance";
    json!({
        "/api/performance/metrics": {"get": op("Request, statement, cache, job and system figures (admins)", tag, json!([]), None, "200", ok("Last 5 minutes in the seed's shape, detail since start", obj()))},
        "/api/performance/analytics": {"get": op("Score, alerts, trend, recommendations and chart points (admins)", tag,
            json!([query("minutes", "integer", "1–10080, default 5")]), None, "200", ok("Analytics", obj()))},
        "/api/performance/summary": {"get": op("Health score with its components and key figures (admins)", tag, json!([]), None, "200", ok("Summary", obj()))},
        "/api/performance/alerts": {"get": op("Performance alerts, newest first (admins)", tag,
            json!([query("resolved", "boolean", "true or false; omit for all"), query("limit", "integer", "1–1000, default 100")]), None, "200", ok("Alerts", obj()))},
        "/api/performance/alerts/{id}/resolve": {"post": op("Resolve an alert (admins)", tag, json!([id]), None, "200", ok("The alert", obj()))},
        "/api/performance/alerts/{id}/acknowledge": {"post": op("Acknowledge an alert (admins)", tag, json!([id]), None, "200", ok("The alert", obj()))},
        "/api/performance/thresholds": {
            "get": op("Alert thresholds and presets (admins)", tag, json!([]), None, "200", ok("Thresholds", obj())),
            "put": op("Change thresholds or apply a preset (admins)", tag, json!([]), Some(json!({"type": "object", "properties": {
                "preset": {"type": "string", "enum": ["production", "development", "custom"]},
                "slow_request_threshold": {"type": "number"}, "slow_query_threshold": {"type": "number"},
                "high_memory_threshold": {"type": "number"}, "error_rate_threshold": {"type": "number"},
                "cache_hit_rate_threshold": {"type": "number"}, "delivery_lag_threshold": {"type": "number"}}})), "200", ok("Thresholds", obj()))},
        "/api/performance/stream": {"get": op("Live samples as server-sent events (admins)", tag, json!([]), None, "200",
            json!({"description": "text/event-stream, one `sample` event per tick", "content": {"text/event-stream": {"schema": {"type": "string"}}}}))},
        "/api/performance/cache/stats": {"get": op("Cache statistics per tier and strategy (admins)", tag, json!([]), None, "200", ok("Statistics", obj()))},
        "/api/performance/cache/keys": {"get": op("Cache keys by pattern (admins)", tag,
            json!([query("pattern", "string", "a key or a prefix ending in *"), query("limit", "integer", "1–10000, default 200")]), None, "200", ok("Keys per tier", obj()))},
        "/api/performance/cache/clear": {"post": op("Clear cache entries by pattern (admins)", tag, json!([]),
            Some(json!({"type": "object", "properties": {"pattern": {"type": "string"}}})), "200", ok("Cleared per tier", obj()))},
        "/api/v2/daily-outlook/performance": {"get": op("The outlook's performance figures (admins)", "compatibility", json!([]), None, "200", ok("Envelope", schema("Envelope")))},
        "/metrics": {"get": op("Prometheus text exposition (admin session, or an admin's token of scope metrics)", tag, json!([]), None, "200",
            json!({"description": "text/plain; version=0.0.4", "content": {"text/plain": {"schema": {"type": "string"}}}}))}
    })
}

fn base_document() -> Value {
    let id = path_id("id");
    let uid = path_id("user_id");
    let date = query(
        "date",
        "string",
        "A local date, YYYY-MM-DD (default: today)",
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Headroom",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The daily outlook for metered quotas and sensors. Sign in with the /login form (session cookie) or send an API token (`Authorization: Bearer hr_…`; ingest tokens only write readings, metrics tokens only read /metrics). See docs/API.md for the rules behind each endpoint."
        },
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "headroom_session"},
                "token": {"type": "http", "scheme": "bearer"}
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"},
                    "fields": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
                    "items": {"type": "array", "items": {"type": "object", "properties": {"index": {"type": "integer"}, "field": {"type": "string"}, "message": {"type": "string"}}}}}}}},
                "MeterDraft": {"type": "object", "properties": {
                    "kind": {"enum": ["quota", "sensor"]}, "name": {"type": "string"}, "unit": {"type": "string"},
                    "timezone": {"type": "string", "examples": ["Europe/Berlin"]}, "quota": {"type": "number", "minimum": 0},
                    "reset_rule": {"type": "string", "examples": ["monthly:1", "monthly:last", "weekly:mon", "every:30:2026-01-05"]},
                    "range_min": {"type": "number"}, "range_max": {"type": "number"}}},
                "Meter": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "kind": {"type": "string"}, "name": {"type": "string"}, "unit": {"type": "string"},
                    "timezone": {"type": "string"}, "quota": {"type": ["number", "null"]}, "reset_rule": {"type": ["string", "null"]},
                    "range_min": {"type": ["number", "null"]}, "range_max": {"type": ["number", "null"]}, "archived": {"type": "boolean"},
                    "created_at": {"type": "string", "format": "date-time"},
                    "latest": {"type": ["object", "null"], "properties": {"at": {"type": "string"}, "value": {"type": "number"}}},
                    "access": {"enum": ["owner", "editor", "viewer"]},
                    "shared_by": {"type": ["string", "null"], "description": "The owner's name, for a meter shared with you"}}},
                "MeterSharing": {"type": "object", "properties": {
                    "meter_id": {"type": "integer"}, "household_id": {"type": ["integer", "null"]},
                    "household_role": {"enum": ["viewer", "editor", null]},
                    "members": {"type": "array", "items": {"type": "object", "properties": {
                        "user_id": {"type": "integer"}, "display_name": {"type": "string"},
                        "role": {"enum": ["viewer", "editor", null]}}}}}},
                "Reading": {"type": "object", "required": ["meter_id", "timestamp", "value"], "properties": {
                    "meter_id": {"type": "integer"}, "timestamp": {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "integer"}]},
                    "value": {"type": "number"}, "remaining": {"type": "number"}}},
                "ReadingBatch": {"type": "object", "required": ["readings"], "properties": {"readings": {"type": "array", "maxItems": 10000, "items": schema("Reading")}}},
                "Accepted": {"type": "object", "properties": {"accepted": {"type": "integer"}, "meters": {"type": "array", "items": {"type": "integer"}}, "rejected": {"type": "array"}}},
                "Token": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "prefix": {"type": "string"}, "scope": {"type": "string"},
                    "meter_ids": {"type": "array", "items": {"type": "integer"}}, "created_at": {"type": "string"}, "last_used_at": {"type": ["string", "null"]}, "expires_at": {"type": ["string", "null"]}, "revoked": {"type": "boolean"}}},
                "NewToken": {"allOf": [schema("Token"), {"type": "object", "properties": {"token": {"type": "string", "description": "Shown this once"}}}]},
                "Source": {"type": "object", "properties": {"kind": {"enum": ["http", "simulator"]}, "url": {"type": "string"}, "bearer_token": {"type": "string", "writeOnly": true},
                    "headers": {"type": "object", "additionalProperties": {"type": "string"}}, "used_path": {"type": "string"}, "remaining_path": {"type": "string"},
                    "quota_path": {"type": "string"}, "scale": {"type": "number"}, "interval_secs": {"type": "integer"}, "timeout_secs": {"type": "integer"}, "enabled": {"type": "boolean"}}},
                "Attempt": {"type": "object", "properties": {"started_at": {"type": "string"}, "attempt": {"type": "integer"}, "status": {"enum": ["success", "failed", "timeout", "invalid"]},
                    "response_ms": {"type": ["integer", "null"]}, "http_status": {"type": ["integer", "null"]}, "error": {"type": ["string", "null"]}}},
                "Import": {"type": "object", "properties": {"id": {"type": "integer"}, "status": {"enum": ["running", "done", "failed"]}, "done_bytes": {"type": "integer"},
                    "total_bytes": {"type": "integer"}, "rows_imported": {"type": "integer"}, "rows_skipped": {"type": "integer"}, "note": {"type": ["string", "null"]}}},
                "Outlook": {"type": "object", "description": "The daily outlook: per quota meter (snapshot, average, projection, run-out, pace, status, safe days, advice), sensors, balance score, primary insight, quick actions, encouragement, tip, streak and 7-day trends.",
                    "properties": {"user_id": {"type": "integer"}, "date": {"type": "string", "format": "date"}, "balance_score": {"type": ["integer", "null"]},
                    "status": {"type": ["string", "null"]}, "primary_insight": {"type": "object"}, "meters": {"type": "array"}, "sensors": {"type": "array"},
                    "quick_actions": {"type": "array"}, "encouragement": {"type": ["string", "null"]}, "tip": {"type": ["object", "null"]}, "streak": {"type": "integer"},
                    "best_streak": {"type": "integer"}, "trends": {"type": "array"}}},
                "Trend": {"type": "object", "properties": {"meter_id": {"type": "integer"}, "days": {"type": "array", "items": {"type": "object", "properties": {
                    "date": {"type": "string"}, "usage": {"type": ["number", "null"]}, "budget": {"type": ["number", "null"]}, "change": {"type": ["number", "null"]}, "rolling_3": {"type": ["number", "null"]}}}}}},
                "Timeline": {"type": "object", "properties": {"meter_id": {"type": "integer"}, "counter": {"type": "boolean"}, "hours": {"type": "array", "items": {"type": "object", "properties": {
                    "start": {"type": "integer"}, "consumption": {"type": ["number", "null"]}, "mean": {"type": ["number", "null"]}, "min": {"type": ["number", "null"]}, "max": {"type": ["number", "null"]}}}}}},
                "PeerComparison": {"type": "object", "description": "Never another user's values: only the group's size and the caller's percentile in it.",
                    "properties": {"available": {"type": "boolean"}, "group_size": {"type": "integer"}, "percentile": {"type": ["integer", "null"]}, "your_pace": {"type": ["number", "null"]}, "meter_id": {"type": ["integer", "null"]}}},
                "Envelope": {"type": "object", "required": ["success", "timestamp"], "properties": {"success": {"type": "boolean"}, "data": {}, "cached": {"type": "boolean"},
                    "load_time": {"type": "number", "description": "seconds"}, "timestamp": {"type": "string"}}},
                "Tip": {"type": "object", "properties": {"id": {"type": "integer"}, "title": {"type": "string"}, "body": {"type": "string"}, "active": {"type": "boolean"}}},
                "Series": {"type": "object", "description": "A meter's history reduced to columns of whole tier buckets: column i spans [t0[i], t1[i]) and min[i]/max[i] are exactly the raw readings' minimum and maximum there.",
                    "required": ["meter_id", "tier", "method", "raw_count", "drawn_count", "read_from", "read_to", "t0", "t1", "min", "max", "mean", "first", "last", "count", "gaps"],
                    "properties": {"meter_id": {"type": "integer"}, "name": {"type": "string"}, "unit": {"type": "string"}, "kind": {"enum": ["quota", "sensor"]}, "timezone": {"type": "string"},
                    "utc_offset": {"type": "integer", "description": "seconds, when the answer was made"},
                    "read_from": {"type": "integer", "description": "Unix seconds: the range asked for, widened to whole columns"}, "read_to": {"type": "integer"},
                    "tier": {"enum": ["raw", "quarter_hour", "hour", "day", "week"], "description": "raw up to 6 h, 15-minute up to 8 d, hourly up to 80 d, local days up to ~5 y, local weeks beyond"},
                    "method": {"enum": ["raw", "minmax"]}, "column_secs": {"type": "integer"}, "raw_count": {"type": "integer"}, "drawn_count": {"type": "integer", "maximum": 2000}, "generated_at": {"type": "integer"},
                    "t0": {"type": "array", "items": {"type": "integer"}}, "t1": {"type": "array", "items": {"type": "integer"}},
                    "min": {"type": "array", "items": {"type": "number"}}, "max": {"type": "array", "items": {"type": "number"}}, "mean": {"type": "array", "items": {"type": "number"}},
                    "first": {"type": "array", "items": {"type": "number"}}, "last": {"type": "array", "items": {"type": "number"}}, "count": {"type": "array", "items": {"type": "integer"}},
                    "gaps": {"type": "array", "items": {"type": "integer"}, "description": "indexes of columns after a stretch without readings"},
                    "normal_range": {"type": "object", "properties": {"min": {"type": ["number", "null"]}, "max": {"type": ["number", "null"]}}},
                    "quota": {"type": "object", "properties": {"quota": {"type": "number"}, "period_start": {"type": "integer"}, "period_end": {"type": "integer"}, "boundaries": {"type": "array", "items": {"type": "integer"}},
                        "used": {"type": "number"}, "now": {"type": "integer"}, "projected": {"type": "number"}, "projected_low": {"type": "number"}, "projected_high": {"type": "number"}, "run_out": {"type": "string", "format": "date"}}}}}
            }
        },
        "security": [{"session": []}],
        "paths": {
            "/health": {"get": op("Database and cache status", "health", json!([]), None, "200", ok("Healthy or degraded (503 when the database is down)", json!({"type": "object"})))},
            "/api/v1/meters": {
                "get": op("Your meters", "meters", json!([]), None, "200", ok("Meters, archived last", array("Meter"))),
                "post": op("Create a meter", "meters", json!([]), Some(schema("MeterDraft")), "201", ok("Created", schema("Meter")))},
            "/api/v1/meters/{id}": {
                "get": op("One meter", "meters", json!([id]), None, "200", ok("The meter", schema("Meter"))),
                "patch": op("Change a meter (fields given)", "meters", json!([id]), Some(schema("MeterDraft")), "200", ok("Changed", schema("Meter")))},
            "/api/v1/meters/{id}/archive": {"post": op("Archive a meter", "meters", json!([id]), None, "200", ok("Archived", schema("Meter")))},
            "/api/v1/meters/{id}/sharing": {
                "get": op("Who the meter is shared with (its owner only)", "meters", json!([id]), None, "200", ok("Sharing", schema("MeterSharing"))),
                "put": op("Share with the household and chosen members (its owner only); members not listed lose their share", "meters", json!([id]),
                    Some(json!({"type": "object", "properties": {
                        "household_role": {"enum": ["viewer", "editor", "none", null]},
                        "members": {"type": "array", "maxItems": 100, "items": {"type": "object", "required": ["user_id", "role"],
                            "properties": {"user_id": {"type": "integer"}, "role": {"enum": ["viewer", "editor"]}}}}}})),
                    "200", ok("Sharing now", schema("MeterSharing")))},
            "/api/v1/readings": {"post": {
                "summary": "Store one reading or a batch of up to 10 000 (all or nothing; ?partial=true stores the good ones)", "tags": ["readings"],
                "security": [{"token": []}, {"session": []}],
                "parameters": [query("partial", "boolean", "Store the good entries and list the bad ones (207)")],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"oneOf": [schema("Reading"), schema("ReadingBatch")]}}}},
                "responses": error_responses().as_object().cloned().map(|mut r| {
                    r.insert("201".into(), ok("Committed", schema("Accepted")));
                    r.insert("207".into(), ok("Partly committed (partial=true)", schema("Accepted")));
                    r.insert("400".into(), ok("Not JSON", schema("Error")));
                    r.insert("413".into(), ok("Body over 4 MiB", schema("Error")));
                    Value::Object(r)
                }).unwrap_or_default()}},
            "/api/v1/meters/{id}/readings": {"get": op("Export readings as CSV or JSON", "readings",
                json!([id, query("from", "string", "RFC 3339 or a date, 1970..=2200, at most 3 years before `to` (default: 3 years before it)"), query("to", "string", "RFC 3339 or a date (inclusive), 1970..=2200 (default: now)"), query("format", "string", "csv (default) or json")]),
                None, "200", json!({"description": "The readings", "content": {"text/csv": {}, "application/json": {}}}))},
            "/api/v1/meters/{id}/imports": {"post": {"summary": "Import a CSV file in the background", "tags": ["readings"], "parameters": [id, query("format", "string", "legacy (default) or generic")],
                "requestBody": {"required": true, "content": {"text/csv": {}}},
                "responses": error_responses().as_object().cloned().map(|mut r| {
                    r.insert("202".into(), ok("Started", schema("Import")));
                    r.insert("409".into(), ok("An import is already running on this meter", schema("Error")));
                    r.insert("413".into(), ok("Body over HEADROOM_UPLOAD_LIMIT_BYTES (refused before reading when Content-Length says so)", schema("Error")));
                    r.insert("429".into(), ok("Three of your imports are already running", schema("Error")));
                    r.insert("503".into(), ok("Not received within HEADROOM_UPLOAD_TIMEOUT_SECS", schema("Error")));
                    Value::Object(r)
                }).unwrap_or_default()}},
            "/api/v1/imports/{id}": {"get": op("An import's progress", "readings", json!([id]), None, "200", ok("The import", schema("Import")))},
            "/api/v1/meters/{id}/source": {
                "get": op("Where readings are collected from", "collection", json!([id]), None, "200", ok("The source", schema("Source"))),
                "put": op("Set the source", "collection", json!([id]), Some(schema("Source")), "200", ok("Saved", schema("Source"))),
                "delete": op("Stop collecting", "collection", json!([id]), None, "204", json!({"description": "Removed"}))},
            "/api/v1/meters/{id}/attempts": {"get": op("Latest collection attempts", "collection", json!([id]), None, "200", ok("Newest first", array("Attempt")))},
            "/api/v1/meters/{id}/trends": {"get": op("Use per day", "outlook", json!([id, query("days", "integer", "1–366, default 7")]), None, "200", ok("Oldest first", schema("Trend")))},
            "/api/v1/meters/{id}/timeline": {"get": op("Use per hour", "outlook", json!([id, query("hours", "integer", "1–168, default 24")]), None, "200", ok("Oldest first", schema("Timeline")))},
            "/api/v1/meters/{id}/series": {"get": op("A meter's history for a chart: exact min/max per column, cached (ETag, 304)", "outlook", series_params(Some(id.clone())), None, "200", ok("Columns oldest first", schema("Series")))},
            "/api/v1/series": {"get": op("Up to four meters of one unit over one range", "outlook", series_params(None), None, "200", ok("One entry per id, in order", json!({"type": "object", "properties": {"series": {"type": "array", "items": {"$ref": "#/components/schemas/Series"}}}})))},
            "/api/v1/outlook": {"get": op("Your daily outlook", "outlook", json!([date]), None, "200", ok("X-Cache: hit when precomputed", schema("Outlook")))},
            "/api/v1/outlook/peers": {"get": op("Your pace among similar households", "outlook", json!([]), None, "200", ok("A percentile, never others' values", schema("PeerComparison")))},
            "/api/v1/tokens": {
                "get": op("Your API tokens", "tokens", json!([]), None, "200", ok("Without secrets", array("Token"))),
                "post": op("Create a token: ingest or read (chosen meters) or metrics (admins); optionally expiring", "tokens", json!([]), Some(json!({"type": "object", "properties": {"name": {"type": "string", "maxLength": 80}, "scope": {"enum": ["ingest", "read", "metrics"]}, "meter_ids": {"type": "array", "maxItems": 200, "items": {"type": "integer"}}, "expires_in_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 3650}}})), "201", ok("The token, shown once", schema("NewToken")))},
            "/api/v1/tokens/{id}": {"delete": op("Revoke a token", "tokens", json!([id]), None, "204", json!({"description": "Revoked"}))},
            "/api/v1/admin/tips": {
                "get": op("Tips of the day (admins)", "admin", json!([]), None, "200", ok("All tips", array("Tip"))),
                "post": op("Add a tip (admins)", "admin", json!([]), Some(schema("Tip")), "201", ok("Added", schema("Tip")))},
            "/api/v1/admin/tips/{id}": {"put": op("Change a tip (admins)", "admin", json!([id]), Some(schema("Tip")), "200", ok("Changed", schema("Tip")))},
            "/api/usage/current": {"get": op("Your primary quota meter, in the old monitor's shape", "compatibility", json!([]), None, "200", ok("MB fields", json!({"type": "object"})))},
            "/api/v2/daily-outlook/{user_id}": {"get": op("A user's daily outlook (yours; admins: anyone's)", "compatibility", json!([uid, date]), None, "200", ok("Envelope", schema("Envelope")))},
            "/api/v2/daily-outlook/{user_id}/balance-score": {"get": op("A user's balance score", "compatibility", json!([uid, date]), None, "200", ok("Envelope", schema("Envelope")))},
            "/api/v2/daily-outlook/{user_id}/peer-comparison": {"get": op("A user's peer comparison", "compatibility", json!([uid, date]), None, "200", ok("Envelope", schema("Envelope")))},
            "/api/v2/daily-outlook/batch": {"post": op("Outlooks of up to 100 users (admins)", "compatibility", json!([]),
                Some(json!({"type": "object", "properties": {"user_ids": {"type": "array", "maxItems": 100, "items": {"type": "integer"}}, "date": {"type": "string"}}})), "200", ok("Envelope", schema("Envelope")))},
            "/api/v2/daily-outlook/health": {"get": op("The outlook service's health", "compatibility", json!([]), None, "200", ok("Envelope", schema("Envelope")))}
        }
    })
}

async fn serve() -> Json<Value> {
    Json(document())
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(serve))
}
