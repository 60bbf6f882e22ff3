//! Turning amounts into short, honest text: `612.4 GB`, `8.2 kWh`, `over by 1.3 GB`.
//!
//! Data units scale (MB → GB → TB, binary steps of 1024 as ISPs' "1 TB = 1 048 576 MB"
//! plans do); every other unit is printed as it is, with sensible decimals.

/// How a number is shown: compact for a glance, or exact in the meter's own unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    #[default]
    Compact,
    Exact,
}

const DATA_STEPS: [&str; 5] = ["KB", "MB", "GB", "TB", "PB"];

fn decimals_for(v: f64) -> usize {
    let a = v.abs();
    if a >= 100.0 || a == 0.0 {
        0
    } else if a >= 10.0 {
        1
    } else {
        2
    }
}

/// Group thousands with a thin space so `1048576` reads `1 048 576`.
fn group_thousands(s: &str) -> String {
    let (sign, rest) = s.strip_prefix('-').map_or(("", s), |r| ("-", r));
    let (int, frac) = rest
        .split_once('.')
        .map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut out = String::with_capacity(s.len() + 4);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push('\u{202F}');
        }
        out.push(ch);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// Formats `value` (in `unit`) for display.
pub fn format_amount(value: f64, unit: &str, precision: Precision) -> String {
    if !value.is_finite() {
        return format!("— {unit}");
    }
    if precision == Precision::Exact {
        let text = format!("{:.*}", decimals_for(value).min(1), value);
        return format!("{} {unit}", group_thousands(&text));
    }
    if let Some(mut step) = DATA_STEPS.iter().position(|u| u.eq_ignore_ascii_case(unit)) {
        let mut v = value;
        while v.abs() >= 1024.0 && step + 1 < DATA_STEPS.len() {
            v /= 1024.0;
            step += 1;
        }
        return format!("{:.*} {}", decimals_for(v), v, DATA_STEPS[step]);
    }
    let text = format!("{:.*}", decimals_for(value), value);
    format!("{} {unit}", group_thousands(&text))
}

/// A percentage with no false precision: `61 %`, `0.4 %`.
pub fn format_percent(fraction: f64) -> String {
    if !fraction.is_finite() {
        return "—".to_string();
    }
    let p = fraction * 100.0;
    if p.abs() < 1.0 && p != 0.0 {
        format!("{p:.1}\u{202F}%")
    } else {
        format!("{p:.0}\u{202F}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(627_097.6, "MB", Precision::Compact, "612 GB")]
    #[case(1_048_576.0, "MB", Precision::Compact, "1.00 TB")]
    #[case(44_857.6, "MB", Precision::Compact, "43.8 GB")]
    #[case(512.0, "MB", Precision::Compact, "512 MB")]
    #[case(-1_331.2, "MB", Precision::Compact, "-1.30 GB")]
    #[case(1_048_576.0, "MB", Precision::Exact, "1\u{202F}048\u{202F}576 MB")]
    #[case(8.25, "kWh", Precision::Compact, "8.25 kWh")]
    #[case(21.46, "°C", Precision::Compact, "21.5 °C")]
    #[case(2500.0, "EUR", Precision::Compact, "2\u{202F}500 EUR")]
    fn amounts(
        #[case] v: f64,
        #[case] unit: &str,
        #[case] precision: Precision,
        #[case] expected: &str,
    ) {
        assert_eq!(format_amount(v, unit, precision), expected);
    }

    #[test]
    fn percents() {
        assert_eq!(format_percent(0.6123), "61\u{202F}%");
        assert_eq!(format_percent(0.004), "0.4\u{202F}%");
        assert_eq!(format_percent(f64::INFINITY), "—");
    }
}
