//! The OpenAPI 3.1 description of the JSON API, served at `GET /api/v1/openapi.json`.
//!
//! Two halves. The component schemas (what each request and answer looks like) are
//! derived from the Rust types with `utoipa` ([`Schemas`]): the DTOs the handlers
//! serialise and the inputs they read, so a field added, renamed or made optional changes
//! the document too. The paths (what each route is for, its parameters, which schema it
//! answers) are written out here so they read as documentation; [`finish`] then adds to
//! every operation the error answers the pipeline can give it (400, 401, 403, 404, 413,
//! 415, 422, 429, 503, 507) and its security (session cookie, bearer token, or none).
//! `tests/api/openapi.rs` fails when a routed path is missing here or a documented one is
//! not routed, and scripts/fuzz-api runs schemathesis against the served document.

use axum::{Json, Router, routing::get};
use serde_json::{Map, Value, json};
use utoipa::OpenApi;

use crate::{
    domain::{
        meter::MeterDraft,
        outlook::{MeterTrend, peers::PeerComparison},
    },
    dto::{
        self, accounts, notify,
        perf::{Alert, Analytics, CacheReport, LivePoint, Metrics, Summary},
        series::SeriesSet,
    },
    server::{
        http::error::Body,
        service::{shares::SharingRequest, sources::SourceInput, tips::TipInput},
        state::AppState,
    },
};

/// The types whose schemas the document carries; the types they contain come along.
#[derive(OpenApi)]
#[openapi(components(schemas(
    Body,
    MeterDraft,
    MeterTrend,
    PeerComparison,
    SharingRequest,
    SourceInput,
    TipInput,
    dto::MeterView,
    dto::MeterSharing,
    dto::TokenView,
    dto::NewToken,
    dto::SourceView,
    dto::AttemptView,
    dto::ImportView,
    dto::TipView,
    dto::Timeline,
    dto::series::Series,
    SeriesSet,
    accounts::UserView,
    accounts::SessionView,
    accounts::AccountView,
    accounts::HouseholdView,
    accounts::LinkView,
    accounts::InvitePreview,
    notify::NotificationList,
    notify::NotifySettings,
    notify::Webhook,
    notify::NewWebhook,
    notify::Deliveries,
    notify::MeterRules,
    notify::WebhookTest,
    notify::PushDevice,
    notify::NewPushSubscription,
    Metrics,
    Analytics,
    Summary,
    Alert,
    CacheReport,
    LivePoint,
)))]
struct Schemas;

/// The derived component schemas, by name.
pub fn derived_schemas() -> Map<String, Value> {
    let components = Schemas::openapi().components;
    match serde_json::to_value(components) {
        Ok(Value::Object(mut c)) => match c.remove("schemas") {
            Some(Value::Object(schemas)) => schemas,
            _ => Map::new(),
        },
        _ => Map::new(),
    }
}

