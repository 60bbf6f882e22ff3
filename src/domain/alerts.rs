//! Notifications' rules, free of I/O (SPEC S5): when each rule fires, what it says, which
//! *episode* it belongs to, when quiet hours hold a message back, and how often a failed
//! delivery is tried again.
//!
//! Every notification belongs to an episode named by a string (`quota80:2026-12-01`: the
//! 80 % level of the period that began that day). The server stores an episode once per
//! meter, with a unique key, and notifies only when that insert took: so a rule fires once
//! per episode however often it is evaluated, on however many instances — crossing 80 %
//! twice in a period is one notification, and the next period is a new episode.

#[cfg(test)]
mod tests;

use jiff::{Timestamp, civil::Date, tz::TimeZone};
use serde::{Deserialize, Serialize};

use crate::domain::{
    DomainError,
    meter::NormalRange,
    outlook::meter::QuotaOutlook,
    units::{Precision, format_amount},
};

/// A meter's rules. Every meter has them, on, with these defaults until its owner edits
/// them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct AlertSettings {
    /// All of this meter's notifications, on or off.
    pub enabled: bool,
    /// Quota meters: the shares of the quota, in percent, whose crossing is told.
    pub quota_levels: Vec<u8>,
    /// Quota meters: today's use went over today's budget.
    pub over_today: bool,
    /// Quota meters: at the recent pace the quota runs out before the period ends.
    pub run_out: bool,
    /// Sensors: minutes outside the normal range before it is told (0: at once).
    pub range_minutes: u32,
    /// Sensors: how far back inside the range, as a share of its width, a reading must be
    /// for "back in range" (so a value hovering at the edge is one episode, not a stream).
    pub range_hysteresis: f64,
    /// Collected meters: failed collections in a row before it is told.
    pub collector_failures: u32,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            enabled: true,
            quota_levels: vec![80, 90, 100],
            over_today: true,
            run_out: true,
            range_minutes: 10,
            range_hysteresis: 0.05,
            collector_failures: 3,
        }
    }
}

impl AlertSettings {
    /// Checks every field; the error names the first bad one.
    pub fn validate(mut self) -> Result<Self, DomainError> {
        if self.quota_levels.len() > 5 {
            return Err(DomainError::new("quota_levels", "at most 5 levels"));
        }
        if self.quota_levels.iter().any(|l| !(1..=200).contains(l)) {
            return Err(DomainError::new(
                "quota_levels",
                "each level is a percentage from 1 to 200",
            ));
        }
        self.quota_levels.sort_unstable();
        self.quota_levels.dedup();
        if self.range_minutes > 1440 {
            return Err(DomainError::new("range_minutes", "at most 1440 (a day)"));
        }
        if !(0.0..=0.5).contains(&self.range_hysteresis) {
            return Err(DomainError::new(
                "range_hysteresis",
                "a share of the range from 0 to 0.5",
            ));
        }
        if !(1..=100).contains(&self.collector_failures) {
            return Err(DomainError::new(
                "collector_failures",
                "from 1 to 100 failures in a row",
            ));
        }
        Ok(self)
    }
}

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    QuotaLevel(u8),
    OverToday,
    RunOut,
    OutOfRange,
    BackInRange,
    CollectorFailing,
    CollectorRecovered,
}

impl Rule {
    /// The name stored and sent (`quota_80`, `run_out`, …).
    pub fn name(self) -> String {
        match self {
            Rule::QuotaLevel(l) => format!("quota_{l}"),
            Rule::OverToday => "over_today".into(),
            Rule::RunOut => "run_out".into(),
            Rule::OutOfRange => "out_of_range".into(),
            Rule::BackInRange => "back_in_range".into(),
            Rule::CollectorFailing => "collector_failing".into(),
            Rule::CollectorRecovered => "collector_recovered".into(),
        }
    }
}

