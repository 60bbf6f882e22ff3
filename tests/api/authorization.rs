//! Walks every route the server declares, for every kind of caller, and checks the
//! answer against one table of rules (issue 19: "one authorization rule, proven").
//!
//! The routes are read from the source (`.route("…", get(…).post(…))` in
//! `src/server/http/**` and `path!("…")` page routes in `src/ui/app.rs`), so a new route
//! without a rule in [`rule_for`] fails this test until someone decides who may use it.
//! The callers are the household of `sharing.rs`: Mia owns meter M and shares it with
//! her household to view and with Ada to edit (Tom views), Eve is in another household,
//! Root is an administrator of that other household, plus anonymous callers and tokens
//! of each scope.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;
use crate::meters_api::spawn_user_client;

/// A route as declared: method and path pattern (`{id}` / `:id` placeholders).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Route {
    pub(crate) method: String,
    pub(crate) path: String,
}

/// Every `.route(` call of the HTTP layer, with each method its handler chain names.
pub(crate) fn declared_routes() -> BTreeSet<Route> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/server/http");
    let mut files = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut out = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            let call = &rest[at + ".route(".len()..];
            // The call's text up to its closing parenthesis.
            let mut depth = 1;
            let end = call
                .char_indices()
                .find(|(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map_or(call.len(), |(i, _)| i);
            let body = &call[..end];
            rest = &call[end..];
            let Some(path) = body.split('"').nth(1).filter(|p| p.starts_with('/')) else {
                continue;
            };
            for method in ["get", "post", "put", "patch", "delete", "any"] {
                let needle = format!("{method}(");
                let named = body.match_indices(&needle).any(|(i, _)| {
                    i == 0 || !body[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                });
                if named {
                    out.insert(Route {
                        method: method.to_uppercase(),
                        path: path.to_string(),
                    });
                }
            }
        }
    }
    // The page routes of the Leptos app, all GET.
    let app = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui/app.rs"),
    )
    .expect("app.rs");
    for piece in app.split("path!(\"").skip(1) {
        let path = piece.split('"').next().unwrap_or_default();
        out.insert(Route {
            method: "GET".into(),
            path: path.to_string(),
        });
    }
    out
}

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    /// A member of another household.
    Stranger,
    Viewer,
    Editor,
    Owner,
    /// An administrator, of another household.
    Admin,
    IngestToken,
    ReadToken,
    MetricsToken,
}

const CALLERS: [Caller; 9] = [
    Caller::Anonymous,
    Caller::Stranger,
    Caller::Viewer,
    Caller::Editor,
    Caller::Owner,
    Caller::Admin,
    Caller::IngestToken,
    Caller::ReadToken,
    Caller::MetricsToken,
];

/// What must come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Past every check of who is asking: anything but 401, 403, 404, a redirect to
    /// sign in, or a server error (a 422 for the empty body we send is fine).
    Allowed,
    /// Past the check of who is asking, though the thing may not exist (an alert id
    /// made up for the walk): anything but 401, 403, a redirect to sign in, or a 5xx.
    Reached,
    /// Not signed in: 401 for the API, a redirect to /login for forms and pages.
    SignIn,
    /// Sent elsewhere (any redirect).
    Moved,
    Status(u16),
}

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user, about themselves.
    Member,
    /// Any signed-in user, or a read token about its user.
    MemberOrReader,
    /// The first-run pages once the install has users: everyone is sent to sign in.
    SetupDone,
    /// Any signed-in user, about a thing of their own by id (another's is not found).
    OwnById,
    /// Administrators only.
    Admin,
    /// Administrators only, about a thing by id that may not exist.
    AdminById,
    /// Meter M: anyone who may see it (a read token of its meter too).
    MeterRead,
    /// Meter M: its owner and editors.
    MeterWrite,
    /// Meter M: its owner only.
    MeterManage,
    /// An object of Mia's own (a token, an import): Mia only; to everyone else it does
    /// not exist.
    OwnObject,
    /// Mia's seed-API outlook: Mia and her read token.
    OwnOutlook,
    /// Mia's seed-API peer comparison: Mia only (it is about where she lives).
    OwnPeers,
    /// The caller's primary quota meter: whoever sees one (Mia's, shared with her
    /// household); the other household has none.
    PrimaryMeter,
    /// An import into meter M: whoever may add readings to it.
    MeterImport,
    /// Readings in: a session user or an ingest token, per meter.
    Ingest,
    /// The Prometheus scrape: a metrics token (or an admin's session).
    Scrape,
}

