//! The `headroom` command line: `serve`, `migrate`, `demo`, `import`, `export`, `users`,
//! `backup`, `restore`.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

use crate::server::{
    clock::Clock,
    config::Settings,
    demo::{self, DEMO_ADMIN_EMAIL, DEMO_PASSWORD},
    site,
    startup::{Application, shutdown_signal},
    storage::{Db, backup},
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
    /// Evaluate every quota meter's notification rules once now, as the jobs leader does
    /// every 5 minutes (e.g. after importing history), and print how long it took.
    Alerts,
    /// Seed demo users, meters and a year of readings into an empty database.
    Demo {
        /// Days of history to generate.
        #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(i64).range(1..=3650))]
        days: i64,
        /// Also this many generated members (member00000@crowd.headroom.demo, …, the demo
        /// password), each with three quota meters read hourly over the same days: a server
        /// at scale, e.g. for timing the 05:00 warming of every outlook.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=100_000))]
        users: u32,
    },
    /// Import readings from a CSV file into a meter (resumable: rerun to continue).
    Import {
        /// The meter's id (see the meter's page or GET /api/v1/meters).
        #[arg(long)]
        meter: i64,
        /// `legacy`: timestamp,total_used_mb,remaining_mb,collection_status,api_response_time_ms;
        /// `generic`: timestamp,value[,remaining].
        #[arg(long, default_value = "legacy")]
        format: String,
        file: PathBuf,
    },
    /// Manage accounts: add, list, disable, enable, role, reset-link.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Write a consistent snapshot of the (SQLite) database while the server runs, and
    /// check it by reading it back.
    Backup {
        /// Where to write it (default: <data dir>/backups/headroom-<UTC time>.db).
        output: Option<PathBuf>,
    },
    /// Restore a snapshot made by `backup` into an empty database (stop the server first).
    Restore { snapshot: PathBuf },
    /// Export a meter's readings as CSV or JSON to standard output or a file.
    Export {
        #[arg(long)]
        meter: i64,
        /// Start: an RFC 3339 time or a date (default: the beginning).
        #[arg(long)]
        from: Option<String>,
        /// End: an RFC 3339 time or a date, inclusive (default: now).
        #[arg(long)]
        to: Option<String>,
        #[arg(long, default_value = "csv")]
        format: String,
        /// Write here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
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

#[derive(Subcommand)]
enum UsersCommand {
    /// Add an account; the password is read from standard input (one line).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin or member.
        #[arg(long, default_value = "member")]
        role: String,
        /// budget, mid, professional or enterprise.
        #[arg(long, default_value = "mid")]
        plan: String,
        /// IANA timezone, e.g. Europe/Berlin.
        #[arg(long, default_value = "UTC")]
        timezone: String,
        /// Free text region, used to group peers.
        #[arg(long, default_value = "")]
        location: String,
    },
    /// List accounts (id, email, role, plan, household, disabled, name).
    List,
    /// Disable an account (by email or id): its sessions end at once, also in running
    /// servers.
    Disable { user: String },
    /// Enable a disabled account again.
    Enable { user: String },
    /// Make an account admin or member (its sessions end, so the new role applies at
    /// once). The last active administrator cannot be demoted.
    Role { user: String, role: String },
    /// Print a single-use password-reset link for an account (valid HEADROOM_INVITE_HOURS).
    ResetLink { user: String },
}

async fn users(settings: &Settings, command: UsersCommand) -> anyhow::Result<()> {
    let db = Db::connect(&settings.database.url, 2).await?;
    db.migrate().await?;
    match command {
        UsersCommand::Add {
            email,
            name,
            role,
            plan,
            timezone,
            location,
        } => {
            if !matches!(role.as_str(), "admin" | "member") {
                anyhow::bail!("--role must be admin or member");
            }
            if !matches!(
                plan.as_str(),
                "budget" | "mid" | "professional" | "enterprise"
            ) {
                anyhow::bail!("--plan must be budget, mid, professional or enterprise");
            }
            if jiff::tz::TimeZone::get(&timezone).is_err() {
                anyhow::bail!("--timezone must be an IANA name such as Europe/Berlin");
            }
            if !email.contains('@') {
                anyhow::bail!("--email must be an email address");
            }
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            if password.chars().count() < crate::server::auth::password::MIN_LENGTH {
                anyhow::bail!(
                    "the password (on standard input) must have at least {} characters",
                    crate::server::auth::password::MIN_LENGTH
                );
            }
            let hash = crate::server::auth::password::hash(password.to_string()).await?;
            let id = db
                .create_user(&crate::server::storage::users::NewUser {
                    email: &email,
                    display_name: &name,
                    password_hash: &hash,
                    role: &role,
                    plan_tier: &plan,
                    location: &location,
                    timezone: &timezone,
                    created_at: Clock::from_fixed_now(settings.server.fixed_now).now_secs(),
                })
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            // The install is set up now: the first-run code stops working.
            db.delete_app_secret(crate::server::service::setup::SECRET_NAME)
                .await?;
            eprintln!("added {role} {email} (id {id})");
        }
        UsersCommand::List => {
            for u in db.all_users().await? {
                println_line(&format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    u.id,
                    u.email,
                    u.role,
                    u.plan_tier,
                    u.household_id.map_or_else(|| "-".into(), |h| h.to_string()),
                    if u.disabled_at.is_some() {
                        "disabled"
                    } else {
                        "active"
                    },
                    u.display_name
                ));
            }
        }
        UsersCommand::Disable { user } => {
            let u = find_user(&db, &user).await?;
            set_access(settings, &db, &u, &u.role, Some(now_secs(settings))).await?;
            eprintln!(
                "disabled {} (id {}); their sessions are ended",
                u.email, u.id
            );
        }
        UsersCommand::Enable { user } => {
            let u = find_user(&db, &user).await?;
            set_access(settings, &db, &u, &u.role, None).await?;
            eprintln!("enabled {} (id {})", u.email, u.id);
        }
        UsersCommand::Role { user, role } => {
            if !matches!(role.as_str(), "admin" | "member") {
                anyhow::bail!("the role must be admin or member");
            }
            let u = find_user(&db, &user).await?;
            set_access(settings, &db, &u, &role, u.disabled_at).await?;
            eprintln!("{} (id {}) is now {role}", u.email, u.id);
        }
        UsersCommand::ResetLink { user } => {
            let u = find_user(&db, &user).await?;
            let spec = crate::server::service::invites::LinkSpec {
                by: None,
                kind: "reset",
                role: crate::dto::Role::Member,
                household_id: None,
                user_id: Some(u.id),
            };
            let link = crate::server::service::invites::store_link(
                &db,
                &spec,
                now_secs(settings),
                settings.security.invite_hours,
            )
            .await?;
            eprintln!(
                "a password-reset link for {} (works once, until {}); open it on your Headroom's address:",
                u.email, link.expires_at
            );
            println_line(&link.url);
        }
    }
    Ok(())
}

