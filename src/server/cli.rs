//! The `headroom` command line: `serve`, `migrate`, `demo`.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

use crate::server::{
    config::Settings,
    demo::{self, DEMO_ADMIN_EMAIL, DEMO_PASSWORD},
    site,
    startup::{Application, shutdown_signal},
    storage::Db,
    telemetry,
};

#[derive(Parser)]
#[command(
    name = "headroom",
    version,
    about = "Self-hosted daily outlook for quotas and sensors"
)]
struct Cli {
    /// TOML file with settings (same keys as the HEADROOM_* variables, lower-case, no prefix).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations and serve the app (the default way to run Headroom).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Seed demo users, meters and a year of readings into an empty database.
    Demo {
        /// Days of history to generate.
        #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(i64).range(1..=3650))]
        days: i64,
    },
}

pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("headroom: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(cli: Cli) -> anyhow::Result<()> {
    let leptos = site::leptos_options()?;
    let settings = Settings::from_environment(cli.config.as_deref(), leptos.site_addr)?;
    telemetry::init(&settings.log_filter, settings.log_format);
    tracing::debug!(?settings, "settings");
    match cli.command {
        Command::Serve => serve(settings, leptos).await,
        Command::Migrate => {
            let db = Db::connect(&settings.database_url, 1).await?;
            db.migrate().await?;
            tracing::info!(database = %settings.database_url, "migrations applied");
            Ok(())
        }
        Command::Demo { days } => {
            let db = Db::connect(&settings.database_url, 4).await?;
            db.migrate().await?;
            if db.count_users().await? > 0 {
                anyhow::bail!(
                    "the database already has users; demo data is only added to an empty one"
                );
            }
            let now = settings.fixed_now.unwrap_or_else(jiff::Timestamp::now);
            let n = demo::seed(&db, now, demo::DemoSize { days }).await?;
            tracing::info!(readings = n, "demo data ready");
            Ok(())
        }
    }
}

async fn serve(settings: Settings, leptos: leptos::config::LeptosOptions) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let app = Application::build(settings, leptos).await?;
    let state = app.state();
    let has_demo = state.db.user_by_email(DEMO_ADMIN_EMAIL).await?.is_some();
    tracing::info!(
        addr = %app.local_addr(),
        database = state.db.backend().as_str(),
        redis = state.cache.has_redis(),
        startup_ms = started.elapsed().as_millis() as u64,
        "serving"
    );
    banner(&app.local_addr().to_string(), has_demo);
    app.run_until_stopped(shutdown_signal()).await
}

#[allow(
    clippy::print_stdout,
    reason = "the banner is for the person who started the server"
)]
fn banner(addr: &str, has_demo: bool) {
    println!("\n  Headroom is running at http://{addr}\n");
    if has_demo {
        println!("  Demo sign-ins (password: {DEMO_PASSWORD})");
        println!("    {DEMO_ADMIN_EMAIL:<22} admin");
        for email in [
            "ben@headroom.demo",
            "chloe@headroom.demo",
            "dev@headroom.demo",
        ] {
            println!("    {email:<22} member");
        }
        println!();
    }
}
