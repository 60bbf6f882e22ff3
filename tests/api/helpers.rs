//! `spawn_app()`: a real Headroom on 127.0.0.1:0 with a database of its own.
//!
//! SQLite databases live in a temp folder. PostgreSQL and Redis are real servers that
//! `scripts/test` starts and names in `HEADROOM_TEST_POSTGRES_URL` and
//! `HEADROOM_TEST_REDIS_URL`; each test creates a fresh PostgreSQL database. A missing
//! variable fails the test loudly: a skipped backend would be a silent gap.

use std::{collections::HashMap, time::Duration};

use headroom::server::{
    clock::Clock,
    config::Settings,
    service::ingest::{self, NewReading},
    startup::Application,
    state::AppState,
    storage::{meters::NewMeter, users::NewUser},
};
use jiff::Timestamp;
use tokio::{sync::oneshot, task::JoinHandle};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const PASSWORD: &str = "correct-horse-battery";

/// Runs each listed test body once per backend, as `<name>::sqlite` and `<name>::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($(async fn $name:ident($backend:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($backend: $crate::helpers::Backend) $body
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { run($crate::helpers::Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { run($crate::helpers::Backend::Postgres).await }
        }
    )*};
}

fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run the suite with scripts/test, which starts PostgreSQL and Redis"
        )
    })
}

pub fn redis_url() -> String {
    required_env("HEADROOM_TEST_REDIS_URL")
}

/// A fresh PostgreSQL database on the test server; returns its URL.
pub async fn fresh_postgres_database() -> String {
    use sqlx::Connection;
    let admin = required_env("HEADROOM_TEST_POSTGRES_URL");
    let name = format!("t_{:016x}", rand_u64());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connect to the test PostgreSQL server");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let (base, _) = admin.rsplit_once('/').expect("URL has a database part");
    format!("{base}/{name}")
}

/// Retries `check` every 10 ms until it holds, failing after `limit`: how a test waits
/// for something another task does (a subscription, a message) without guessing a sleep.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {limit:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    #[allow(
        clippy::disallowed_methods,
        reason = "salt for a unique name, not a time"
    )]
    RandomState::new().hash_one(std::time::SystemTime::now())
}