fn rule_for(r: &Route) -> Option<Rule> {
    use Rule::*;
    let p = r.path.as_str();
    let m = r.method.as_str();
    Some(match (m, p) {
        (_, "/health" | "/health/live" | "/sw.js" | "/manifest.webmanifest") => Public,
        (_, "/api/v1/openapi.json" | "/api/v2/daily-outlook/health" | "/login") => Public,
        // Signing out is harmless to anyone: without a session it just says so.
        ("POST", "/logout") => Public,
        // First run, invitations and resets: the secret in the link (or the setup code)
        // is the permission; a made-up one is refused without saying more.
        ("GET", "/api/v1/setup") | ("POST", "/api/v1/setup") => Public,
        // The setup pages of an install that has users send everyone to sign in.
        (_, "/setup" | "/forms/setup") => SetupDone,
        (_, p)
            if p.starts_with("/invite/")
                || p.starts_with("/reset/")
                || p.starts_with("/api/v1/invites/{secret}")
                || p.starts_with("/api/v1/resets/")
                || p.starts_with("/forms/invite/")
                || p.starts_with("/forms/reset/") =>
        {
            Public
        }
        // One's own account: name, password, sessions.
        (_, "/account" | "/api/v1/account" | "/api/v1/account/password") => Member,
        (_, "/api/v1/account/sessions" | "/forms/account/sessions/others/sign-out") => Member,
        (_, "/forms/account/name" | "/forms/account/password") => Member,
        (_, "/api/v1/account/sessions/{id}" | "/forms/account/sessions/{id}/sign-out") => OwnById,
        // Accounts and households are the administrators'.
        (_, "/api/v1/users" | "/api/v1/households" | "/api/v1/invites") => Admin,
        (_, "/forms/admin/households" | "/forms/admin/invites") => Admin,
        (_, p) if p.starts_with("/api/v1/users/") || p.starts_with("/forms/admin/users/") => {
            AdminById
        }
        ("GET", "/" | "/meters" | "/meters/new" | "/settings/tokens") => Member,
        ("POST", "/meters/new" | "/settings/tokens") => Member,
        ("GET" | "POST", "/api/v1/meters") => {
            if m == "GET" {
                MemberOrReader
            } else {
                Member
            }
        }
        ("GET", "/api/v1/outlook") => MemberOrReader,
        ("GET", "/api/usage/current") => PrimaryMeter,
        ("GET", "/api/v1/outlook/peers") => Member,
        ("GET" | "POST", "/api/v1/tokens") => Member,
        ("DELETE", "/api/v1/tokens/{id}") | ("POST", "/settings/tokens/{id}/revoke") => OwnObject,
        ("GET", "/api/v1/imports/{id}") => MeterImport,
        // One's own notifications, their settings and delivery log; the push key and
        // one's devices.
        ("GET", "/notifications") => Member,
        (
            _,
            "/api/v1/notifications"
            | "/api/v1/notifications/read-all"
            | "/api/v1/notifications/settings"
            | "/api/v1/deliveries"
            | "/api/v1/push/key"
            | "/api/v1/push/subscriptions"
            | "/notifications/read-all"
            | "/notifications/settings"
            | "/notifications/webhook",
        ) => Member,
        // One's own webhook (not found until it is set), notifications, dead letters and
        // push devices by id (another's are not found).
        (
            _,
            "/api/v1/webhook"
            | "/api/v1/webhook/test"
            | "/notifications/webhook/test"
            | "/notifications/webhook/delete"
            | "/api/v1/notifications/{id}/read"
            | "/notifications/{id}/read"
            | "/api/v1/deliveries/{id}/resend"
            | "/notifications/deliveries/{id}/resend"
            | "/api/v1/push/subscriptions/{id}"
            | "/notifications/devices/{id}/delete",
        ) => OwnById,
        ("GET", "/api/v1/meters/{id}/rules") => MeterRead,
        (_, "/api/v1/meters/{id}/rules" | "/meters/{id}/rules") => MeterManage,
        ("POST", "/api/v1/readings") => Ingest,
        ("GET", "/metrics") => Scrape,
        (
            "GET",
            "/api/v2/daily-outlook/{user_id}" | "/api/v2/daily-outlook/{user_id}/balance-score",
        ) => OwnOutlook,
        ("GET", "/api/v2/daily-outlook/{user_id}/peer-comparison") => OwnPeers,
        ("POST", "/api/v2/daily-outlook/batch") => Admin,
        (_, p) if p.contains("/alerts/") || p.contains("/tips/") => AdminById,
        (_, p) if p.starts_with("/api/performance") || p.starts_with("/admin/") => Admin,
        (_, p) if p.starts_with("/api/v1/admin/") || p == "/api/v2/daily-outlook/performance" => {
            Admin
        }
        ("GET", "/meters/:id") => MeterRead,
        (
            "GET",
            "/api/v1/meters/{id}"
            | "/api/v1/meters/{id}/trends"
            | "/api/v1/meters/{id}/timeline"
            | "/api/v1/meters/{id}/series"
            | "/api/v1/series"
            | "/api/v1/meters/{id}/readings",
        ) => MeterRead,
        ("PATCH", "/api/v1/meters/{id}") | ("POST", "/meters/{id}" | "/meters/{id}/readings") => {
            MeterWrite
        }
        ("POST", "/meters/{id}/import" | "/api/v1/meters/{id}/imports") => MeterWrite,
        (_, "/api/v1/meters/{id}/archive" | "/meters/{id}/archive") => MeterManage,
        (_, "/api/v1/meters/{id}/sharing" | "/meters/{id}/sharing") => MeterManage,
        (_, "/api/v1/meters/{id}/source" | "/meters/{id}/source") => MeterManage,
        (_, "/api/v1/meters/{id}/attempts") => MeterManage,
        _ => return None,
    })
}