fn now_secs(settings: &Settings) -> i64 {
    Clock::from_fixed_now(settings.server.fixed_now).now_secs()
}

/// The account named by `who`: an id or an email.
async fn find_user(db: &Db, who: &str) -> anyhow::Result<crate::server::storage::users::UserRow> {
    let found = match who.parse::<i64>() {
        Ok(id) => db.user_by_id(id).await?,
        Err(_) => db.user_by_email(who).await?,
    };
    found.ok_or_else(|| anyhow::anyhow!("there is no user {who}"))
}

/// Sets role and disabled state as `PATCH /api/v1/users/{id}` does, and when that takes
/// access away (disabled, or another role) ends the user's sessions: the rows, and what
/// running servers cached (the cache epoch they poll; with Redis, the shared copies).
async fn set_access(
    settings: &Settings,
    db: &Db,
    u: &crate::server::storage::users::UserRow,
    role: &str,
    disabled_at: Option<i64>,
) -> anyhow::Result<()> {
    if !db.set_role_and_disabled(u.id, role, disabled_at).await? {
        anyhow::bail!("that would leave no active administrator; make someone else admin first");
    }
    let ends = (disabled_at.is_some() && u.disabled_at.is_none()) || role != u.role;
    if !ends {
        return Ok(());
    }
    let gone = db.delete_sessions_of(u.id, None).await?;
    if let Err(e) = db.bump_cache_epoch().await {
        eprintln!(
            "warning: running servers may accept the ended sessions for up to a minute ({e})"
        );
    }
    if settings.cache.redis_url.is_some()
        && let Ok(cache) =
            crate::server::cache::Cache::new(crate::server::startup::cache_options(settings))
    {
        for hash in gone
            .iter()
            .filter_map(|h| <[u8; 32]>::try_from(h.as_slice()).ok())
        {
            cache
                .invalidate_key(&crate::server::service::auth::session_key(&hash))
                .await;
        }
    }
    Ok(())
}

