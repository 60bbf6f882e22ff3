//! Realistic demo data: a household of users with internet, mobile and electricity quotas,
//! a money budget and a few sensors, read every 10 minutes for the past year.
//!
//! The shapes follow what such meters really do: internet use peaks in the evening and on
//! weekends with the odd big download, electricity follows the day, temperatures swing
//! gently and now and then leave their normal range. Everything is deterministic, so two
//! runs over the same "now" produce the same data.

use jiff::{Timestamp, tz::TimeZone};

use crate::{
    domain::period::ResetRule,
    server::{
        auth::password,
        service::ingest::{self, NewReading},
        simulation::{DAYTIME_MEAN, EVENING_MEAN, Rng, STEP_SECS, daily_curve},
        storage::{Db, meters::NewMeter, sources::SourceRow, users::NewUser},
    },
};

/// The password of every demo account on a server that listens on loopback only (printed
/// by `headroom serve` when demo data exists).
pub const DEMO_PASSWORD: &str = "headroom-demo";

/// The demo accounts' password for a server listening on `addr`: the well-known one on
/// loopback, where only this machine can use it; otherwise a random one, printed once
/// when the accounts are made. A published password on a server facing a network would
/// be an administrator's account for anyone who read the README. A server behind a
/// reverse proxy listens on loopback too but faces the network through it, so trusting
/// a proxy (`behind_proxy`) counts as facing a network.
pub fn password_for(addr: std::net::SocketAddr, behind_proxy: bool) -> String {
    if addr.ip().is_loopback() && !behind_proxy {
        DEMO_PASSWORD.to_string()
    } else {
        crate::server::auth::session::new_token()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(16)
            .collect()
    }
}
/// The demo administrator's sign-in.
pub const DEMO_ADMIN_EMAIL: &str = "ada@headroom.demo";

/// How much history to generate, and for how many generated members besides the household.
#[derive(Debug, Clone, Copy)]
pub struct DemoSize {
    pub days: i64,
    /// Generated members (`headroom demo --users N`): a server at scale, see [`seed_crowd`].
    pub users: u32,
}

impl DemoSize {
    /// A year of readings, as the first start shows.
    pub fn full() -> Self {
        DemoSize {
            days: 365,
            users: 0,
        }
    }
}

/// How a demo meter's values come about.
#[derive(Clone, Copy)]
enum Shape {
    /// A household internet line: `per_day` units on an average day.
    Internet { per_day: f64 },
    /// A phone's mobile data, lighter and daytime-heavy.
    Mobile { per_day: f64 },
    /// Electricity, following the day with a winter bump.
    Power { per_day: f64 },
    /// Card spending: a few purchases a day.
    Spending { per_day: f64 },
    /// A room temperature around `base`.
    Temperature { base: f64 },
    /// A home battery's charge in percent.
    Battery,
}

struct DemoMeter {
    name: &'static str,
    unit: &'static str,
    quota: Option<f64>,
    rule: Option<&'static str>,
    range: (Option<f64>, Option<f64>),
    shape: Shape,
}

struct DemoUser {
    email: String,
    name: &'static str,
    role: &'static str,
    tier: &'static str,
    location: &'static str,
    timezone: &'static str,
    meters: Vec<DemoMeter>,
    /// Less history than the household's year (neighbours joined later).
    days: Option<i64>,
}

fn quota(
    name: &'static str,
    unit: &'static str,
    amount: f64,
    rule: &'static str,
    shape: Shape,
) -> DemoMeter {
    DemoMeter {
        name,
        unit,
        quota: Some(amount),
        rule: Some(rule),
        range: (None, None),
        shape,
    }
}

fn sensor(name: &'static str, unit: &'static str, lo: f64, hi: f64, shape: Shape) -> DemoMeter {
    DemoMeter {
        name,
        unit,
        quota: None,
        rule: None,
        range: (Some(lo), Some(hi)),
        shape,
    }
}