fn is_token(c: Caller) -> bool {
    matches!(
        c,
        Caller::IngestToken | Caller::ReadToken | Caller::MetricsToken
    )
}

/// The rule's answer for one caller. Tokens count as signed out wherever a rule does
/// not name them, and on every page (pages are for people in browsers).
fn expect(rule: Rule, c: Caller, page: bool) -> Expect {
    use Caller::*;
    use Expect::*;
    let signed_in = !is_token(c) && c != Anonymous;
    if page && is_token(c) && !matches!(rule, Rule::Public | Rule::SetupDone) {
        return SignIn;
    }
    match rule {
        Rule::Public => Reached,
        Rule::Member if signed_in => Allowed,
        Rule::MemberOrReader if signed_in || c == ReadToken => Allowed,
        Rule::MemberOrReader if is_token(c) => Status(403),
        Rule::Member | Rule::MemberOrReader => SignIn,
        Rule::SetupDone => Moved,
        Rule::OwnById if signed_in => Reached,
        Rule::OwnById => SignIn,
        Rule::Admin if c == Admin => Allowed,
        Rule::Admin if signed_in => Status(403),
        Rule::Admin => SignIn,
        Rule::AdminById if c == Admin => Reached,
        Rule::AdminById if signed_in => Status(403),
        Rule::AdminById => SignIn,
        Rule::MeterRead => match c {
            Owner | Editor | Viewer | ReadToken => Allowed,
            Stranger | Admin => Status(404),
            IngestToken | MetricsToken => Status(403),
            Anonymous => SignIn,
        },
        Rule::MeterWrite => match c {
            Owner | Editor => Allowed,
            Viewer => Status(403),
            Stranger | Admin => Status(404),
            _ => SignIn,
        },
        Rule::MeterManage => match c {
            Owner => Allowed,
            Editor | Viewer => Status(403),
            Stranger | Admin => Status(404),
            _ => SignIn,
        },
        Rule::OwnObject => match c {
            Owner => Allowed,
            Stranger | Admin | Editor | Viewer => Status(404),
            _ => SignIn,
        },
        Rule::OwnOutlook => match c {
            Owner | ReadToken => Allowed,
            Stranger | Admin | Editor | Viewer => Status(403),
            IngestToken | MetricsToken => Status(403),
            Anonymous => SignIn,
        },
        Rule::OwnPeers => match c {
            Owner => Allowed,
            Stranger | Admin | Editor | Viewer => Status(403),
            _ => SignIn,
        },
        Rule::PrimaryMeter => match c {
            Owner | Editor | Viewer | ReadToken => Allowed,
            Stranger | Admin => Status(404),
            IngestToken | MetricsToken => Status(403),
            Anonymous => SignIn,
        },
        Rule::MeterImport => match c {
            Owner | Editor => Allowed,
            Viewer => Status(403),
            Stranger | Admin => Status(404),
            _ => SignIn,
        },
        Rule::Ingest => match c {
            Owner | Editor | IngestToken => Allowed,
            Viewer | ReadToken | MetricsToken => Status(403),
            // Another household's meter is an unknown meter: a bad entry of the batch.
            Stranger | Admin => Status(422),
            Anonymous => SignIn,
        },
        Rule::Scrape => match c {
            MetricsToken | Admin => Allowed,
            Anonymous => SignIn,
            _ => Status(403),
        },
    }
}

