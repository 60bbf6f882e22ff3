//! Dates and times as people read them, in the signed-in user's timezone.

use jiff::{Timestamp, civil::Date, tz::TimeZone};
use leptos::prelude::*;

use crate::dto::SessionUser;

/// The signed-in user's timezone (server-side; UTC where it is not known).
fn user_timezone() -> TimeZone {
    use_context::<SessionUser>()
        .and_then(|u| TimeZone::get(&u.timezone).ok())
        .unwrap_or(TimeZone::UTC)
}

/// `2026-11-21T12:00:00Z` → `21 Nov 14:00` (in the user's timezone), or as given if it is
/// not an instant.
pub fn instant(rfc3339: &str) -> String {
    match rfc3339.parse::<Timestamp>() {
        Ok(t) => t
            .to_zoned(user_timezone())
            .strftime("%-d %b %H:%M")
            .to_string(),
        Err(_) => rfc3339.to_string(),
    }
}

/// Unix seconds → `21 Nov 14:00` in the user's timezone.
pub fn datetime(secs: i64) -> String {
    Timestamp::from_second(secs)
        .map(|t| {
            t.to_zoned(user_timezone())
                .strftime("%-d %b %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// `2026-11-21` → `Sat 21 Nov`.
pub fn day(iso: &str) -> String {
    match iso.parse::<Date>() {
        Ok(d) => d.strftime("%a %-d %b").to_string(),
        Err(_) => iso.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms() {
        assert_eq!(day("2026-11-21"), "Sat 21 Nov");
        assert_eq!(instant("2026-11-21T12:05:00Z"), "21 Nov 12:05");
        assert_eq!(instant("soon"), "soon");
    }
}