/// The responses an operation starts with; [`finish`] adds every error status it can
/// answer.
fn error_responses() -> Value {
    json!({})
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

/// Every error status an operation may answer, and when. Each has the `Error` body.
const ERRORS: [(&str, &str); 10] = [
    (
        "400",
        "Malformed: a body that is not JSON, or a path or query parameter that does not parse (`field` names it)",
    ),
    ("401", "Not signed in, or no valid token"),
    (
        "403",
        "Not allowed: an administrators' route, a meter you only view, or beyond the token's scope or meters",
    ),
    ("404", "No such thing, or not yours"),
    ("413", "Body over its limit"),
    ("415", "Body is not application/json"),
    ("422", "Invalid input: see field, fields or items"),
    (
        "429",
        "Too many requests for your plan, token or sign-in attempts (Retry-After)",
    ),
    (
        "503",
        "Database unreachable or server overloaded; try again (Retry-After)",
    ),
    (
        "507",
        "The server's disk is full; nothing was stored (Retry-After)",
    ),
];

/// Operations anyone may call, signed in or not (`security: []`).
const PUBLIC: [(&str, &str); 9] = [
    ("get", "/health"),
    ("get", "/health/live"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/setup"),
    ("post", "/api/v1/setup"),
    ("get", "/api/v1/invites/{secret}"),
    ("post", "/api/v1/invites/{secret}/accept"),
    ("post", "/api/v1/resets/{secret}"),
    ("get", "/api/v2/daily-outlook/health"),
];

/// Operations an API token may call as well as a session: the read routes (`ReadUser`:
/// read tokens, on their meters), ingest (ingest tokens) and /metrics (metrics tokens).
const TOKEN: [(&str, &str); 14] = [
    ("get", "/api/v1/meters"),
    ("get", "/api/v1/meters/{id}"),
    ("get", "/api/v1/meters/{id}/rules"),
    ("get", "/api/v1/meters/{id}/readings"),
    ("get", "/api/v1/meters/{id}/trends"),
    ("get", "/api/v1/meters/{id}/timeline"),
    ("get", "/api/v1/meters/{id}/series"),
    ("get", "/api/v1/series"),
    ("get", "/api/v1/outlook"),
    ("get", "/api/usage/current"),
    ("get", "/api/v2/daily-outlook/{user_id}"),
    ("get", "/api/v2/daily-outlook/{user_id}/balance-score"),
    ("post", "/api/v1/readings"),
    ("get", "/metrics"),
];

/// Gives every operation its security and the error answers it can give: the pipeline
/// can refuse any request as malformed (400), not found (404), invalid (422), rate
/// limited (429) or unavailable (503); a signed-in route also as 401 / 403; one with a
/// JSON body also as 413 / 415; and a write also as 507. What an operation already says
/// about a status (a sharper description) is kept.
fn finish(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            let key = (method.as_str(), path.as_str());
            let public = PUBLIC.contains(&key);
            op["security"] = if public {
                json!([])
            } else if TOKEN.contains(&key) {
                json!([{"session": []}, {"token": []}])
            } else {
                json!([{"session": []}])
            };
            let json_body = op["requestBody"]["content"]
                .get("application/json")
                .is_some();
            let raw_body = op.get("requestBody").is_some() && !json_body;
            let Some(responses) = op["responses"].as_object_mut() else {
                continue;
            };
            for (status, description) in ERRORS {
                let applies = match status {
                    "401" | "403" => !public,
                    "413" => json_body || raw_body,
                    "415" => json_body,
                    "507" => method != "get",
                    _ => true,
                };
                if applies && !responses.contains_key(status) {
                    responses.insert(
                        status.to_string(),
                        json!({"description": description, "content": {"application/json": {"schema": schema("Error")}}}),
                    );
                }
            }
        }
    }
}

/// The document.
pub fn document() -> Value {
    let mut doc = base_document();
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        // A derived schema never replaces a written one: two types of one name (utoipa
        // names by the type's last segment) would silently describe the wrong answer,
        // so the written one stays and tests/api/openapi.rs names the clash.
        for (name, schema) in derived_schemas() {
            schemas.entry(name).or_insert(schema);
        }
    }
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
    finish(&mut doc);
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
    let user = schema("UserView");
    let account = schema("AccountView");
    let session = schema("SessionView");
    let household = schema("HouseholdView");
    let link = schema("LinkView");
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
            ok("Invitation", schema("InvitePreview")))},
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
    let string = json!({"type": "string"});
    let clock = json!({"type": ["string", "null"], "pattern": "^\\d{1,2}:\\d{2}$", "description": "HH:MM in the user's timezone"});
    let list = schema("NotificationList");
    let settings = schema("NotifySettings");
    let rules = schema("AlertSettings");
    let meter_rules = schema("MeterRules");
    let webhook = schema("Webhook");
    let new_webhook = schema("NewWebhook");
    let deliveries = schema("Deliveries");
    let tested = schema("WebhookTest");
    let device = schema("PushDevice");
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
                Some(schema("NewPushSubscription")),
                "201", ok("The device", device))},
        "/api/v1/push/subscriptions/{id}": {"delete": op("Stop notifying a device", "notifications", json!([id]), None, "204", none("Removed"))},
    })
}