pub struct TestApp {
    pub address: String,
    pub state: AppState,
    /// Keeps cookies; never follows redirects, so tests can see them.
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    pub server: Option<JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

/// Options for [`spawn_app_with`].
#[derive(Default)]
pub struct Options {
    pub env: Vec<(&'static str, String)>,
    pub now: Option<Timestamp>,
    /// Share this database (URL) instead of creating a fresh one.
    pub database: Option<String>,
}

/// Options with only these environment settings.
pub fn with_env(env: &[(&'static str, &str)]) -> Options {
    Options {
        env: env.iter().map(|(k, v)| (*k, (*v).to_string())).collect(),
        ..Default::default()
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, Options::default()).await
}

/// A server whose clock is pinned at `now` (RFC 3339).
pub async fn spawn_app_at(backend: Backend, now: &str) -> TestApp {
    spawn_app_with(
        backend,
        Options {
            now: Some(now.parse().expect("an RFC 3339 instant")),
            ..Options::default()
        },
    )
    .await
}

pub async fn spawn_app_with(backend: Backend, options: Options) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = match (&options.database, backend) {
        (Some(url), _) => url.clone(),
        (None, Backend::Sqlite) => format!("sqlite://{}/headroom.db", dir.path().display()),
        (None, Backend::Postgres) => fresh_postgres_database().await,
    };
    // Tests share one Redis server, but an app shares its Redis keys (rate-limit counts,
    // cached values, invalidations) only with the instances on its own database, as the
    // instances of one install would.
    let namespace = format!(
        "t{:016x}",
        std::hash::BuildHasher::hash_one(
            &std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default(),
            &database_url
        )
    );
    let mut env: HashMap<String, String> = HashMap::from([
        ("HEADROOM_ADDR".into(), "127.0.0.1:0".into()),
        ("HEADROOM_REDIS_NAMESPACE".into(), namespace),
        ("HEADROOM_DATABASE_URL".into(), database_url),
        // Background jobs only where a test asks for them.
        ("HEADROOM_COLLECTOR".into(), "false".into()),
        ("HEADROOM_DATA_DIR".into(), dir.path().display().to_string()),
        ("HEADROOM_DB_MAX_CONNECTIONS".into(), "4".into()),
    ]);
    for (k, v) in options.env {
        env.insert(k.to_string(), v);
    }
    let default_addr = "127.0.0.1:0".parse().expect("literal");
    let settings = Settings::from_sources(env, None, default_addr).expect("valid test settings");
    let mut leptos = headroom::server::site::leptos_options().expect("Leptos.toml");
    // Tests run without a built site: no hash.txt beside the test binary.
    leptos.hash_files = false;
    let clock = options.now.map_or(Clock::System, Clock::fixed);
    let app = Application::build_with_clock(settings, leptos, clock)
        .await
        .expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = rx.await;
    }));
    TestApp {
        address,
        state,
        client: client(),
        shutdown: Some(tx),
        server: Some(server),
        _dir: dir,
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// Creates a member with [`PASSWORD`]; returns the user's id.
    pub async fn add_user(&self, email: &str, role: &str, timezone: &str) -> i64 {
        let hash = headroom::server::auth::password::hash(PASSWORD.into())
            .await
            .expect("hash");
        // As the server's own ways of adding a user do: the install is set up now.
        self.state.first_run.mark_done();
        self.state
            .db
            .create_user(&NewUser {
                email,
                display_name: email.split('@').next().unwrap_or(email),
                password_hash: &hash,
                role,
                plan_tier: "mid",
                location: "Testville",
                timezone,
                created_at: 0,
            })
            .await
            .expect("create user")
    }

    /// Creates a household with these members; returns its id. (Straight to the
    /// database: these tests are about what membership grants, not how it is given.)
    pub async fn add_household(&self, name: &str, members: &[i64]) -> i64 {
        use headroom::server::storage::Pool;
        let insert = "INSERT INTO households (name, created_at) VALUES ($1, 0) RETURNING id";
        let join = "UPDATE users SET household_id = $1 WHERE id = $2";
        match &self.state.db.pool {
            Pool::Sqlite(p) => {
                let id: i64 = sqlx::query_scalar(insert)
                    .bind(name)
                    .fetch_one(p)
                    .await
                    .expect("household");
                for m in members {
                    sqlx::query(join)
                        .bind(id)
                        .bind(m)
                        .execute(p)
                        .await
                        .expect("join");
                }
                id
            }
            Pool::Postgres(p) => {
                let id: i64 = sqlx::query_scalar(insert)
                    .bind(name)
                    .fetch_one(p)
                    .await
                    .expect("household");
                for m in members {
                    sqlx::query(join)
                        .bind(id)
                        .bind(m)
                        .execute(p)
                        .await
                        .expect("join");
                }
                id
            }
        }
    }

    pub async fn add_quota_meter(
        &self,
        owner: i64,
        name: &str,
        quota: f64,
        rule: &str,
        tz: &str,
    ) -> i64 {
        self.state
            .db
            .create_meter(&NewMeter {
                owner_id: owner,
                kind: "quota",
                name,
                unit: "MB",
                timezone: tz,
                quota: Some(quota),
                reset_rule: Some(rule),
                range_min: None,
                range_max: None,
                position: 0,
                created_at: 0,
            })
            .await
            .expect("create meter")
    }

    pub async fn add_readings(&self, meter_id: i64, readings: &[(&str, f64)]) {
        let rows: Vec<NewReading> = readings
            .iter()
            .map(|(at, value)| NewReading {
                meter_id,
                ts: at.parse::<Timestamp>().expect("RFC 3339").as_second(),
                value: *value,
                remaining: None,
            })
            .collect();
        let report = ingest::write(&self.state.db, &rows)
            .await
            .expect("insert readings");
        // As every server-side writer does: drop what the readings make stale.
        headroom::server::service::freshness::readings_written(
            &self.state,
            &report.meters,
            &report.audience,
        )
        .await;
    }

    /// `email` signed in on this client (plan "mid"), with a 300 GB monthly "Fibre" meter
    /// and two readings a day apart (8 GB used on 2026-11-21); returns the meter's id.
    pub async fn member_with_meter(&self, email: &str) -> i64 {
        let user = self.signed_in_user(email, "UTC").await;
        let meter = self
            .add_quota_meter(user, "Fibre", 300_000.0, "monthly:1", "UTC")
            .await;
        self.add_readings(
            meter,
            &[
                ("2026-11-20T07:00:00Z", 100_000.0),
                ("2026-11-21T07:00:00Z", 108_000.0),
            ],
        )
        .await;
        meter
    }

    /// Signs in through the real form; returns the sign-in response.
    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/login"))
            .form(&[("email", email), ("password", password), ("next", "/")])
            .send()
            .await
            .expect("POST /login")
    }

    /// Signals shutdown the way SIGTERM would; the server drains and stops.
    pub fn trigger_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.trigger_shutdown();
    }
}

impl TestApp {
    /// Signs in as a new user with `email`; returns the user's id.
    pub async fn signed_in_user(&self, email: &str, timezone: &str) -> i64 {
        let id = self.add_user(email, "member", timezone).await;
        let res = self.sign_in(email, PASSWORD).await;
        assert_eq!(res.status(), 303, "sign-in of {email}");
        id
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    /// A client with no cookies, for token-only requests.
    pub fn anonymous(&self) -> reqwest::Client {
        client()
    }
}

/// The JSON of a response, with its status.
pub async fn json_of(res: reqwest::Response) -> (u16, serde_json::Value) {
    let status = res.status().as_u16();
    let body = res.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}
