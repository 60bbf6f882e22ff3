//! Alert thresholds (seed field names), with development and production presets. Stored
//! as one JSON row, edited through `PUT /api/performance/thresholds` and the admin page.
//! The values themselves are wire data ([`Thresholds`] lives in `dto::perf`, which the
//! pages read); the presets and the rules for changing them are here.

use serde_json::{Map, Value};

pub use crate::dto::perf::Thresholds;

/// An update that cannot be applied: the field at fault and what it must be. Its own type
/// because the performance center sits below the HTTP layer; routes map it to a 422.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field} {message}")]
pub struct InvalidThreshold {
    pub field: String,
    pub message: String,
}

impl InvalidThreshold {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        InvalidThreshold {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl Thresholds {
    pub fn production() -> Self {
        Thresholds {
            preset: "production".into(),
            slow_request_threshold: 0.5,
            slow_query_threshold: 0.1,
            high_memory_threshold: 512.0,
            error_rate_threshold: 0.02,
            cache_hit_rate_threshold: 0.5,
            delivery_lag_threshold: 300.0,
        }
    }

    /// Looser: debug builds, a laptop, a cold cache.
    pub fn development() -> Self {
        Thresholds {
            preset: "development".into(),
            slow_request_threshold: 2.0,
            slow_query_threshold: 0.5,
            high_memory_threshold: 2048.0,
            error_rate_threshold: 0.1,
            cache_hit_rate_threshold: 0.2,
            delivery_lag_threshold: 900.0,
        }
    }

    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "production" => Some(Self::production()),
            "development" => Some(Self::development()),
            _ => None,
        }
    }

    fn same_values(&self, other: &Thresholds) -> bool {
        Thresholds {
            preset: String::new(),
            ..self.clone()
        } == Thresholds {
            preset: String::new(),
            ..other.clone()
        }
    }

    /// Names the preset these values equal, or `custom`.
    fn name_preset(mut self) -> Self {
        self.preset = ["production", "development"]
            .into_iter()
            .find(|p| Self::preset(p).is_some_and(|t| t.same_values(&self)))
            .unwrap_or("custom")
            .into();
        self
    }

    /// Applies a partial update: an optional `preset` first, then the fields given. Every
    /// problem names its field.
    pub fn apply(&self, body: &Value) -> Result<Thresholds, InvalidThreshold> {
        let Some(obj) = body.as_object() else {
            return Err(InvalidThreshold::new("body", "must be a JSON object"));
        };
        let mut next = match obj.get("preset") {
            None | Some(Value::Null) => self.clone(),
            Some(Value::String(p)) if p == "custom" => self.clone(),
            Some(Value::String(p)) => Self::preset(p).ok_or_else(|| {
                InvalidThreshold::new("preset", "must be production, development or custom")
            })?,
            Some(_) => {
                return Err(InvalidThreshold::new(
                    "preset",
                    "must be production, development or custom",
                ));
            }
        };
        for (key, value) in obj {
            let (slot, lo, hi, what): (&mut f64, f64, f64, &str) = match key.as_str() {
                "preset" => continue,
                "slow_request_threshold" => (
                    &mut next.slow_request_threshold,
                    0.001,
                    600.0,
                    "seconds, from 0.001 to 600",
                ),
                "slow_query_threshold" => (
                    &mut next.slow_query_threshold,
                    0.0001,
                    600.0,
                    "seconds, from 0.0001 to 600",
                ),
                "high_memory_threshold" => (
                    &mut next.high_memory_threshold,
                    1.0,
                    1_048_576.0,
                    "MB, from 1 to 1048576",
                ),
                "error_rate_threshold" => (
                    &mut next.error_rate_threshold,
                    0.0001,
                    1.0,
                    "a share from 0.0001 to 1",
                ),
                "cache_hit_rate_threshold" => (
                    &mut next.cache_hit_rate_threshold,
                    0.0,
                    1.0,
                    "a share from 0 to 1",
                ),
                "delivery_lag_threshold" => (
                    &mut next.delivery_lag_threshold,
                    10.0,
                    86_400.0,
                    "seconds, from 10 to 86400",
                ),
                other => {
                    return Err(InvalidThreshold::new(other, "is not a threshold"));
                }
            };
            match value.as_f64() {
                Some(v) if v.is_finite() && (lo..=hi).contains(&v) => *slot = v,
                _ => {
                    return Err(InvalidThreshold::new(
                        key.as_str(),
                        format!("must be {what}"),
                    ));
                }
            }
        }
        Ok(next.name_preset())
    }

    pub fn from_stored(body: &str) -> Option<Thresholds> {
        let v: Map<String, Value> = serde_json::from_str(body).ok()?;
        Thresholds::production().apply(&Value::Object(v)).ok()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn presets_and_partial_updates() {
        let p = Thresholds::production();
        let d = p.apply(&json!({"preset": "development"})).expect("preset");
        assert_eq!(d, Thresholds::development());
        let c = d
            .apply(&json!({"slow_request_threshold": 0.25}))
            .expect("field");
        assert_eq!(c.preset, "custom");
        assert_eq!(c.slow_request_threshold, 0.25);
        assert_eq!(c.slow_query_threshold, 0.5);
        let back = c
            .apply(&json!({"slow_request_threshold": 2.0}))
            .expect("field");
        assert_eq!(back.preset, "development");
    }

    #[test]
    fn bad_input_names_the_field() {
        let p = Thresholds::production();
        for (body, field) in [
            (json!({"error_rate_threshold": 2}), "error_rate_threshold"),
            (
                json!({"slow_query_threshold": "fast"}),
                "slow_query_threshold",
            ),
            (json!({"preset": "staging"}), "preset"),
            (json!({"bogus": 1}), "bogus"),
            (json!([1]), "body"),
        ] {
            match p.apply(&body) {
                Err(InvalidThreshold { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{body}: {other:?}"),
            }
        }
    }
}
