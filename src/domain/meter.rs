//! Validated meter settings: what a quota meter or a sensor is allowed to be.

use serde::{Deserialize, Serialize};

use super::{DomainError, period::ResetRule};

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

/// A meter as a user or client describes it, before validation. Every field is optional
/// so a form or a partial update can be checked field by field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MeterDraft {
    pub kind: Option<String>,
    pub name: Option<String>,
    pub unit: Option<String>,
    pub timezone: Option<String>,
    pub quota: Option<f64>,
    pub reset_rule: Option<String>,
    pub range_min: Option<f64>,
    pub range_max: Option<f64>,
}

/// A valid meter: what the store may keep.
#[derive(Debug, Clone, PartialEq)]
pub struct MeterSpec {
    pub kind: MeterKind,
    pub name: MeterName,
    pub unit: Unit,
    pub timezone: String,
    /// Quota meters only.
    pub quota: Option<(Quota, ResetRule)>,
    /// Sensors only.
    pub range: NormalRange,
}

impl MeterSpec {
    /// Checks every field and reports every problem, not just the first. `timezone_exists`
    /// says whether an IANA name is known (the server's timezone database decides).
    pub fn parse(
        draft: &MeterDraft,
        timezone_exists: impl Fn(&str) -> bool,
    ) -> Result<Self, Vec<DomainError>> {
        let mut errors = Vec::new();
        let kind = keep(
            &mut errors,
            draft
                .kind
                .as_deref()
                .ok_or_else(|| DomainError::new("kind", "is required: \"quota\" or \"sensor\""))
                .and_then(MeterKind::parse),
        );
        let name = keep(
            &mut errors,
            MeterName::parse(draft.name.as_deref().unwrap_or_default()),
        );
        let unit = keep(
            &mut errors,
            Unit::parse(draft.unit.as_deref().unwrap_or_default()),
        );
        let timezone = keep(
            &mut errors,
            match draft.timezone.as_deref().map(str::trim) {
                Some(tz) if timezone_exists(tz) => Ok(tz.to_string()),
                Some(_) => Err(DomainError::new(
                    "timezone",
                    "must be an IANA timezone name such as Europe/Berlin or UTC",
                )),
                None => Err(DomainError::new("timezone", "is required")),
            },
        );
        let quota = match kind {
            Some(MeterKind::Quota) => {
                let amount = keep(
                    &mut errors,
                    draft
                        .quota
                        .ok_or_else(|| DomainError::new("quota", "is required for a quota meter"))
                        .and_then(Quota::parse),
                );
                let rule = keep(
                    &mut errors,
                    draft
                        .reset_rule
                        .as_deref()
                        .ok_or_else(|| {
                            DomainError::new("reset_rule", "is required for a quota meter")
                        })
                        .and_then(str::parse),
                );
                amount.zip(rule)
            }
            _ => None,
        };
        let range = match kind {
            Some(MeterKind::Sensor) => keep(
                &mut errors,
                NormalRange::parse(draft.range_min, draft.range_max),
            ),
            _ => Some(NormalRange {
                min: None,
                max: None,
            }),
        };
        match (kind, name, unit, timezone, range) {
            (Some(kind), Some(name), Some(unit), Some(timezone), Some(range))
                if errors.is_empty() =>
            {
                Ok(MeterSpec {
                    kind,
                    name,
                    unit,
                    timezone,
                    quota,
                    range,
                })
            }
            _ => Err(errors),
        }
    }
}

/// Keeps an `Ok` value, or records the error and yields `None`.
fn keep<T>(errors: &mut Vec<DomainError>, r: Result<T, DomainError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> MeterDraft {
        MeterDraft {
            kind: Some("quota".into()),
            name: Some("Home fibre".into()),
            unit: Some("MB".into()),
            timezone: Some("Europe/Tallinn".into()),
            quota: Some(1_048_576.0),
            reset_rule: Some("monthly:1".into()),
            ..MeterDraft::default()
        }
    }

    #[test]
    fn a_complete_quota_meter_is_valid() {
        let spec = MeterSpec::parse(&draft(), |_| true).expect("valid");
        assert_eq!(spec.kind, MeterKind::Quota);
        assert_eq!(spec.quota.map(|(q, _)| q.get()), Some(1_048_576.0));
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = MeterDraft {
            name: Some(" ".into()),
            quota: Some(-5.0),
            reset_rule: Some("monthly:31".into()),
            timezone: Some("Mars/Olympus".into()),
            ..draft()
        };
        let errors = MeterSpec::parse(&bad, |tz| tz != "Mars/Olympus").expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["name", "timezone", "quota", "reset_rule"]);
    }

    #[test]
    fn sensors_need_no_quota_but_a_sane_range() {
        let sensor = MeterDraft {
            kind: Some("sensor".into()),
            quota: None,
            reset_rule: None,
            range_min: Some(30.0),
            range_max: Some(10.0),
            ..draft()
        };
        let errors = MeterSpec::parse(&sensor, |_| true).expect_err("inverted range");
        assert_eq!(errors[0].field, "range_max");
    }

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
