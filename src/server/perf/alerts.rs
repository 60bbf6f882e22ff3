//! Alerts with hysteresis: pure bookkeeping here, persisted by the sampler.
//!
//! A metric *trips* when its ratio to the threshold goes above 1, which raises an alert
//! whose severity follows the ratio (> 1 low, > 1.5 medium, > 2 high, > 3 critical). While
//! tripped, a higher ratio escalates the open alert (it never de-escalates, so a figure
//! wobbling between two bands does not flap). It clears only after [`CLEAR_SAMPLES`]
//! consecutive samples below [`CLEAR_RATIO`] × threshold; a figure hovering around the
//! threshold therefore stays one open alert instead of a stream of new ones. Clearing
//! resolves the open alert (`resolved_by = "auto"`).
//!
//! Resolving by hand closes the alert but leaves the metric tripped: no new alert until
//! the figure has recovered and exceeds the threshold again.

use serde::Serialize;

use super::score::Metric;

/// A tripped metric clears below this share of its threshold …
pub const CLEAR_RATIO: f64 = 0.9;
/// … for this many consecutive samples.
pub const CLEAR_SAMPLES: u32 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// `None` at or below the threshold.
    pub fn of(ratio: f64) -> Option<Severity> {
        if ratio > 3.0 {
            Some(Severity::Critical)
        } else if ratio > 2.0 {
            Some(Severity::High)
        } else if ratio > 1.5 {
            Some(Severity::Medium)
        } else if ratio > 1.0 {
            Some(Severity::Low)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        [
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ]
        .into_iter()
        .find(|v| v.name() == s)
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct MetricState {
    tripped: bool,
    /// The open alert, while there is one.
    alert: Option<i64>,
    severity: Option<Severity>,
    calm: u32,
}

/// What the sampler must do after a reading.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Raise {
        metric: Metric,
        severity: Severity,
    },
    Escalate {
        id: i64,
        severity: Severity,
    },
    /// The open alert's figures moved (same severity).
    Update {
        id: i64,
    },
    Resolve {
        id: i64,
    },
}

#[derive(Default)]
pub struct Tracker {
    states: [MetricState; Metric::ALL.len()],
}

fn index(m: Metric) -> usize {
    Metric::ALL.iter().position(|x| *x == m).unwrap_or(0)
}

impl Tracker {
    /// Feeds one sample's ratio (`None`: nothing measured, which counts as calm).
    pub fn observe(&mut self, metric: Metric, ratio: Option<f64>) -> Option<Action> {
        let s = &mut self.states[index(metric)];
        let r = ratio.unwrap_or(0.0);
        if let Some(sev) = Severity::of(r) {
            s.calm = 0;
            if !s.tripped {
                s.tripped = true;
                s.severity = Some(sev);
                return Some(Action::Raise {
                    metric,
                    severity: sev,
                });
            }
            let id = s.alert?;
            if s.severity.is_none_or(|old| sev > old) {
                s.severity = Some(sev);
                return Some(Action::Escalate { id, severity: sev });
            }
            return Some(Action::Update { id });
        }
        if !s.tripped {
            return None;
        }
        if r < CLEAR_RATIO {
            s.calm += 1;
        } else {
            s.calm = 0;
        }
        if s.calm < CLEAR_SAMPLES {
            return None;
        }
        let alert = s.alert.take();
        *s = MetricState::default();
        alert.map(|id| Action::Resolve { id })
    }

    /// The alert the last `Raise` for `metric` created.
    pub fn raised(&mut self, metric: Metric, id: i64) {
        self.states[index(metric)].alert = Some(id);
    }

    /// An alert found open at start: the metric is tripped with it.
    pub fn restore(&mut self, metric: Metric, id: i64, severity: Option<Severity>) {
        let s = &mut self.states[index(metric)];
        *s = MetricState {
            tripped: true,
            alert: Some(id),
            severity,
            calm: 0,
        };
    }

    /// Someone resolved `id` by hand.
    pub fn resolved_by_hand(&mut self, id: i64) {
        for s in &mut self.states {
            if s.alert == Some(id) {
                s.alert = None;
            }
        }
    }

    pub fn is_tripped(&self, metric: Metric) -> bool {
        self.states[index(metric)].tripped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: Metric = Metric::ResponseTime;

    #[test]
    fn severity_by_multiple() {
        assert_eq!(Severity::of(1.0), None);
        assert_eq!(Severity::of(1.01), Some(Severity::Low));
        assert_eq!(Severity::of(1.6), Some(Severity::Medium));
        assert_eq!(Severity::of(2.5), Some(Severity::High));
        assert_eq!(Severity::of(3.5), Some(Severity::Critical));
    }

    #[test]
    fn hovering_at_the_threshold_is_one_alert() {
        let mut t = Tracker::default();
        assert_eq!(
            t.observe(M, Some(1.05)),
            Some(Action::Raise {
                metric: M,
                severity: Severity::Low
            })
        );
        t.raised(M, 7);
        // Wobbling around the threshold: no new alert, no resolution.
        for r in [0.98, 1.02, 0.95, 1.01, 0.92, 0.99, 1.03, 0.91] {
            let a = t.observe(M, Some(r));
            assert!(
                matches!(a, None | Some(Action::Update { id: 7 })),
                "{r}: {a:?}"
            );
        }
        // Escalates, never de-escalates.
        assert_eq!(
            t.observe(M, Some(2.2)),
            Some(Action::Escalate {
                id: 7,
                severity: Severity::High
            })
        );
        assert_eq!(t.observe(M, Some(1.2)), Some(Action::Update { id: 7 }));
        // Clears after three calm samples in a row; a relapse resets the count.
        assert_eq!(t.observe(M, Some(0.5)), None);
        assert_eq!(t.observe(M, Some(0.5)), None);
        assert_eq!(t.observe(M, Some(0.95)), None);
        assert_eq!(t.observe(M, Some(0.5)), None);
        assert_eq!(t.observe(M, None), None);
        assert_eq!(t.observe(M, Some(0.1)), Some(Action::Resolve { id: 7 }));
        assert!(!t.is_tripped(M));
    }

    #[test]
    fn resolved_by_hand_stays_quiet_until_it_recovers() {
        let mut t = Tracker::default();
        assert!(matches!(
            t.observe(M, Some(4.0)),
            Some(Action::Raise { .. })
        ));
        t.raised(M, 1);
        t.resolved_by_hand(1);
        assert_eq!(t.observe(M, Some(4.0)), None);
        for _ in 0..CLEAR_SAMPLES {
            assert_eq!(t.observe(M, Some(0.1)), None);
        }
        assert!(matches!(
            t.observe(M, Some(1.2)),
            Some(Action::Raise { .. })
        ));
    }
}