/// The demo's household proper: Ada and Ben live together, and Ada's fibre line is
/// shared with the household to view (Ben sees it beside his own meters, read-only).
/// The others are separate accounts on the same server.
struct Home {
    name: &'static str,
    /// The first is the sharing owner.
    members: [&'static str; 2],
    shared_meter: &'static str,
}

const HOME: Home = Home {
    name: "Ada's home",
    members: [DEMO_ADMIN_EMAIL, "ben@headroom.demo"],
    shared_meter: "Home fibre",
};

fn household() -> Vec<DemoUser> {
    vec![
        DemoUser {
            email: DEMO_ADMIN_EMAIL.into(),
            name: "Ada",
            role: "admin",
            tier: "professional",
            location: "Tallinn",
            timezone: "Europe/Tallinn",
            meters: vec![
                // 1 TiB a month, as the legacy monitor's plan; used at ~95 % of pace.
                quota(
                    "Home fibre",
                    "MB",
                    1_048_576.0,
                    "monthly:1",
                    Shape::Internet { per_day: 33_000.0 },
                ),
                quota(
                    "Electricity",
                    "kWh",
                    320.0,
                    "monthly:last",
                    Shape::Power { per_day: 9.0 },
                ),
                sensor(
                    "Living room",
                    "°C",
                    19.0,
                    24.0,
                    Shape::Temperature { base: 21.5 },
                ),
            ],
            days: None,
        },
        DemoUser {
            email: "ben@headroom.demo".into(),
            name: "Ben",
            role: "member",
            tier: "budget",
            location: "Tallinn",
            timezone: "Europe/Tallinn",
            meters: vec![
                quota(
                    "Mobile data",
                    "MB",
                    51_200.0,
                    "monthly:15",
                    Shape::Mobile { per_day: 1_850.0 },
                ),
                sensor(
                    "Bedroom",
                    "°C",
                    17.0,
                    22.0,
                    Shape::Temperature { base: 19.5 },
                ),
            ],
            days: None,
        },
        DemoUser {
            email: "chloe@headroom.demo".into(),
            name: "Chloe",
            role: "member",
            tier: "mid",
            location: "Lisbon",
            timezone: "Europe/Lisbon",
            meters: vec![
                quota(
                    "Home internet",
                    "MB",
                    512_000.0,
                    "monthly:1",
                    Shape::Internet { per_day: 17_500.0 },
                ),
                quota(
                    "Groceries",
                    "EUR",
                    120.0,
                    "weekly:mon",
                    Shape::Spending { per_day: 16.0 },
                ),
            ],
            days: None,
        },
        DemoUser {
            email: "dev@headroom.demo".into(),
            name: "Dev",
            role: "member",
            tier: "enterprise",
            location: "Austin",
            timezone: "America/Chicago",
            meters: vec![
                quota(
                    "Office link",
                    "MB",
                    2_097_152.0,
                    "monthly:last",
                    Shape::Internet { per_day: 72_000.0 },
                ),
                sensor("Battery", "%", 20.0, 100.0, Shape::Battery),
            ],
            days: None,
        },
    ]
    .into_iter()
    .chain(neighbours())
    .collect()
}

/// Six households on Ada's street with internet plans like hers (within ±25 % of 1 TB),
/// so the demo has a peer group large enough to compare with.
fn neighbours() -> Vec<DemoUser> {
    const NAMES: [&str; 6] = ["Eva", "Fred", "Gita", "Hugo", "Ines", "Jaan"];
    NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let quota = [0.8, 1.0, 1.0, 1.2, 0.9, 1.1][i] * 1_048_576.0;
            let per_day = [24_000.0, 36_000.0, 29_000.0, 45_000.0, 33_000.0, 28_000.0][i];
            DemoUser {
                email: format!("{}@headroom.demo", name.to_lowercase()),
                name,
                role: "member",
                tier: ["budget", "mid", "mid", "professional", "budget", "mid"][i],
                location: "Tallinn",
                timezone: "Europe/Tallinn",
                meters: vec![quota_owned("Home internet", quota, per_day)],
                days: Some(120),
            }
        })
        .collect()
}