fn performance_paths() -> Value {
    let id = path_id("id");
    let obj = || json!({"type": "object"});
    let tag = "performance";
    let alert = json!({"type": "object", "required": ["success", "alert"], "properties": {"success": {"type": "boolean"}, "alert": schema("Alert")}});
    json!({
        "/api/performance/metrics": {"get": op("Request, statement, cache, job and system figures (admins)", tag, json!([]), None, "200", ok("Last 5 minutes in the seed's shape, detail since start", schema("Metrics")))},
        "/api/performance/analytics": {"get": op("Score, alerts, trend, recommendations and chart points (admins)", tag,
            json!([query("minutes", "integer", "1–10080, default 5")]), None, "200", ok("Analytics", schema("Analytics")))},
        "/api/performance/summary": {"get": op("Health score with its components and key figures (admins)", tag, json!([]), None, "200", ok("Summary", schema("Summary")))},
        "/api/performance/alerts": {"get": op("Performance alerts, newest first (admins)", tag,
            json!([query("resolved", "boolean", "true or false; omit for all"), query("limit", "integer", "1–1000, default 100")]), None, "200", ok("Alerts", json!({"type": "object", "required": ["alerts", "count"], "properties": {"alerts": {"type": "array", "items": schema("Alert")}, "count": {"type": "integer"}}})))},
        "/api/performance/alerts/{id}/resolve": {"post": op("Resolve an alert (admins)", tag, json!([id]), None, "200", ok("The alert", alert.clone()))},
        "/api/performance/alerts/{id}/acknowledge": {"post": op("Acknowledge an alert (admins)", tag, json!([id]), None, "200", ok("The alert", alert))},
        "/api/performance/thresholds": {
            "get": op("Alert thresholds and presets (admins)", tag, json!([]), None, "200", ok("Thresholds", obj())),
            "put": op("Change thresholds or apply a preset (admins)", tag, json!([]), Some(json!({"type": "object", "properties": {
                "preset": {"type": "string", "enum": ["production", "development", "custom"]},
                "slow_request_threshold": {"type": "number"}, "slow_query_threshold": {"type": "number"},
                "high_memory_threshold": {"type": "number"}, "error_rate_threshold": {"type": "number"},
                "cache_hit_rate_threshold": {"type": "number"}, "delivery_lag_threshold": {"type": "number"}}})), "200", ok("Thresholds", obj()))},
        "/api/performance/stream": {"get": op("Live samples as server-sent events (admins)", tag, json!([]), None, "200",
            json!({"description": "text/event-stream, one `sample` event per tick whose data is a LivePoint", "content": {"text/event-stream": {"schema": {
                "type": "object", "required": ["event", "data"], "properties": {"event": {"const": "sample"},
                "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": schema("LivePoint")}}}}}}))},
        "/api/performance/cache/stats": {"get": op("Cache statistics per tier and strategy (admins)", tag, json!([]), None, "200", ok("Statistics", schema("CacheReport")))},
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
                "Reading": {"type": "object", "required": ["meter_id", "timestamp", "value"], "properties": {
                    "meter_id": {"type": "integer"}, "timestamp": {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "integer"}]},
                    "value": {"type": "number"}, "remaining": {"type": "number"}}},
                "ReadingBatch": {"type": "object", "required": ["readings"], "properties": {"readings": {"type": "array", "maxItems": 10000, "items": schema("Reading")}}},
                "Accepted": {"type": "object", "properties": {"accepted": {"type": "integer"}, "meters": {"type": "array", "items": {"type": "integer"}}, "rejected": {"type": "array"}}},
                "Outlook": {"type": "object", "description": "The daily outlook: per quota meter (snapshot, average, projection, run-out, pace, status, safe days, advice), sensors, balance score, primary insight, quick actions, encouragement, tip, streak and 7-day trends.",
                    "properties": {"user_id": {"type": "integer"}, "date": {"type": "string", "format": "date"}, "balance_score": {"type": ["integer", "null"]},
                    "status": {"type": ["string", "null"]}, "primary_insight": {"type": "object"}, "meters": {"type": "array"}, "sensors": {"type": "array"},
                    "quick_actions": {"type": "array"}, "encouragement": {"type": ["string", "null"]}, "tip": {"type": ["object", "null"]}, "streak": {"type": "integer"},
                    "best_streak": {"type": "integer"}, "trends": {"type": "array"}}},
                "Envelope": {"type": "object", "required": ["success", "timestamp"], "properties": {"success": {"type": "boolean"}, "data": {}, "cached": {"type": "boolean"},
                    "load_time": {"type": "number", "description": "seconds"}, "timestamp": {"type": "string"}}}
            }
        },
        "security": [{"session": []}],
        "paths": {
            "/health": {"get": op("Database and cache status", "health", json!([]), None, "200", ok("Healthy or degraded (503 when the database is down)", json!({"type": "object"})))},
            "/health/live": {"get": op("Whether the process answers at all (no database or cache call)", "health", json!([]), None, "200", json!({"description": "Alive", "content": {"text/plain": {"schema": {"type": "string"}}}}))},
            "/api/v1/openapi.json": {"get": op("This document", "meta", json!([]), None, "200", ok("OpenAPI 3.1", json!({"type": "object"})))},
            "/api/v1/meters": {
                "get": op("Your meters", "meters", json!([]), None, "200", ok("Meters, archived last", array("MeterView"))),
                "post": op("Create a meter", "meters", json!([]), Some(schema("MeterDraft")), "201", ok("Created", schema("MeterView")))},
            "/api/v1/meters/{id}": {
                "get": op("One meter", "meters", json!([id]), None, "200", ok("The meter", schema("MeterView"))),
                "patch": op("Change a meter (fields given)", "meters", json!([id]), Some(schema("MeterDraft")), "200", ok("Changed", schema("MeterView")))},
            "/api/v1/meters/{id}/archive": {"post": op("Archive a meter", "meters", json!([id]), None, "200", ok("Archived", schema("MeterView")))},
            "/api/v1/meters/{id}/sharing": {
                "get": op("Who the meter is shared with (its owner only)", "meters", json!([id]), None, "200", ok("Sharing", schema("MeterSharing"))),
                "put": op("Share with the household and chosen members (its owner only); members not listed lose their share", "meters", json!([id]),
                    Some(schema("SharingRequest")),
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
                    r.insert("202".into(), ok("Started", schema("ImportView")));
                    r.insert("409".into(), ok("An import is already running on this meter", schema("Error")));
                    r.insert("413".into(), ok("Body over HEADROOM_UPLOAD_LIMIT_BYTES (refused before reading when Content-Length says so)", schema("Error")));
                    r.insert("429".into(), ok("Three of your imports are already running", schema("Error")));
                    r.insert("503".into(), ok("Not received within HEADROOM_UPLOAD_TIMEOUT_SECS", schema("Error")));
                    Value::Object(r)
                }).unwrap_or_default()}},
            "/api/v1/imports/{id}": {"get": op("An import's progress", "readings", json!([id]), None, "200", ok("The import", schema("ImportView")))},
            "/api/v1/meters/{id}/source": {
                "get": op("Where readings are collected from", "collection", json!([id]), None, "200", ok("The source", schema("SourceView"))),
                "put": op("Set the source", "collection", json!([id]), Some(schema("SourceInput")), "200", ok("Saved", schema("SourceView"))),
                "delete": op("Stop collecting", "collection", json!([id]), None, "204", json!({"description": "Removed"}))},
            "/api/v1/meters/{id}/attempts": {"get": op("Latest collection attempts", "collection", json!([id]), None, "200", ok("Newest first", array("AttemptView")))},
            "/api/v1/meters/{id}/trends": {"get": op("Use per day", "outlook", json!([id, query("days", "integer", "1–366, default 7")]), None, "200", ok("Oldest first", schema("MeterTrend")))},
            "/api/v1/meters/{id}/timeline": {"get": op("Use per hour", "outlook", json!([id, query("hours", "integer", "1–168, default 24")]), None, "200", ok("Oldest first", schema("Timeline")))},
            "/api/v1/meters/{id}/series": {"get": op("A meter's history for a chart: exact min/max per column, cached (ETag, 304)", "outlook", series_params(Some(id.clone())), None, "200", ok("Columns oldest first", schema("Series")))},
            "/api/v1/series": {"get": op("Up to four meters of one unit over one range", "outlook", series_params(None), None, "200", ok("One entry per id, in order", schema("SeriesSet")))},
            "/api/v1/outlook": {"get": op("Your daily outlook", "outlook", json!([date]), None, "200", ok("X-Cache: hit when precomputed", schema("Outlook")))},
            "/api/v1/outlook/peers": {"get": op("Your pace among similar households", "outlook", json!([]), None, "200", ok("A percentile, never others' values", schema("PeerComparison")))},
            "/api/v1/tokens": {
                "get": op("Your API tokens", "tokens", json!([]), None, "200", ok("Without secrets", array("TokenView"))),
                "post": op("Create a token: ingest or read (chosen meters) or metrics (admins); optionally expiring", "tokens", json!([]), Some(json!({"type": "object", "properties": {"name": {"type": "string", "maxLength": 80}, "scope": {"enum": ["ingest", "read", "metrics"]}, "meter_ids": {"type": "array", "maxItems": 200, "items": {"type": "integer"}}, "expires_in_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 3650}}})), "201", ok("The token, shown once", schema("NewToken")))},
            "/api/v1/tokens/{id}": {"delete": op("Revoke a token", "tokens", json!([id]), None, "204", json!({"description": "Revoked"}))},
            "/api/v1/admin/tips": {
                "get": op("Tips of the day (admins)", "admin", json!([]), None, "200", ok("All tips", array("TipView"))),
                "post": op("Add a tip (admins)", "admin", json!([]), Some(schema("TipInput")), "201", ok("Added", schema("TipView")))},
            "/api/v1/admin/tips/{id}": {"put": op("Change a tip (admins)", "admin", json!([id]), Some(schema("TipInput")), "200", ok("Changed", schema("TipView")))},
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