/// Requests that change what later requests see (an owner's empty sharing form unshares
/// the meter): each allowed one runs in a household of its own.
fn destructive(r: &Route) -> bool {
    r.path.contains("archive")
        || r.path.ends_with("/sharing") && r.method != "GET"
        || r.path == "/logout"
        || r.path.contains("/revoke")
        || r.method == "DELETE"
        || r.path.starts_with("/forms/admin/users/")
        || r.method == "PATCH" && r.path.starts_with("/api/v1/users/")
}

/// A page of the app (GET, not under /api, not a file).
fn is_page(r: &Route) -> bool {
    r.method == "GET"
        && !r.path.starts_with("/api")
        && !r.path.contains('.')
        && !r.path.starts_with("/health")
        && r.path != "/metrics"
}

struct World {
    app: TestApp,
    meter: i64,
    mia: i64,
    token_id: i64,
    import_id: i64,
    callers: Vec<(Caller, reqwest::Client, Option<String>)>,
}

async fn world() -> World {
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            now: "2026-11-21T08:00:00Z".parse().ok(),
            ..Options::default()
        },
    )
    .await;
    let mia = app.signed_in_user("mia@example.org", "UTC").await;
    let meter = app
        .add_quota_meter(mia, "Home internet", 300_000.0, "monthly:1", "UTC")
        .await;
    app.add_readings(meter, &[("2026-11-21T07:00:00Z", 110_000.0)])
        .await;
    let tom = spawn_user_client(&app, "tom@example.org").await;
    let ada = spawn_user_client(&app, "ada@example.org").await;
    let eve = spawn_user_client(&app, "eve@example.org").await;
    let root_id = app.add_user("root@example.org", "admin", "UTC").await;
    let root = client();
    let res = root
        .post(app.url("/login"))
        .form(&[("email", "root@example.org"), ("password", PASSWORD)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(res.status(), 303);
    let id = |email: &'static str| {
        let db = app.state.db.clone();
        async move { db.user_by_email(email).await.expect("q").expect("user").id }
    };
    let (tom_id, ada_id, eve_id) = (
        id("tom@example.org").await,
        id("ada@example.org").await,
        id("eve@example.org").await,
    );
    app.add_household("Mia's", &[mia, tom_id, ada_id]).await;
    app.add_household("Eve's", &[eve_id, root_id]).await;
    let res = app
        .client
        .put(app.url(&format!("/api/v1/meters/{meter}/sharing")))
        .json(&json!({"household_role": "viewer", "members": [{"user_id": ada_id, "role": "editor"}]}))
        .send()
        .await
        .expect("share");
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .put(app.url(&format!("/api/v1/meters/{meter}/source")))
        .json(&json!({"kind": "simulator", "enabled": false}))
        .send()
        .await
        .expect("source");
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let token = |c: reqwest::Client, body: serde_json::Value| {
        let url = app.url("/api/v1/tokens");
        async move {
            let (status, t) = json_of(c.post(url).json(&body).send().await.expect("POST")).await;
            assert_eq!(status, 201, "{t}");
            (
                t["token"].as_str().expect("token").to_string(),
                t["id"].as_i64().expect("id"),
            )
        }
    };
    let (ingest, token_id) = token(
        app.client.clone(),
        json!({"name": "router", "meter_ids": [meter]}),
    )
    .await;
    let (read, _) = token(
        app.client.clone(),
        json!({"name": "tablet", "scope": "read", "meter_ids": [meter]}),
    )
    .await;
    let (metrics, _) = token(root.clone(), json!({"name": "scrape", "scope": "metrics"})).await;
    let (status, import) = json_of(
        app.client
            .post(app.url(&format!("/api/v1/meters/{meter}/imports?format=generic")))
            .body("timestamp,value\n2026-11-20T07:00:00Z,100000\n")
            .send()
            .await
            .expect("import"),
    )
    .await;
    assert_eq!(status, 202, "{import}");
    let import_id = import["id"].as_i64().expect("import id");
    let callers = vec![
        (Caller::Anonymous, client(), None),
        (Caller::Stranger, eve, None),
        (Caller::Viewer, tom, None),
        (Caller::Editor, ada, None),
        (Caller::Owner, app.client.clone(), None),
        (Caller::Admin, root, None),
        (Caller::IngestToken, client(), Some(ingest)),
        (Caller::ReadToken, client(), Some(read)),
        (Caller::MetricsToken, client(), Some(metrics)),
    ];
    World {
        app,
        meter,
        mia,
        token_id,
        import_id,
        callers,
    }
}