fn quota_owned(name: &'static str, amount: f64, per_day: f64) -> DemoMeter {
    quota(name, "MB", amount, "monthly:1", Shape::Internet { per_day })
}

/// Weekends are 30 % busier: two days in seven.
const WEEK_MEAN: f64 = 1.0 + 0.3 * 2.0 / 7.0;
/// Share of internet use that is steady; the rest comes as occasional big downloads.
const STEADY_SHARE: f64 = 0.92;

/// Generates one meter's readings from `start` to `end` (Unix seconds), one every `step`
/// seconds. Chance events (a big download, a purchase, an open window) are as likely per
/// hour whatever the step.
fn generate(
    meter_id: i64,
    m: &DemoMeter,
    tz: &TimeZone,
    (start, end, step): (i64, i64, i64),
    rng: &mut Rng,
) -> Vec<NewReading> {
    let rule = m.rule.and_then(|r| r.parse::<ResetRule>().ok());
    let mut rows = Vec::with_capacity(usize::try_from((end - start) / step + 1).unwrap_or(0));
    // Exactly 1.0 at the household's 10-minute step, so its data stays what it was.
    let chance = step as f64 / STEP_SECS as f64;
    let mut used = 0.0_f64;
    let mut period_end = i64::MIN;
    let mut value = match m.shape {
        Shape::Battery => 60.0,
        Shape::Temperature { base } => base,
        _ => 0.0,
    };
    let mut t = start;
    while t <= end {
        let local = Timestamp::from_second(t)
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .to_zoned(tz.clone());
        if let Some(rule) = rule
            && t >= period_end
        {
            let p = rule.period_containing(local.date());
            period_end = p.end_instant(tz).as_second();
            used = 0.0;
        }
        let hour = f64::from(local.hour()) + f64::from(local.minute()) / 60.0;
        let weekend = local.date().weekday().to_monday_one_offset() >= 6;
        let month = f64::from(local.month());
        let steps_per_day = 86_400.0 / step as f64;
        match m.shape {
            Shape::Internet { per_day } => {
                let mut rate = STEADY_SHARE * per_day / steps_per_day * daily_curve(hour, true)
                    / EVENING_MEAN
                    / WEEK_MEAN;
                if weekend {
                    rate *= 1.3;
                }
                if rng.unit() < 0.004 * chance {
                    rate += per_day * rng.between(0.05, 0.25);
                }
                used += rate * rng.between(0.6, 1.4);
                value = used;
            }
            Shape::Mobile { per_day } => {
                let rate = per_day / steps_per_day * daily_curve(hour, false) / DAYTIME_MEAN;
                used += rate * rng.between(0.3, 1.7);
                value = used;
            }
            Shape::Power { per_day } => {
                // Northern winters cost more: up to +35 % in January.
                let season = 1.0 + 0.35 * ((month - 1.0) / 12.0 * std::f64::consts::TAU).cos();
                let rate =
                    per_day / steps_per_day * daily_curve(hour, true) / EVENING_MEAN * season;
                used += rate * rng.between(0.7, 1.3);
                value = used;
            }
            Shape::Spending { per_day } => {
                // Purchases happen in shop hours, a few a day.
                if (8.0..20.0).contains(&hour) && rng.unit() < 0.05 * chance {
                    used += per_day / 3.6 * rng.between(0.3, 1.7);
                }
                value = used;
            }
            Shape::Temperature { base } => {
                let target = base + 1.4 * ((hour - 9.0) / 24.0 * std::f64::consts::TAU).sin();
                value += (target - value) * 0.2 + rng.between(-0.15, 0.15);
                if rng.unit() < 0.0008 * chance {
                    value += rng.between(-5.0, 4.0); // a window left open, an oven on
                }
            }
            Shape::Battery => {
                let sun = ((hour - 6.0) / 12.0 * std::f64::consts::PI).sin().max(0.0);
                value = (value + 2.2 * sun - 0.55 + rng.between(-0.2, 0.2)).clamp(5.0, 100.0);
            }
        }
        rows.push(NewReading {
            meter_id,
            ts: t,
            value: (value * 100.0).round() / 100.0,
            remaining: None,
        });
        t += step;
    }
    rows
}

