//! The small path language a collector uses to pick numbers out of a JSON answer:
//! `data.usage.used_mb`, `plans[0].remaining` (a leading `$.` is allowed). Pure, so the
//! API can check a path when a source is saved and the collector can apply it.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Parses `a.b[2].c` (a leading `$.` is allowed) into steps.
fn parse_path(path: &str) -> Result<Vec<Step>, String> {
    let path = path.trim();
    let path = path.strip_prefix("$.").unwrap_or(path);
    if path.is_empty() {
        return Err("is empty".into());
    }
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = part.find('[').map_or((part, ""), |i| part.split_at(i));
        if key.is_empty() && rest.is_empty() {
            return Err(format!("has an empty part in {path:?}"));
        }
        if !key.is_empty() {
            steps.push(Step::Key(key.to_string()));
        }
        // `rest` is empty or a run of `[n]` indexes.
        while let Some(after_open) = rest.strip_prefix('[') {
            let (index, after) = after_open
                .split_once(']')
                .ok_or_else(|| format!("has an unclosed [ in {path:?}"))?;
            steps.push(Step::Index(
                index
                    .parse()
                    .map_err(|_| format!("has a non-numeric index [{index}]"))?,
            ));
            rest = after;
        }
        if !rest.is_empty() {
            return Err(format!("has text after ] in {path:?}"));
        }
    }
    Ok(steps)
}

/// Checks a path's syntax, for validating a source before it is saved.
pub fn check_path(path: &str) -> Result<(), String> {
    parse_path(path).map(|_| ())
}

/// Why a mapped field could not be read. Deliberately without detail: the attempts log
/// is shown to the source's owner, and text drawn from the answer would let them read
/// (or probe, one path at a time) whatever the address returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldError {
    /// The path's syntax is wrong (checked when saved, so only in rows saved before).
    BadPath,
    Missing,
    NotANumber,
}

/// The number at `path` in `json`; numeric strings count (some APIs quote numbers).
pub fn extract(json: &Value, path: &str) -> Result<f64, FieldError> {
    let mut at = json;
    for step in parse_path(path).map_err(|_| FieldError::BadPath)? {
        at = match (&step, at) {
            (Step::Key(k), Value::Object(o)) => o.get(k),
            (Step::Index(i), Value::Array(a)) => a.get(*i),
            _ => None,
        }
        .ok_or(FieldError::Missing)?;
    }
    match at {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|v: &f64| v.is_finite())
    .ok_or(FieldError::NotANumber)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_pick_numbers_out_of_answers() {
        let answer = json!({"data": {"usage": {"used_mb": 612345, "left": "1000.5"}}, "plans": [{"quota": 1e6}, {"quota": 2}]});
        assert_eq!(extract(&answer, "data.usage.used_mb"), Ok(612_345.0));
        assert_eq!(extract(&answer, "$.data.usage.left"), Ok(1000.5));
        assert_eq!(extract(&answer, "plans[1].quota"), Ok(2.0));
        assert_eq!(extract(&answer, "plans[5].quota"), Err(FieldError::Missing));
        assert_eq!(extract(&answer, "data.usage"), Err(FieldError::NotANumber));
        assert!(check_path("a.[x]").is_err());
        assert!(check_path("a[1").is_err());
        assert!(check_path("a[").is_err());
        assert!(check_path("a[1]x").is_err());
        assert!(check_path("").is_err());
        assert!(check_path("matrix[0][1].v").is_ok());
    }
}
