//! Who is believed and how much anyone may ask: cookies and sessions, rate limits,
//! proxies, password hashing, outbound fetches and uploads.

use std::{collections::BTreeMap, time::Duration};

use ipnet::IpNet;

use super::sources::Sources;

pub const KEYS: &[&str] = &[
    "secure_cookies",
    "session_days",
    "invite_hours",
    "rate_limits",
    "rate_limit_admins",
    "token_rate_limit",
    "app_rate_limit",
    "trusted_proxies",
    "password_hashes",
    "outbound_allow",
    "upload_limit_bytes",
    "upload_timeout_secs",
    "push_contact",
];

#[derive(Debug, Clone)]
pub struct SecuritySettings {
    pub secure_cookies: bool,
    pub session_days: u32,
    /// How long invitation and password-reset links work.
    pub invite_hours: u32,
    pub rate_limits: RateLimits,
    /// Requests per hour per API token.
    pub token_rate_limit: u32,
    /// Requests per hour per user to server functions and form routes.
    pub app_rate_limit: u32,
    /// Reverse proxies whose forwarding headers are believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Password hashes computed at once.
    pub password_hashes: usize,
    /// Non-public ranges opened to outbound requests (`server::outbound`).
    pub outbound_allow: Vec<IpNet>,
    pub upload_limit_bytes: u64,
    pub upload_timeout: Duration,
    /// The `sub` of Web Push's VAPID claims: how a push service reaches the operator.
    pub push_contact: Option<String>,
}

/// API requests per hour allowed by plan tier (SPEC S7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    pub per_hour: BTreeMap<String, u32>,
    pub count_admins: bool,
}

pub const PLAN_TIERS: [&str; 4] = ["budget", "mid", "professional", "enterprise"];

impl RateLimits {
    /// The seeds' limits, with overrides from `tier=n,tier=n`; `None` for an unknown tier or
    /// a number that is not a whole number from 1 to 10 000 000.
    pub fn with_overrides(spec: &str) -> Option<BTreeMap<String, u32>> {
        let mut limits: BTreeMap<String, u32> = PLAN_TIERS
            .iter()
            .zip([50, 100, 200, 500])
            .map(|(t, n)| ((*t).to_string(), n))
            .collect();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (tier, n) = part.split_once('=')?;
            let tier = tier.trim();
            let n: u32 = n
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=10_000_000).contains(n))?;
            *limits.get_mut(tier)? = n;
        }
        Some(limits)
    }

    /// The hourly limit of `tier`; an unknown tier gets the smallest.
    pub fn for_tier(&self, tier: &str) -> u32 {
        self.per_hour
            .get(tier)
            .copied()
            .unwrap_or_else(|| self.per_hour.values().copied().min().unwrap_or(50))
    }
}

pub fn parse(src: &mut Sources) -> SecuritySettings {
    let per_hour = |src: &mut Sources, key: &'static str, default: u32| {
        src.parse_with(
            key,
            default,
            "a whole number of requests per hour from 1 to 10000000",
            |s| s.parse().ok().filter(|n| (1..=10_000_000).contains(n)),
        )
    };
    // Half the cores: a sign-in flood must leave the other half serving everyone else.
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    SecuritySettings {
        secure_cookies: src.flag("secure_cookies"),
        session_days: src.parse_with(
            "session_days",
            30,
            "a whole number of days from 1 to 365",
            |s| s.parse().ok().filter(|n| (1..=365).contains(n)),
        ),
        invite_hours: src.parse_with(
            "invite_hours",
            72,
            "a whole number of hours from 1 to 8760",
            |s| s.parse().ok().filter(|n| (1..=8760).contains(n)),
        ),
        rate_limits: RateLimits {
            per_hour: src.parse_with(
                "rate_limits",
                RateLimits::with_overrides("").unwrap_or_default(),
                "tier=requests-per-hour pairs like budget=50,enterprise=500 (tiers: budget, mid, professional, enterprise)",
                RateLimits::with_overrides,
            ),
            count_admins: src.flag("rate_limit_admins"),
        },
        token_rate_limit: per_hour(src, "token_rate_limit", 1000),
        app_rate_limit: per_hour(src, "app_rate_limit", 3000),
        trusted_proxies: ranges(
            src,
            "trusted_proxies",
            "is not an address or CIDR range; expected a comma-separated list like 127.0.0.1/32,10.0.0.0/8",
        ),
        password_hashes: src.parse_with(
            "password_hashes",
            (cores / 2).max(1),
            "a whole number from 1 to 64",
            |s| s.parse().ok().filter(|n| (1..=64).contains(n)),
        ),
        outbound_allow: ranges(
            src,
            "outbound_allow",
            "is not a CIDR range; expected comma-separated ranges like 192.168.1.0/24,127.0.0.1/32",
        ),
        // A year of 10-second readings in CSV is about 100 MB; bigger files are better
        // imported with `headroom import` on the server.
        upload_limit_bytes: src.parse_with(
            "upload_limit_bytes",
            128 * 1024 * 1024,
            "a whole number of bytes from 1024 to 17179869184 (16 GiB)",
            |s| s.parse().ok().filter(|n| (1024..=16 << 30).contains(n)),
        ),
        upload_timeout: Duration::from_secs(src.parse_with(
            "upload_timeout_secs",
            300,
            "a whole number of seconds from 1 to 86400",
            |s| s.parse().ok().filter(|n| (1..=86_400).contains(n)),
        )),
        push_contact: src.parse_with(
            "push_contact",
            None,
            "a mailto: or https: address of at most 200 characters, e.g. mailto:admin@example.org",
            |s| {
                let s = s.trim();
                ((s.starts_with("mailto:") || s.starts_with("https://"))
                    && s.len() <= 200
                    && !s.contains(['"', '\\'])
                    && s.chars().all(|c| !c.is_control()))
                .then(|| Some(s.to_string()))
            },
        ),
    }
}

/// Parsed by hand to name the bad entry: one typo in a long list is hard to spot.
fn ranges(src: &mut Sources, key: &'static str, why_bad: &str) -> Vec<IpNet> {
    let Some((value, origin)) = src.raw(key) else {
        return Vec::new();
    };
    parse_ip_ranges(&value).unwrap_or_else(|bad| {
        src.problem(format!("  {origin} = {value:?}: {bad:?} {why_bad}"));
        Vec::new()
    })
}

/// `192.168.1.0/24, 10.0.0.7` → ranges (a bare address is itself a range of one); `Err`
/// holds the first entry that is neither.
pub fn parse_ip_ranges(spec: &str) -> Result<Vec<IpNet>, String> {
    spec.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<IpNet>()
                .map(|net| net.trunc())
                .or_else(|_| part.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| part.to_string())
        })
        .collect()
}