/// The concrete address of `route` in `world`.
fn address(w: &World, r: &Route) -> String {
    let mut path = r.path.replace(":id", &w.meter.to_string());
    let id = if path.starts_with("/api/v1/tokens") || path.starts_with("/settings/tokens") {
        w.token_id
    } else if path.starts_with("/api/v1/imports") {
        w.import_id
    } else if path.contains("/alerts/") || path.contains("/tips/") {
        1
    } else {
        w.meter
    };
    path = path.replace("{id}", &id.to_string());
    path = path.replace("{user_id}", &w.mia.to_string());
    if path == "/api/v1/series" {
        // The meters are in the query: the world's meter, as for `{id}`.
        path = format!("{path}?ids={}", w.meter);
    }
    path
}

async fn call(w: &World, who: usize, r: &Route) -> (u16, String) {
    let (_, c, token) = &w.callers[who];
    let method = Method::from_bytes(r.method.as_bytes()).expect("method");
    let mut req = c
        .request(method, w.app.url(&address(w, r)))
        .header("origin", w.app.address.clone());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if r.path == "/api/v1/readings" {
        req = req.json(
            &json!({"meter_id": w.meter, "timestamp": "2026-11-21T07:30:00Z", "value": 111000}),
        );
    } else if r.method != "GET" && r.path.starts_with("/api/") {
        req = req.json(&json!({}));
    } else if r.method == "POST" {
        req = req.form(&[("_", "")]);
    }
    // The server-sent events stream never ends: its headers are the answer.
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, location)
}

fn verdict(expected: Expect, (status, location): &(u16, String)) -> bool {
    let to_sign_in = matches!(status, 302 | 303 | 307)
        && (location == "/login" || location.starts_with("/login?next="));
    match expected {
        Expect::Allowed => !matches!(status, 401 | 403 | 404 | 500..=599) && !to_sign_in,
        Expect::Reached => !matches!(status, 401 | 403 | 500..=599) && !to_sign_in,
        Expect::SignIn => *status == 401 || to_sign_in,
        Expect::Status(s) => *status == s,
        Expect::Moved => matches!(status, 301..=308),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_every_caller_by_the_one_rule() {
    let routes: Vec<Route> = declared_routes()
        .into_iter()
        .filter(|r| !r.path.starts_with("/__test") && !r.path.contains('*'))
        .collect();
    assert!(routes.len() > 60, "only {} routes found", routes.len());
    let unruled: Vec<String> = routes
        .iter()
        .filter(|r| rule_for(r).is_none())
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        unruled.is_empty(),
        "routes without an authorization rule (add them to rule_for): {unruled:#?}"
    );

    let w = world().await;
    let mut failures = Vec::new();
    let mut checked = 0;
    for r in routes.iter().filter(|r| !destructive(r)) {
        let rule = rule_for(r).expect("ruled");
        for (i, (caller, ..)) in w.callers.iter().enumerate() {
            let expected = expect(rule, *caller, is_page(r));
            let got = call(&w, i, r).await;
            checked += 1;
            if !verdict(expected, &got) {
                failures.push(format!(
                    "{} {} as {caller:?}: expected {expected:?}, got {} {}",
                    r.method,
                    address(&w, r),
                    got.0,
                    got.1
                ));
            }
        }
    }
    // Refusals of destructive requests must change nothing; the allowed ones each get a
    // world of their own.
    for r in routes.iter().filter(|r| destructive(r)) {
        let rule = rule_for(r).expect("ruled");
        for (i, caller) in CALLERS.iter().enumerate() {
            let expected = expect(rule, *caller, is_page(r));
            let fresh;
            let world_for = if matches!(expected, Expect::Allowed | Expect::Reached) {
                fresh = world().await;
                &fresh
            } else {
                &w
            };
            let got = call(world_for, i, r).await;
            checked += 1;
            if !verdict(expected, &got) {
                failures.push(format!(
                    "{} {} as {caller:?}: expected {expected:?}, got {} {}",
                    r.method,
                    address(world_for, r),
                    got.0,
                    got.1
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} answers break the rules:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The refused destructive requests changed nothing: the meter and token still work.
    let (status, m) = json_of(w.app.get(&format!("/api/v1/meters/{}", w.meter)).await).await;
    assert_eq!((status, m["archived"].as_bool()), (200, Some(false)));
}