/// Creates the demo household and `size` of history up to `now`. Assumes an empty
/// database (callers check); returns how many readings were written.
pub async fn seed(
    db: &Db,
    now: Timestamp,
    size: DemoSize,
    password_of_all: &str,
) -> anyhow::Result<u64> {
    let started = std::time::Instant::now();
    let hash = password::hash(password_of_all.to_string()).await?;
    let end = now.as_second() - now.as_second().rem_euclid(STEP_SECS);
    let start = end - size.days * 86_400;
    let mut written = 0;
    let mut seed = 7_u64;
    let home = db.create_household(HOME.name, start).await?;
    let mut shared_meter = None;
    for user in household() {
        let start = user.days.map_or(start, |d| end - d.min(size.days) * 86_400);
        let user_id = db
            .create_user(&NewUser {
                email: &user.email,
                display_name: user.name,
                password_hash: &hash,
                role: user.role,
                plan_tier: user.tier,
                location: user.location,
                timezone: user.timezone,
                created_at: start,
            })
            .await?;
        if HOME.members.contains(&user.email.as_str()) {
            db.set_household(user_id, Some(home)).await?;
        }
        let tz = TimeZone::get(user.timezone)?;
        for (position, m) in (0_i64..).zip(&user.meters) {
            let meter_id = db
                .create_meter(&NewMeter {
                    owner_id: user_id,
                    kind: if m.quota.is_some() { "quota" } else { "sensor" },
                    name: m.name,
                    unit: m.unit,
                    timezone: user.timezone,
                    quota: m.quota,
                    reset_rule: m.rule,
                    range_min: m.range.0,
                    range_max: m.range.1,
                    position,
                    created_at: start,
                })
                .await?;
            if user.email == HOME.members[0] && m.name == HOME.shared_meter {
                shared_meter = Some(meter_id);
            }
            // A simulated source carries the meter on from where its history ends.
            db.put_source(&SourceRow {
                meter_id,
                kind: "simulator".into(),
                url: None,
                headers: "{}".into(),
                bearer_token: None,
                used_path: None,
                remaining_path: None,
                quota_path: None,
                scale: 1.0,
                interval_secs: STEP_SECS,
                timeout_secs: 30,
                enabled: true,
                next_due_at: end + STEP_SECS,
                consecutive_failures: 0,
            })
            .await?;
            seed += 1;
            let rows = generate(meter_id, m, &tz, (start, end, STEP_SECS), &mut Rng(seed));
            // A month at a time keeps each write transaction short.
            for chunk in rows.chunks(4_500) {
                written += ingest::write(db, chunk).await?.stored as u64;
            }
        }
    }
    if let Some(id) = shared_meter {
        db.set_household_role(id, Some("viewer")).await?;
    }
    if size.users > 0 {
        written += seed_crowd(db, (start, end), size.users, &hash).await?;
    }
    tracing::info!(
        readings = written,
        days = size.days,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "seeded demo data"
    );
    Ok(written)
}

/// Where the generated members live, in turn (timezone, location). At 12:00–22:00 UTC it
/// is past 05:00 for all of them, so a warming pinned there has every one to compute.
const CROWD_HOMES: [(&str, &str); 4] = [
    ("Europe/Tallinn", "Tallinn"),
    ("Europe/Lisbon", "Lisbon"),
    ("Europe/Berlin", "Berlin"),
    ("America/Chicago", "Austin"),
];
const CROWD_TIERS: [&str; 4] = ["budget", "mid", "professional", "enterprise"];
/// The generated members' meters are read hourly: 10-minute readings for 10 000 members
/// would be 4.3 M readings a day, where an hour's keep the daily rollups as real.
pub const CROWD_STEP_SECS: i64 = 3_600;
/// Members written at once (their statements interleave; on PostgreSQL, commits group).
const CROWD_PARALLEL: usize = 4;

