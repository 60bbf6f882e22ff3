//! The state every request handler and server function shares.

pub mod touched;

use std::{ops::Deref, sync::Arc};

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::server::{
    auth::{password::HashSlots, throttle::LoginThrottle},
    cache::Cache,
    clock::Clock,
    config::Settings,
    storage::Db,
};

/// Cheap to clone: one `Arc` around [`App`].
#[derive(Clone)]
pub struct AppState(pub Arc<App>);

pub struct App {
    /// The database pool (SQLite or PostgreSQL).
    pub db: Db,
    /// In-process cache, with Redis behind it when configured.
    pub cache: Cache,
    /// Validated settings this process started with.
    pub settings: Settings,
    /// Leptos site options (output names, site root) for rendering and static files.
    pub leptos: LeptosOptions,
    /// The source of "now" for every rule that depends on the date.
    pub clock: Clock,
    /// Failed sign-in counts, to slow down password guessing.
    pub login_throttle: LoginThrottle,
    /// Bounds the password hashes computed at once (19 MiB each).
    pub password_slots: HashSlots,
    /// Whether the install still waits for its first account (`/setup`).
    pub first_run: crate::server::auth::first_run::FirstRun,
    /// The performance center: request, statement and job statistics, score, alerts.
    pub perf: crate::server::perf::Perf,
    /// The meters written to whose notification rules wait for the background evaluator
    /// (`service::alerts::evaluator`).
    pub touched: touched::Touched,
}

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