#[allow(clippy::print_stdout, reason = "the command's output is its result")]
fn println_line(line: &str) {
    println!("{line}");
}

async fn execute(cli: Cli) -> anyhow::Result<()> {
    let leptos = site::leptos_options()?;
    let settings = Settings::from_environment(cli.config.as_deref(), leptos.site_addr)?;
    telemetry::init(
        &settings.server.log_filter,
        settings.server.log_format,
        settings.jobs.monitoring,
    );
    tracing::debug!(?settings, "settings");
    match cli.command {
        Command::Serve => serve(settings, leptos).await,
        Command::Alerts => alerts_pass(settings, leptos).await,
        Command::Migrate => {
            let db = Db::connect(&settings.database.url, 1).await?;
            db.migrate().await?;
            tracing::info!(database = %settings.database.url, "migrations applied");
            Ok(())
        }
        Command::Demo { days, users } => {
            let db = Db::connect(&settings.database.url, 4).await?;
            db.migrate().await?;
            if db.count_users().await? > 0 {
                anyhow::bail!(
                    "the database already has users; demo data is only added to an empty one"
                );
            }
            let now = Clock::from_fixed_now(settings.server.fixed_now).now();
            let password = demo::password_for(
                settings.server.addr,
                !settings.security.trusted_proxies.is_empty(),
            );
            let n = demo::seed(&db, now, demo::DemoSize { days, users }, &password).await?;
            tracing::info!(readings = n, "demo data ready");
            banner(None, Some(&password), true);
            Ok(())
        }
        Command::Import {
            meter,
            format,
            file,
        } => import(&settings, meter, &format, &file).await,
        Command::Users(command) => users(&settings, command).await,
        Command::Backup { output } => {
            if !settings.database.url.expose().starts_with("sqlite:") {
                return Err(backup::BackupError::NotSqlite.into());
            }
            let db = Db::connect(&settings.database.url, 1).await?;
            let dest = output.unwrap_or_else(|| {
                let now = Clock::from_fixed_now(settings.server.fixed_now).now();
                backup::snapshot_path(&settings.server.data_dir.join("backups"), now)
            });
            let v = db.backup_to(&dest).await?;
            println_line(&describe(&v));
            Ok(())
        }
        Command::Restore { snapshot } => {
            let v = backup::restore(&snapshot, &settings.database.url).await?;
            println_line(&format!("restored: {}", describe(&v)));
            Ok(())
        }
        Command::Export {
            meter,
            from,
            to,
            format,
            output,
        } => {
            export(
                &settings,
                meter,
                from.as_deref(),
                to.as_deref(),
                &format,
                output.as_deref(),
            )
            .await
        }
    }
}

fn describe(v: &backup::Verified) -> String {
    format!(
        "{} ({} bytes, schema {}, {} users, {} meters, {} day blocks of readings; integrity ok)",
        v.path.display(),
        v.bytes,
        v.schema_version,
        v.users,
        v.meters,
        v.reading_blocks
    )
}

/// Running servers cannot see this process's writes in their caches: bump the cache epoch
/// they poll, and with Redis drop the shared copies (which also tells every instance).
async fn tell_servers(
    settings: &Settings,
    db: &Db,
    meter: &crate::server::storage::meters::MeterRow,
) {
    if let Err(e) = db.bump_cache_epoch().await {
        eprintln!("warning: running servers may show cached figures for a while ({e})");
    }
    if settings.cache.redis_url.is_some()
        && let Ok(cache) =
            crate::server::cache::Cache::new(crate::server::startup::cache_options(settings))
    {
        let tags = [
            crate::server::service::freshness::meter_tag(meter.id),
            crate::server::service::freshness::user_tag(meter.owner_id),
        ];
        cache.invalidate_tags(&tags).await;
    }
}

