//! Building and running the server: the seam tests use to start a real instance on port 0.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use leptos::config::LeptosOptions;
use tokio::net::TcpListener;

use crate::server::{
    auth::{password::HashSlots, throttle::LoginThrottle},
    cache::{Cache, CacheOptions, RedisOptions},
    clock::Clock,
    config::Settings,
    demo,
    http::{pipeline, serve},
    jobs,
    state::{App, AppState},
    storage::Db,
};

/// A server that is built and bound, not yet serving.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    /// The demo accounts' password, when this start created them.
    demo_password: Option<String>,
    /// The first-run setup code, while the database has no users.
    setup_code: Option<String>,
}

impl Application {
    /// Connects to the database, applies migrations, seeds demo data when asked and the
    /// database is empty, and binds the listener (`settings.server.addr`; port 0 picks a
    /// free one).
    pub async fn build(settings: Settings, leptos: LeptosOptions) -> anyhow::Result<Self> {
        let clock = Clock::from_fixed_now(settings.server.fixed_now);
        Self::build_with_clock(settings, leptos, clock).await
    }

    pub async fn build_with_clock(
        settings: Settings,
        leptos: LeptosOptions,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let db = Db::connect(&settings.database.url, settings.database.max_connections)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot open the database at {}: {e}",
                    settings.database.url.redacted()
                )
            })?;
        db.migrate().await?;
        db.ensure_partitions_ahead(crate::server::storage::blocks::utc_day(clock.now_secs()))
            .await?;
        let mut demo_password = None;
        if settings.jobs.seed_demo && db.count_users().await? == 0 {
            let password = demo::password_for(
                settings.server.addr,
                !settings.security.trusted_proxies.is_empty(),
            );
            demo::seed(&db, clock.now(), demo::DemoSize::full(), &password).await?;
            demo_password = Some(password);
        }
        let setup_code =
            crate::server::service::setup::code_at_start(&db, clock.now_secs()).await?;
        // Web Push's key pair, made once and shared by every instance on this database.
        crate::server::service::push::keys_at_start(&db, clock.now_secs()).await?;
        if let Some(code) = &setup_code {
            // Logged as well as printed (see `cli::serve`), so it is found in a service's
            // journal or a container's logs too. It opens only `/setup`, only until the
            // first account exists.
            tracing::warn!(setup_code = %code, "no account exists yet: open /setup in a browser and enter this setup code to create the first administrator");
        }
        let cache = Cache::new(cache_options(&settings))?;
        cache.spawn_listener();
        let listener = TcpListener::bind(settings.server.addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.server.addr))?;
        let perf = crate::server::perf::Perf::new(settings.jobs.monitoring);
        if settings.jobs.monitoring {
            crate::server::telemetry::init_statement_listener();
        }
        let password_slots = HashSlots::new(settings.security.password_hashes);
        let state = AppState(Arc::new(App {
            db,
            cache,
            settings,
            leptos,
            clock,
            login_throttle: LoginThrottle,
            password_slots,
            first_run: crate::server::auth::first_run::FirstRun::new(setup_code.is_some()),
            perf,
            touched: Default::default(),
        }));
        crate::server::perf::sampler::load(&state).await?;
        tokio::spawn(crate::server::service::freshness::follow_cache_epoch(
            state.clone(),
        ));
        if let Err(e) = crate::server::service::import::resume_all(&state).await {
            tracing::warn!(error = ?e, "could not resume imports");
        }
        Ok(Application {
            listener,
            state,
            demo_password,
            setup_code,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| self.state.settings.server.addr)
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// The demo accounts' password, when this start created them (to print once).
    pub fn demo_password(&self) -> Option<&str> {
        self.demo_password.as_deref()
    }

    /// The first-run setup code, while no account exists (to print prominently).
    pub fn setup_code(&self) -> Option<&str> {
        self.setup_code.as_deref()
    }

    /// Serves until `shutdown` resolves, then stops accepting connections and lets
    /// in-flight requests finish, for at most `shutdown_grace_secs`.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Application {
            listener, state, ..
        } = self;
        let grace = Duration::from_secs(state.settings.server.shutdown_grace_secs);
        let (stopping_tx, mut stopping_rx) = tokio::sync::watch::channel(false);
        let sampler = crate::server::perf::sampler::start(state.clone(), stopping_rx.clone());
        // An idle server gives back what a burst (seeding, warming, connections) freed.
        crate::server::memory::start(stopping_rx.clone());
        let jobs = if state.settings.jobs.enabled {
            Some(jobs::start(state.clone(), stopping_rx.clone())?)
        } else {
            None
        };
        // Every instance evaluates the rules of the meters its own writes touched.
        let rules = crate::server::service::alerts::evaluator::start(state.clone());
        // The request pipeline (read `http/pipeline.rs`); its front door hands the router
        // each request's `ConnectInfo`, as `into_make_service_with_connect_info` would.
        let front = pipeline::build(state.clone());
        let limits = serve::ConnectionLimits {
            max_connections: state.settings.server.max_connections,
            header_timeout: state.settings.server.header_timeout,
            park_after: crate::server::http::connection::PARK_AFTER,
        };
        let connections = state.perf.connections.clone();
        let serve = serve::serve(listener, front, limits, connections, async move {
            shutdown.await;
            tracing::info!("shutting down: draining in-flight requests");
            let _ = stopping_tx.send(true);
        });
        let deadline = async move {
            let _ = stopping_rx.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            () = serve => {},
            () = deadline => tracing::warn!(grace_secs = grace.as_secs(), "drain took too long; closing remaining connections"),
        }
        if let Some(jobs) = jobs {
            // The scheduler saw the same signal; let it hand the lease back.
            let _ = tokio::time::timeout(Duration::from_secs(5), jobs).await;
        }
        if let Some(sampler) = sampler {
            let _ = tokio::time::timeout(Duration::from_secs(5), sampler).await;
        }
        // After the last request and job: what their writes touched is evaluated now.
        if let Some(rules) = rules {
            rules.finish(Duration::from_secs(10)).await;
        }
        state.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (service managers, container runtimes).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// The cache's setup, from the cache and Redis settings: made here, where the app is put
/// together, so neither the cache nor the settings need to know the other.
pub fn cache_options(settings: &Settings) -> CacheOptions {
    CacheOptions {
        memory_bytes: settings.cache.memory_mb * 1024 * 1024,
        redis: settings.cache.redis_url.as_ref().map(|url| RedisOptions {
            url: url.expose().to_string(),
            url_for_logs: url.redacted(),
            namespace: settings.cache.redis_namespace.clone(),
            timeout: settings.cache.redis_timeout,
            compress_from: settings.cache.compress_bytes,
        }),
        local_ttl: settings.cache.local_ttl,
        ttls: settings.cache.ttls.clone(),
    }
}
