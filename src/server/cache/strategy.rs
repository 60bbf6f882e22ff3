//! Named caching strategies: what kind of value a key holds decides how long it lives.
//! Default TTLs are the seeds' (SPEC S6); `HEADROOM_CACHE_TTL` overrides any of them.

use std::{fmt, time::Duration};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Strategy {
    Dashboard,
    Trends,
    Timeline,
    Outlook,
    BalanceScore,
    PeerComparison,
    ContentTemplates,
    PerformanceSummary,
    /// Signed-in sessions, so a request does not cost a database query to know its user.
    Session,
    /// A meter's series over a range (the chart explorer), dropped by its meter's writes.
    Series,
}

impl Strategy {
    pub const ALL: [Strategy; 10] = [
        Strategy::Dashboard,
        Strategy::Trends,
        Strategy::Timeline,
        Strategy::Outlook,
        Strategy::BalanceScore,
        Strategy::PeerComparison,
        Strategy::ContentTemplates,
        Strategy::PerformanceSummary,
        Strategy::Session,
        Strategy::Series,
    ];

    /// The name in keys (`outlook:…`), statistics and configuration.
    pub const fn name(self) -> &'static str {
        match self {
            Strategy::Dashboard => "dashboard",
            Strategy::Trends => "trends",
            Strategy::Timeline => "timeline",
            Strategy::Outlook => "outlook",
            Strategy::BalanceScore => "balance_score",
            Strategy::PeerComparison => "peer_comparison",
            Strategy::ContentTemplates => "content_templates",
            Strategy::PerformanceSummary => "performance_summary",
            Strategy::Session => "session",
            Strategy::Series => "series",
        }
    }

    pub const fn default_ttl(self) -> Duration {
        let secs = match self {
            Strategy::Dashboard => 120,
            Strategy::Trends => 600,
            Strategy::Timeline => 300,
            Strategy::Outlook => 86_400,
            Strategy::BalanceScore => 3_600,
            Strategy::PeerComparison => 1_800,
            Strategy::ContentTemplates => 7 * 86_400,
            Strategy::PerformanceSummary => 60,
            Strategy::Session => 60,
            Strategy::Series => 600,
        };
        Duration::from_secs(secs)
    }

    pub fn parse(name: &str) -> Option<Strategy> {
        Strategy::ALL.into_iter().find(|s| s.name() == name)
    }

    const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The TTL of every strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ttls([Duration; Strategy::ALL.len()]);

impl Default for Ttls {
    fn default() -> Self {
        Ttls(Strategy::ALL.map(Strategy::default_ttl))
    }
}

impl Ttls {
    pub fn get(&self, s: Strategy) -> Duration {
        self.0[s.index()]
    }

    /// Defaults with overrides from `name=seconds,name=seconds`; `None` when a name is
    /// unknown or a number is not a whole number of seconds from 0 to 30 days.
    pub fn with_overrides(spec: &str) -> Option<Ttls> {
        let mut ttls = Ttls::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, secs) = part.split_once('=')?;
            let strategy = Strategy::parse(name.trim())?;
            let secs: u64 = secs.trim().parse().ok().filter(|s| *s <= 30 * 86_400)?;
            ttls.0[strategy.index()] = Duration::from_secs(secs);
        }
        Some(ttls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_seeds_and_overrides_apply_by_name() {
        let t = Ttls::with_overrides("outlook=3600, dashboard=30").expect("valid");
        assert_eq!(t.get(Strategy::Outlook), Duration::from_secs(3600));
        assert_eq!(t.get(Strategy::Dashboard), Duration::from_secs(30));
        assert_eq!(t.get(Strategy::Trends), Duration::from_secs(600));
        assert_eq!(
            t.get(Strategy::ContentTemplates),
            Duration::from_secs(604_800)
        );
    }

    #[test]
    fn unknown_names_and_bad_numbers_are_refused() {
        assert!(Ttls::with_overrides("outlok=5").is_none());
        assert!(Ttls::with_overrides("outlook=-1").is_none());
        assert!(Ttls::with_overrides("outlook").is_none());
    }
}