/// A rule that fired: the episode it claims and the message for everyone who sees the
/// meter.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    pub rule: Rule,
    pub episode: String,
    /// Episodes this one also settles, without a message of their own: crossing 80 %
    /// and 90 % in one reading tells of 90 % only, and 80 % is not told later.
    pub also_claims: Vec<String>,
    pub title: String,
    pub body: String,
    /// Let through quiet hours when the user allows urgent messages (100 %, run-out).
    pub urgent: bool,
}

fn fmt_day(d: Date) -> String {
    d.strftime("%a %-d %b").to_string()
}

/// The quota rules on today's outlook of one meter.
pub fn quota_alerts(s: &AlertSettings, o: &QuotaOutlook) -> Vec<Fired> {
    if !s.enabled {
        return Vec::new();
    }
    let mut out = Vec::new();
    let snap = &o.snapshot;
    let amount = |v: f64| format_amount(v, &o.unit, Precision::Compact);
    let period = o.period_first_day;
    let percent = snap.fraction_used * 100.0;
    let crossed: Vec<u8> = s
        .quota_levels
        .iter()
        .copied()
        .filter(|l| percent + 1e-9 >= f64::from(*l))
        .collect();
    if let Some((&top, lower)) = crossed.split_last() {
        let over = snap.remaining < 0.0;
        out.push(Fired {
            rule: Rule::QuotaLevel(top),
            episode: format!("quota{top}:{period}"),
            also_claims: lower.iter().map(|l| format!("quota{l}:{period}")).collect(),
            title: if top >= 100 {
                format!("{}: quota used up", o.name)
            } else {
                format!("{}: {top} % of the quota used", o.name)
            },
            body: if over {
                format!(
                    "{} of {} used, {} over, with {} day(s) of the period left (it ends {}).",
                    amount(snap.used),
                    amount(snap.quota),
                    amount(-snap.remaining),
                    snap.days_left,
                    fmt_day(o.period_last_day),
                )
            } else {
                format!(
                    "{} of {} used; {} left for {} day(s), {} a day.",
                    amount(snap.used),
                    amount(snap.quota),
                    amount(snap.remaining),
                    snap.days_left,
                    amount(snap.daily_budget),
                )
            },
            urgent: top >= 100,
        });
    }
    if s.over_today && snap.left_today < 0.0 && snap.remaining >= 0.0 {
        let today = o
            .period_last_day
            .checked_sub(jiff::Span::new().days(snap.days_left - 1))
            .unwrap_or(o.period_last_day);
        out.push(Fired {
            rule: Rule::OverToday,
            episode: format!("today:{today}"),
            also_claims: Vec::new(),
            title: format!("{}: over today's budget", o.name),
            body: format!(
                "{} used today against a budget of {}.",
                amount(snap.used_today),
                amount(snap.daily_budget),
            ),
            urgent: false,
        });
    }
    if s.run_out
        && snap.remaining > 0.0
        && let Some(day) = o.run_out
    {
        out.push(Fired {
            rule: Rule::RunOut,
            episode: format!("runout:{period}"),
            also_claims: Vec::new(),
            title: format!("{}: runs out on {}", o.name, fmt_day(day)),
            body: format!(
                "At {} a day the {} left runs out on {}, before the period ends on {}. \
                 Staying under {} a day makes it last.",
                amount(o.average),
                amount(snap.remaining),
                fmt_day(day),
                fmt_day(o.period_last_day),
                amount(snap.daily_budget),
            ),
            urgent: true,
        });
    }
    out
}

/// A condition under way on a meter: since when, and whether it was told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    pub since: i64,
    pub fired: bool,
}

/// The sensor's reading as the rule needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SensorReading {
    pub ts: i64,
    pub value: f64,
}

/// Inside the range by the hysteresis margin: where "back in range" is decided.
fn well_inside(range: &NormalRange, margin_share: f64, v: f64) -> bool {
    let margin = match (range.min, range.max) {
        (Some(lo), Some(hi)) => (hi - lo) * margin_share,
        (Some(b), None) | (None, Some(b)) => b.abs() * margin_share,
        (None, None) => 0.0,
    };
    range.min.is_none_or(|lo| v >= lo + margin) && range.max.is_none_or(|hi| v <= hi - margin)
}