/// The email of generated member `i` (from 0).
pub fn crowd_email(i: u32) -> String {
    format!("member{i:05}@crowd.headroom.demo")
}

/// A generated member's three quota meters, each a little different: a home internet
/// line (reset on the 1st), mobile data (on the 15th) and electricity (on the last day).
fn crowd_meters(rng: &mut Rng) -> [DemoMeter; 3] {
    let line = rng.between(0.5, 2.0);
    [
        quota(
            "Home internet",
            "MB",
            (1_048_576.0 * line).round(),
            "monthly:1",
            Shape::Internet {
                per_day: 33_000.0 * line * rng.between(0.75, 1.15),
            },
        ),
        quota(
            "Mobile data",
            "MB",
            51_200.0,
            "monthly:15",
            Shape::Mobile {
                per_day: 1_700.0 * rng.between(0.5, 1.3),
            },
        ),
        quota(
            "Electricity",
            "kWh",
            320.0,
            "monthly:last",
            Shape::Power {
                per_day: 9.0 * rng.between(0.6, 1.2),
            },
        ),
    ]
}

/// Adds `count` generated members (`member00000@crowd.headroom.demo`, …, the demo
/// password, no household, no sources), each with [`crowd_meters`] read every
/// [`CROWD_STEP_SECS`] from `start` to `end`, written through the one write path.
/// Returns how many readings were written.
pub async fn seed_crowd(
    db: &Db,
    (start, end): (i64, i64),
    count: u32,
    password_hash: &str,
) -> anyhow::Result<u64> {
    use futures::{StreamExt, TryStreamExt};
    let started = std::time::Instant::now();
    let written = futures::stream::iter(0..count)
        .map(|i| crowd_member(db, i, (start, end), password_hash))
        .buffer_unordered(CROWD_PARALLEL)
        .try_fold(0_u64, |sum, n| async move { Ok(sum + n) })
        .await?;
    tracing::info!(
        members = count,
        readings = written,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "seeded generated members"
    );
    Ok(written)
}

