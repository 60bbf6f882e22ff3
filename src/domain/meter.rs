//! Validated meter settings: what a quota meter or a sensor is allowed to be.

use serde::{Deserialize, Serialize};

use super::DomainError;

/// What a meter measures: a budgeted counter that resets, or a free-running sensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeterKind {
    Quota,
    Sensor,
}

impl MeterKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MeterKind::Quota => "quota",
            MeterKind::Sensor => "sensor",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw {
            "quota" => Ok(MeterKind::Quota),
            "sensor" => Ok(MeterKind::Sensor),
            _ => Err(DomainError::new("kind", "must be \"quota\" or \"sensor\"")),
        }
    }
}

/// A quota amount in the meter's unit: finite and not negative. Zero is allowed (a plan with
/// nothing included) and the outlook treats every use of it as over quota.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
pub struct Quota(f64);

impl Quota {
    pub fn parse(raw: f64) -> Result<Self, DomainError> {
        if raw.is_finite() && raw >= 0.0 {
            Ok(Quota(raw))
        } else {
            Err(DomainError::new("quota", "must be a number ≥ 0"))
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

/// A unit label such as `MB`, `kWh`, `°C` or `EUR`: short, printable, not empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit(String);

impl Unit {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let trimmed = raw.trim();
        if trimmed.is_empty()
            || trimmed.chars().count() > 16
            || trimmed.chars().any(char::is_control)
        {
            return Err(DomainError::new(
                "unit",
                "must be 1–16 printable characters",
            ));
        }
        Ok(Unit(trimmed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A meter's display name: 1–80 printable characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterName(String);

impl MeterName {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let trimmed = raw.trim();
        if trimmed.is_empty()
            || trimmed.chars().count() > 80
            || trimmed.chars().any(char::is_control)
        {
            return Err(DomainError::new(
                "name",
                "must be 1–80 printable characters",
            ));
        }
        Ok(MeterName(trimmed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A sensor's normal range; readings outside it are flagged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NormalRange {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl NormalRange {
    pub fn parse(min: Option<f64>, max: Option<f64>) -> Result<Self, DomainError> {
        for (field, v) in [("range_min", min), ("range_max", max)] {
            if v.is_some_and(|v| !v.is_finite()) {
                return Err(DomainError::new(field, "must be a finite number"));
            }
        }
        if let (Some(lo), Some(hi)) = (min, max)
            && lo > hi
        {
            return Err(DomainError::new("range_max", "must not be below range_min"));
        }
        Ok(NormalRange { min, max })
    }

    pub fn contains(&self, value: f64) -> bool {
        self.min.is_none_or(|lo| value >= lo) && self.max.is_none_or(|hi| value <= hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_refuses_negative_and_nan() {
        assert!(Quota::parse(0.0).is_ok());
        assert_eq!(Quota::parse(-1.0).expect_err("negative").field, "quota");
        assert!(Quota::parse(f64::NAN).is_err());
        assert!(Quota::parse(f64::INFINITY).is_err());
    }

    #[test]
    fn units_and_names_are_trimmed_and_bounded() {
        assert_eq!(Unit::parse(" kWh ").expect("ok").as_str(), "kWh");
        assert!(Unit::parse("").is_err());
        assert!(Unit::parse("a-very-long-unit-name").is_err());
        assert!(MeterName::parse("Home fibre").is_ok());
        assert_eq!(MeterName::parse("  ").expect_err("blank").field, "name");
    }

    #[test]
    fn range_checks_order_and_membership() {
        let r = NormalRange::parse(Some(18.0), Some(24.0)).expect("ok");
        assert!(r.contains(18.0) && r.contains(24.0) && !r.contains(24.1));
        assert_eq!(
            NormalRange::parse(Some(5.0), Some(1.0))
                .expect_err("inverted")
                .field,
            "range_max"
        );
        assert!(NormalRange::parse(None, None).expect("open").contains(-1e9));
    }
}