async fn import(
    settings: &Settings,
    meter_id: i64,
    format: &str,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    use crate::server::service::import::{self, ImportFormat};
    let format = ImportFormat::parse(format)
        .ok_or_else(|| anyhow::anyhow!("--format must be legacy or generic"))?;
    let db = Db::connect(&settings.database.url, 4).await?;
    db.migrate().await?;
    let meter = db
        .meter(meter_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("there is no meter {meter_id}"))?;
    let now = Clock::from_fixed_now(settings.server.fixed_now).now_secs();
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let row = import::prepare(&db, &meter, file, &name, format, now)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    if row.done_bytes > 0 && row.status == "running" {
        eprintln!(
            "resuming {name} at byte {} of {}",
            row.done_bytes, row.total_bytes
        );
    }
    let bar = indicatif::ProgressBar::new(row.total_bytes as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{bar:40}] {bytes}/{total_bytes} ({eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let oldest = now - settings.database.retention.raw_days * 86_400;
    let bar2 = bar.clone();
    let outcome = import::run(&db, &meter, &row, file, now, oldest, move |done, _| {
        bar2.set_position(done)
    })
    .await;
    tell_servers(settings, &db, &meter).await;
    let outcome = outcome.map_err(|e| match e {
        crate::server::service::ServiceError::Invalid(errors) => {
            anyhow::anyhow!(
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        }
        other => anyhow::anyhow!("{other}"),
    })?;
    bar.finish_and_clear();
    for p in &outcome.problems {
        eprintln!("  skipped {p}");
    }
    eprintln!(
        "imported {} readings into meter {meter_id} ({} rows skipped)",
        outcome.import.rows_imported, outcome.import.rows_skipped
    );
    Ok(())
}

async fn export(
    settings: &Settings,
    meter_id: i64,
    from: Option<&str>,
    to: Option<&str>,
    format: &str,
    output: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use crate::server::service::export::{self, ExportFormat};
    use futures::StreamExt;
    use tokio::io::AsyncWriteExt;
    let format = match format {
        "csv" => ExportFormat::Csv,
        "json" => ExportFormat::Json,
        _ => anyhow::bail!("--format must be csv or json"),
    };
    let db = Db::connect(&settings.database.url, 2).await?;
    let meter = db
        .meter(meter_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("there is no meter {meter_id}"))?;
    let now = Clock::from_fixed_now(settings.server.fixed_now).now_secs();
    let range = export::parse_range(from, to, now).map_err(|e| anyhow::anyhow!("--{e}"))?;
    let mut out: Box<dyn tokio::io::AsyncWrite + Unpin> = match output {
        Some(path) => Box::new(tokio::fs::File::create(path).await?),
        None => Box::new(tokio::io::stdout()),
    };
    let mut stream = Box::pin(export::stream_readings(
        db, meter.id, meter.name, meter.unit, range, format,
    ));
    while let Some(chunk) = stream.next().await {
        out.write_all(&chunk?).await?;
    }
    out.flush().await?;
    Ok(())
}

async fn alerts_pass(
    mut settings: Settings,
    leptos: leptos::config::LeptosOptions,
) -> anyhow::Result<()> {
    // The pass needs the whole state (cache, clock, perf), not a listener: any free port.
    settings.server.addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let app = Application::build(settings, leptos).await?;
    let state = app.state();
    let meters = state.db.active_meter_ids().await?.len();
    let started = std::time::Instant::now();
    let told = crate::server::service::alerts::scheduled_pass(&state).await?;
    println_line(&format!(
        "evaluated {meters} quota meters in {:.3} s; {told} notifications made",
        started.elapsed().as_secs_f64()
    ));
    state.db.close().await;
    Ok(())
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
    let password = app.demo_password().map(str::to_string).or_else(|| {
        app.local_addr()
            .ip()
            .is_loopback()
            .then(|| DEMO_PASSWORD.to_string())
    });
    banner(
        Some(&app.local_addr().to_string()),
        password.as_deref(),
        has_demo,
    );
    if let Some(code) = app.setup_code() {
        setup_banner(&app.local_addr().to_string(), code);
    }
    app.run_until_stopped(shutdown_signal()).await
}

#[allow(
    clippy::print_stdout,
    reason = "the banner is for the person who started the server"
)]
fn setup_banner(addr: &str, code: &str) {
    println!("  ================================================================");
    println!("  No account exists yet. To create the first administrator, open");
    println!("  http://{addr}/setup and enter this one-time setup code:\n");
    println!("      {code}\n");
    println!("  (or, on this machine: headroom users add --role admin ...)");
    println!("  ================================================================\n");
}

#[allow(
    clippy::print_stdout,
    reason = "the banner is for the person who started the server"
)]
fn banner(addr: Option<&str>, password: Option<&str>, has_demo: bool) {
    if let Some(addr) = addr {
        println!("\n  Headroom is running at http://{addr}\n");
    }
    if has_demo {
        match password {
            Some(p) => println!("  Demo sign-ins (password: {p})"),
            None => println!("  Demo sign-ins (the password was printed when they were made)"),
        }
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
