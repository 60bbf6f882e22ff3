//! The health score, 0–100, from five components weighted as SPEC S8 says: response
//! time 30, error rate 25, memory 20, database 15, cache 10.
//!
//! Each component compares a figure with its threshold as a ratio r (figure ÷ threshold;
//! for the cache, whose threshold is a minimum, threshold ÷ hit rate). A component scores
//! 100 up to half its threshold, then loses 40 points per threshold: 80 at the threshold,
//! 40 at twice it, 0 from three times it. A figure with nothing measured scores 100.

use serde::Serialize;

use super::thresholds::Thresholds;

/// The figures the score and the alerts look at, over the evaluation window.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Figures {
    /// p95 response time, seconds.
    pub response_time: Option<f64>,
    pub error_rate: Option<f64>,
    pub memory_mb: Option<f64>,
    /// p95 statement time, seconds.
    pub query_time: Option<f64>,
    pub cache_hit_rate: Option<f64>,
    /// How long the oldest due notification delivery has waited, seconds; `None` when
    /// none is waiting.
    pub delivery_lag: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    ResponseTime,
    ErrorRate,
    Memory,
    QueryTime,
    CacheHitRate,
    DeliveryLag,
}

impl Metric {
    pub const ALL: [Metric; 6] = [
        Metric::ResponseTime,
        Metric::ErrorRate,
        Metric::Memory,
        Metric::QueryTime,
        Metric::CacheHitRate,
        Metric::DeliveryLag,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::ResponseTime => "response_time",
            Metric::ErrorRate => "error_rate",
            Metric::Memory => "memory",
            Metric::QueryTime => "query_time",
            Metric::CacheHitRate => "cache_hit_rate",
            Metric::DeliveryLag => "delivery_lag",
        }
    }

    pub fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == s)
    }

    /// The score component this metric feeds, and its weight.
    pub fn component(self) -> (&'static str, u32) {
        match self {
            Metric::ResponseTime => ("response_time", 30),
            Metric::ErrorRate => ("error_rate", 25),
            Metric::Memory => ("memory", 20),
            Metric::QueryTime => ("database", 15),
            Metric::CacheHitRate => ("cache", 10),
            // Alerts only: the score is SPEC's five components.
            Metric::DeliveryLag => ("notifications", 0),
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Metric::ResponseTime | Metric::QueryTime | Metric::DeliveryLag => "s",
            Metric::Memory => "MB",
            Metric::ErrorRate | Metric::CacheHitRate => "ratio",
        }
    }

    pub fn value(self, f: &Figures) -> Option<f64> {
        match self {
            Metric::ResponseTime => f.response_time,
            Metric::ErrorRate => f.error_rate,
            Metric::Memory => f.memory_mb,
            Metric::QueryTime => f.query_time,
            Metric::CacheHitRate => f.cache_hit_rate,
            Metric::DeliveryLag => f.delivery_lag,
        }
    }

    pub fn threshold(self, t: &Thresholds) -> f64 {
        match self {
            Metric::ResponseTime => t.slow_request_threshold,
            Metric::ErrorRate => t.error_rate_threshold,
            Metric::Memory => t.high_memory_threshold,
            Metric::QueryTime => t.slow_query_threshold,
            Metric::CacheHitRate => t.cache_hit_rate_threshold,
            Metric::DeliveryLag => t.delivery_lag_threshold,
        }
    }

    /// How far past its threshold the figure is: above 1 means exceeded.
    pub fn ratio(self, value: Option<f64>, threshold: f64) -> Option<f64> {
        let v = value?;
        match self {
            // A minimum: the lower the rate, the worse. A zero threshold never trips.
            Metric::CacheHitRate => (threshold > 0.0).then(|| threshold / v.max(0.001)),
            _ => (threshold > 0.0).then(|| v / threshold),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Component {
    pub name: &'static str,
    pub metric: &'static str,
    pub weight: u32,
    pub value: Option<f64>,
    pub unit: &'static str,
    pub threshold: f64,
    pub ratio: Option<f64>,
    /// 0–100.
    pub score: f64,
    /// This component's share of the total: weight × score ÷ 100.
    pub points: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Health {
    pub score: u32,
    pub status: &'static str,
    pub components: Vec<Component>,
}

pub fn component_score(ratio: Option<f64>) -> f64 {
    match ratio {
        None => 100.0,
        Some(r) if r <= 0.5 => 100.0,
        Some(r) => (100.0 - (r - 0.5) * 40.0).clamp(0.0, 100.0),
    }
}

pub fn status_of(score: u32) -> &'static str {
    match score {
        80.. => "healthy",
        50.. => "degraded",
        _ => "unhealthy",
    }
}

pub fn health(f: &Figures, t: &Thresholds) -> Health {
    let components: Vec<Component> = Metric::ALL
        .into_iter()
        // A metric of weight 0 raises alerts but is no part of the score.
        .filter(|m| m.component().1 > 0)
        .map(|m| {
            let (name, weight) = m.component();
            let value = m.value(f);
            let threshold = m.threshold(t);
            let ratio = m.ratio(value, threshold);
            let score = component_score(ratio);
            Component {
                name,
                metric: m.name(),
                weight,
                value,
                unit: m.unit(),
                threshold,
                ratio,
                score: (score * 10.0).round() / 10.0,
                points: (weight as f64 * score / 100.0 * 10.0).round() / 10.0,
            }
        })
        .collect();
    let total: f64 = components
        .iter()
        .map(|c| c.weight as f64 * component_score(c.ratio) / 100.0)
        .sum();
    let score = total.round().clamp(0.0, 100.0) as u32;
    Health {
        score,
        status: status_of(score),
        components,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_100_and_a_quiet_app_scores_100() {
        let sum: u32 = Metric::ALL.iter().map(|m| m.component().1).sum();
        assert_eq!(sum, 100);
        let h = health(&Figures::default(), &Thresholds::production());
        assert_eq!((h.score, h.status), (100, "healthy"));
    }

    #[test]
    fn each_component_loses_its_weight() {
        let t = Thresholds::production();
        // Response time three times its threshold: all 30 points gone.
        let f = Figures {
            response_time: Some(1.5),
            ..Figures::default()
        };
        assert_eq!(health(&f, &t).score, 70);
        // Cache hit rate at its threshold: 80 % of 10 points.
        let f = Figures {
            cache_hit_rate: Some(0.5),
            ..Figures::default()
        };
        assert_eq!(health(&f, &t).score, 98);
        // Error rate at twice its threshold: 40 % of 25.
        let f = Figures {
            error_rate: Some(0.04),
            ..Figures::default()
        };
        let h = health(&f, &t);
        assert_eq!(h.score, 85);
        let c = h
            .components
            .iter()
            .find(|c| c.name == "error_rate")
            .expect("component");
        assert_eq!((c.weight, c.score, c.points), (25, 40.0, 10.0));
    }
}