async fn crowd_member(
    db: &Db,
    i: u32,
    (start, end): (i64, i64),
    password_hash: &str,
) -> anyhow::Result<u64> {
    let n = i as usize;
    let (zone, location) = CROWD_HOMES[n % CROWD_HOMES.len()];
    let user_id = db
        .create_user(&NewUser {
            email: &crowd_email(i),
            display_name: &format!("Member {i}"),
            password_hash,
            role: "member",
            plan_tier: CROWD_TIERS[n / CROWD_HOMES.len() % CROWD_TIERS.len()],
            location,
            timezone: zone,
            created_at: start,
        })
        .await?;
    let tz = TimeZone::get(zone)?;
    let mut rng = Rng(1_000_003 + u64::from(i));
    let mut rows = Vec::new();
    for (position, m) in (0_i64..).zip(&crowd_meters(&mut rng)) {
        let meter_id = db
            .create_meter(&NewMeter {
                owner_id: user_id,
                kind: "quota",
                name: m.name,
                unit: m.unit,
                timezone: zone,
                quota: m.quota,
                reset_rule: m.rule,
                range_min: None,
                range_max: None,
                position,
                created_at: start,
            })
            .await?;
        rows.extend(generate(
            meter_id,
            m,
            &tz,
            (start, end, CROWD_STEP_SECS),
            &mut rng,
        ));
    }
    let mut written = 0;
    for chunk in rows.chunks(4_500) {
        written += ingest::write(db, chunk).await?.stored as u64;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_password_is_only_for_loopback_servers() {
        let loopback = "127.0.0.1:3000".parse().expect("addr");
        assert_eq!(password_for(loopback, false), DEMO_PASSWORD);
        assert_eq!(
            password_for("[::1]:3000".parse().expect("addr"), false),
            DEMO_PASSWORD
        );
        let public = password_for("0.0.0.0:3000".parse().expect("addr"), false);
        assert_ne!(public, DEMO_PASSWORD);
        assert_eq!(public.len(), 16);
        assert_ne!(
            public,
            password_for("0.0.0.0:3000".parse().expect("addr"), false)
        );
        // On loopback behind a reverse proxy, the network reaches it: random.
        assert_ne!(password_for(loopback, true), DEMO_PASSWORD);
    }

    #[test]
    fn internet_counter_resets_each_period_and_tracks_its_budget() {
        let tz = TimeZone::get("Europe/Tallinn").expect("tzdb");
        let m = quota(
            "Fibre",
            "MB",
            1_048_576.0,
            "monthly:1",
            Shape::Internet { per_day: 33_000.0 },
        );
        let end: Timestamp = "2026-11-20T18:00:00Z".parse().expect("literal");
        let end = end.as_second();
        let start = end - 120 * 86_400;
        let rows = generate(1, &m, &tz, (start, end, STEP_SECS), &mut Rng(1));
        assert_eq!(rows.len() as i64, 120 * 144 + 1);
        // From 23 July: exactly one drop to zero per month start crossed (Aug, Sep, Oct, Nov).
        let resets = rows.windows(2).filter(|w| w[1].value < w[0].value).count();
        assert_eq!(resets, 4);
        // October (31 days) should land within ±15 % of 31 × 33 000 MB.
        let oct_last = rows
            .windows(2)
            .filter(|w| w[1].value < w[0].value)
            .nth(3)
            .map(|w| w[0].value)
            .expect("four resets");
        let expected = 31.0 * 33_000.0;
        assert!(
            (oct_last - expected).abs() / expected < 0.15,
            "October used {oct_last}"
        );
    }

    #[test]
    fn hourly_readings_use_what_ten_minute_ones_do() {
        let tz = TimeZone::UTC;
        let start: Timestamp = "2026-10-01T00:00:00Z".parse().expect("literal");
        let start = start.as_second();
        let end = start + 31 * 86_400 - CROWD_STEP_SECS; // October's last hourly reading
        let fibre = |per_day| {
            quota(
                "Fibre",
                "MB",
                1_048_576.0,
                "monthly:1",
                Shape::Internet { per_day },
            )
        };
        let hourly = generate(
            1,
            &fibre(33_000.0),
            &tz,
            (start, end, CROWD_STEP_SECS),
            &mut Rng(5),
        );
        assert_eq!(hourly.len(), 31 * 24);
        let used = hourly.last().expect("rows").value;
        let expected = 31.0 * 33_000.0;
        assert!(
            (used - expected).abs() / expected < 0.15,
            "October used {used} read hourly"
        );
        // Members differ, and every generated meter is a quota with its own rule.
        let mut rng = Rng(9);
        let (a, b) = (crowd_meters(&mut rng), crowd_meters(&mut rng));
        assert_ne!(a[0].quota, b[0].quota);
        let rules: Vec<_> = a.iter().map(|m| m.rule).collect();
        assert_eq!(
            rules,
            [Some("monthly:1"), Some("monthly:15"), Some("monthly:last")]
        );
        assert_eq!(crowd_email(42), "member00042@crowd.headroom.demo");
    }

    #[test]
    fn sensors_mostly_stay_in_range() {
        let tz = TimeZone::UTC;
        let m = sensor("Room", "°C", 19.0, 24.0, Shape::Temperature { base: 21.5 });
        let rows = generate(1, &m, &tz, (0, 30 * 86_400, STEP_SECS), &mut Rng(3));
        let inside = rows
            .iter()
            .filter(|r| (19.0..=24.0).contains(&r.value))
            .count();
        assert!(inside as f64 / rows.len() as f64 > 0.97);
    }
}
