//! Tips of the day: short texts that admins write, with placeholders the outlook fills in
//! from its own figures (so a tip can mention today's budget, but only the real one).

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::domain::{DomainError, period::day_number};

/// The placeholders a tip may use, filled from the primary meter's outlook.
pub const PLACEHOLDERS: [&str; 6] = [
    "meter",
    "daily_budget",
    "left_today",
    "used_today",
    "safe_days",
    "streak",
];

/// An admin-written tip before its placeholders are filled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TipTemplate {
    pub title: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tip {
    pub title: String,
    pub text: String,
}

/// Checks a template's text: at most 500 characters, balanced braces, known placeholders.
pub fn check_template(title: &str, body: &str) -> Result<(), Vec<DomainError>> {
    let mut errors = Vec::new();
    if title.trim().is_empty() || title.chars().count() > 80 {
        errors.push(DomainError::new("title", "must be 1–80 characters"));
    }
    if body.trim().is_empty() || body.chars().count() > 500 {
        errors.push(DomainError::new("body", "must be 1–500 characters"));
    }
    let mut rest = body;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            errors.push(DomainError::new("body", "has a { without its }"));
            break;
        };
        let name = &rest[open + 1..open + close];
        if !PLACEHOLDERS.contains(&name) {
            errors.push(DomainError::new(
                "body",
                format!(
                    "{{{name}}} is not a placeholder; use one of {}",
                    PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
                ),
            ));
        }
        rest = &rest[open + close + 1..];
    }
    if rest.contains('}') && !errors.iter().any(|e| e.field == "body") {
        errors.push(DomainError::new("body", "has a } without its {"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Fills `{name}` placeholders; a placeholder without a value becomes "—".
pub fn render(body: &str, values: &BTreeMap<&str, String>) -> String {
    let mut out = String::with_capacity(body.len() + 16);
    let mut rest = body;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        match rest[open..].find('}') {
            Some(close) => {
                let name = &rest[open + 1..open + close];
                out.push_str(values.get(name).map_or("—", String::as_str));
                rest = &rest[open + close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Which of `count` tips is today's: a new one each day, the same all day.
pub fn pick(count: usize, today: Date) -> Option<usize> {
    (count > 0).then(|| day_number(today).rem_euclid(count as i64) as usize)
}

/// Today's tip: the one [`pick`] names, or the next after it whose every placeholder has
/// a value today (`values` leaves out those whose sentence would be false).
pub fn choose<'a>(
    templates: &'a [TipTemplate],
    today: Date,
    values: &BTreeMap<&str, String>,
) -> Option<&'a TipTemplate> {
    let start = pick(templates.len(), today)?;
    (0..templates.len())
        .map(|k| &templates[(start + k) % templates.len()])
        .find(|t| placeholders(&t.body).all(|name| values.contains_key(name)))
}

/// The `{name}`s of a template's text.
fn placeholders(body: &str) -> impl Iterator<Item = &str> {
    body.split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}').map(|(name, _)| name))
}
