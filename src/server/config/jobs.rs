//! The background work: demo data, collectors under the leader lease, and monitoring.

use super::sources::{Sources, parse_bool};

pub const KEYS: &[&str] = &[
    "seed_demo",
    "collector",
    "lease_secs",
    "collector_retry_ms",
    "monitoring",
    "monitoring_sample_secs",
    "notifications",
    "rules_every_ms",
    "delivery_claim_secs",
];

#[derive(Debug, Clone)]
pub struct JobSettings {
    pub seed_demo: bool,
    /// The collectors and scheduled jobs run (`HEADROOM_COLLECTOR`).
    pub enabled: bool,
    pub lease_secs: i64,
    pub collector_retry_ms: u64,
    pub monitoring: bool,
    pub monitoring_sample_secs: u64,
    /// Notification rules are evaluated (on writes and in the leader's pass) and the
    /// outbox is sent (`HEADROOM_NOTIFICATIONS`).
    pub notifications: bool,
    /// How long the write path's rule evaluator gathers the meters written to before it
    /// evaluates each of them once (`HEADROOM_RULES_EVERY_MS`; 0: as soon as it is free).
    pub rules_every_ms: u64,
    /// How long a claimed batch of the outbox is left to its sender before another may
    /// send it again (`HEADROOM_DELIVERY_CLAIM_SECS`): longer than a request may take.
    pub delivery_claim_secs: i64,
}

pub fn parse(src: &mut Sources) -> JobSettings {
    JobSettings {
        seed_demo: src.flag("seed_demo"),
        enabled: src.parse_with("collector", true, "true or false", parse_bool),
        lease_secs: src.parse_with(
            "lease_secs",
            30,
            "a whole number of seconds from 3 to 3600",
            |s| s.parse().ok().filter(|n| (3..=3600).contains(n)),
        ),
        collector_retry_ms: src.parse_with(
            "collector_retry_ms",
            10_000,
            "a whole number of milliseconds up to 600000",
            |s| s.parse().ok().filter(|n| *n <= 600_000),
        ),
        monitoring: src.parse_with("monitoring", true, "true or false", parse_bool),
        monitoring_sample_secs: src.parse_with(
            "monitoring_sample_secs",
            5,
            "a whole number of seconds up to 300 (0: no automatic sampling)",
            |s| s.parse().ok().filter(|n| *n <= 300),
        ),
        notifications: src.parse_with("notifications", true, "true or false", parse_bool),
        rules_every_ms: src.parse_with(
            "rules_every_ms",
            500,
            "a whole number of milliseconds up to 10000",
            |s| s.parse().ok().filter(|n| *n <= 10_000),
        ),
        delivery_claim_secs: src.parse_with(
            "delivery_claim_secs",
            60,
            "a whole number of seconds from 15 to 3600",
            |s| s.parse().ok().filter(|n| (15..=3600).contains(n)),
        ),
    }
}