/// One reading of a sensor through the out-of-range rule: the condition after it, and
/// what fired. Readings must come in time order; the server drops older ones.
pub fn range_step(
    s: &AlertSettings,
    name: &str,
    unit: &str,
    range: &NormalRange,
    state: Option<Condition>,
    r: SensorReading,
) -> (Option<Condition>, Option<Fired>) {
    let amount = |v: f64| format_amount(v, unit, Precision::Compact);
    let side = || match (range.min, range.max) {
        (Some(lo), _) if r.value < lo => format!("below its normal range (from {})", amount(lo)),
        (_, Some(hi)) => format!("above its normal range (up to {})", amount(hi)),
        _ => "outside its normal range".to_string(),
    };
    let outside = !range.contains(r.value);
    match (state, outside) {
        (None, false) => (None, None),
        (None, true) | (Some(Condition { fired: false, .. }), true) => {
            let since = state.map_or(r.ts, |c| c.since);
            let minutes = (r.ts - since).max(0) / 60;
            if s.enabled && minutes >= i64::from(s.range_minutes) {
                let fired = Fired {
                    rule: Rule::OutOfRange,
                    episode: format!("range:{since}"),
                    also_claims: Vec::new(),
                    title: format!("{name}: out of range"),
                    body: format!(
                        "{name} is {} at {}{}.",
                        side(),
                        amount(r.value),
                        if minutes > 0 {
                            format!(", for {minutes} min")
                        } else {
                            String::new()
                        }
                    ),
                    urgent: false,
                };
                (Some(Condition { since, fired: true }), Some(fired))
            } else {
                (
                    Some(Condition {
                        since,
                        fired: false,
                    }),
                    None,
                )
            }
        }
        // Back inside before it was told: a blip shorter than the rule's minutes.
        (Some(Condition { fired: false, .. }), false) => (None, None),
        (Some(c), _) if well_inside(range, s.range_hysteresis, r.value) => {
            let fired = s.enabled.then(|| Fired {
                rule: Rule::BackInRange,
                episode: format!("range-back:{}", c.since),
                also_claims: Vec::new(),
                title: format!("{name}: back in range"),
                body: format!(
                    "{name} is back in its normal range at {}, after {} min outside.",
                    amount(r.value),
                    (r.ts - c.since).max(0) / 60
                ),
                urgent: false,
            });
            (None, fired)
        }
        // Told, and still outside or only at the edge: the same episode.
        (Some(c), _) => (Some(c), None),
    }
}

/// One collection's outcome through the collector rule; `failures` counts the failed
/// collections in a row, this one included (0 after a success).
pub fn collector_step(
    s: &AlertSettings,
    name: &str,
    state: Option<Condition>,
    failures: u32,
    now: i64,
) -> (Option<Condition>, Option<Fired>) {
    if failures == 0 {
        let fired = state.filter(|c| c.fired && s.enabled).map(|c| Fired {
            rule: Rule::CollectorRecovered,
            episode: format!("collect-ok:{}", c.since),
            also_claims: Vec::new(),
            title: format!("{name}: collecting again"),
            body: format!("{name} is collecting readings again."),
            urgent: false,
        });
        return (None, fired);
    }
    let c = state.unwrap_or(Condition {
        since: now,
        fired: false,
    });
    if !c.fired && s.enabled && failures >= s.collector_failures {
        let fired = Fired {
            rule: Rule::CollectorFailing,
            episode: format!("collect:{}", c.since),
            also_claims: Vec::new(),
            title: format!("{name}: collection failing"),
            body: format!(
                "The last {failures} collections of {name} failed; its figures are not \
                 current. Check the source's settings on the meter's page."
            ),
            urgent: false,
        };
        return (Some(Condition { fired: true, ..c }), Some(fired));
    }
    (Some(c), None)
}

/// A user's quiet hours: minutes of the local day; `start > end` runs past midnight,
/// `start == end` is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    pub start: u16,
    pub end: u16,
}

impl QuietHours {
    pub fn new(start: u16, end: u16) -> Result<Self, DomainError> {
        for (field, v) in [("quiet_start", start), ("quiet_end", end)] {
            if v >= 1440 {
                return Err(DomainError::new(field, "a minute of the day, 0 to 1439"));
            }
        }
        Ok(QuietHours { start, end })
    }

    /// `"HH:MM"` → minute of the day.
    pub fn parse_clock(field: &'static str, text: &str) -> Result<u16, DomainError> {
        let bad = || DomainError::new(field, "a time of day as HH:MM");
        let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
        let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 23 || m > 59 {
            return Err(bad());
        }
        Ok(h * 60 + m)
    }

    pub fn clock(minute: u16) -> String {
        format!("{:02}:{:02}", minute / 60, minute % 60)
    }

    /// When a message made at `now` may be sent: `None` at once, or the end of the quiet
    /// hours it falls in — a wall-clock time in `tz`, so a DST change moves the instant,
    /// not the hour (an end inside a skipped hour is the first instant after it).
    pub fn held_until(&self, now: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        if self.start == self.end {
            return None;
        }
        let local = now.to_zoned(tz.clone());
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        let quiet = if self.start < self.end {
            (self.start..self.end).contains(&minute)
        } else {
            minute >= self.start || minute < self.end
        };
        if !quiet {
            return None;
        }
        let day = if minute < self.end {
            local.date()
        } else {
            local.date().tomorrow().ok()?
        };
        let end = day.at((self.end / 60) as i8, (self.end % 60) as i8, 0, 0);
        end.to_zoned(tz.clone()).ok().map(|z| z.timestamp())
    }
}

/// A failed delivery is tried again for this long after it was first due; then it is a
/// dead letter, listed for its user with a button to send it again.
pub const GIVE_UP_SECS: i64 = 24 * 3600;
/// The first retry waits this long; each after it twice as long as the one before …
const FIRST_RETRY_SECS: f64 = 30.0;
/// … up to this.
const MAX_RETRY_SECS: f64 = 3600.0;

/// When to try again after failed attempt number `attempt` (1 for the first), made at
/// `now` for a delivery first due at `first_due`; `None`: give up. `jitter` (0–1, random
/// per attempt) spreads the retries of many deliveries that failed together over the
/// upper half of the wait, so a receiver back from an outage is not hit by all at once.
pub fn next_try(first_due: i64, now: i64, attempt: u32, jitter: f64) -> Option<i64> {
    let exp = attempt.saturating_sub(1).min(16) as i32;
    let wait = (FIRST_RETRY_SECS * 2f64.powi(exp)).min(MAX_RETRY_SECS);
    let wait = wait * (0.5 + 0.5 * jitter.clamp(0.0, 1.0));
    let at = now + wait.ceil() as i64;
    (at <= first_due + GIVE_UP_SECS).then_some(at)
}

/// Seconds from `now` until the next `hour`:00 on the clock in `tz` (today's if it is
/// still ahead, else tomorrow's; a day without that hour, in a DST gap, takes the
/// instant after the gap). A push message's `TTL`: worth delivering until the morning's
/// outlook replaces it.
pub fn secs_until_local_hour(now: Timestamp, tz: &TimeZone, hour: i8) -> i64 {
    let local = now.to_zoned(tz.clone());
    let at = |day: Date| {
        day.at(hour, 0, 0, 0)
            .to_zoned(tz.clone())
            .ok()
            .map(|z| z.timestamp().as_second())
    };
    let today = at(local.date()).filter(|t| *t > now.as_second());
    let next = today.or_else(|| local.date().tomorrow().ok().and_then(at));
    next.map_or(24 * 3600, |t| (t - now.as_second()).max(0))
}

/// A push message's `Topic` (RFC 8030: at most 32 characters of the URL-safe base64
/// alphabet): the meter, so a device that was offline gets that meter's latest state
/// instead of a backlog; messages about no one meter share one topic.
pub fn push_topic(meter_id: Option<i64>) -> String {
    match meter_id {
        Some(id) => format!("meter-{id}"),
        None => "headroom".to_string(),
    }
}
