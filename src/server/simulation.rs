//! Simulated readings, shared by the demo's year of history (`demo.rs`) and the
//! `simulator` source the collector reads for demo meters (`jobs/collector.rs`): one
//! deterministic generator, so live demo readings continue the history's shapes.

use jiff::Timestamp;

use crate::{
    domain::{period::ResetRule, rollup::Reading},
    server::{service::outlook::timezone, storage::meters::MeterRow},
};

/// Demo meters are read every 10 minutes.
pub const STEP_SECS: i64 = 600;

/// SplitMix64: tiny, fast, and deterministic per seed; demo data needs nothing stronger.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
}

/// Mean of [`daily_curve`] over a day, so shapes can be scaled to a daily total.
pub const EVENING_MEAN: f64 = 0.3 + 1.7 * 0.25;
pub const DAYTIME_MEAN: f64 = 0.2 + 1.3 / std::f64::consts::PI;
/// Relative intensity of use at local hour `h` (0–24).
pub fn daily_curve(h: f64, evening_peak: bool) -> f64 {
    let wave = ((h - 6.0) / 24.0 * std::f64::consts::TAU).sin().max(0.0);
    if evening_peak {
        0.3 + 1.7 * wave * wave
    } else {
        0.2 + 1.3 * wave
    }
}

/// The next value of a simulated source, for demos: a quota counter that grows at the pace
/// its quota allows (with the day's rhythm and some noise, resetting with its period), or a
/// sensor that wanders around the middle of its normal range.
pub fn simulate_next(meter: &MeterRow, last: Option<Reading>, now: i64) -> f64 {
    let tz = timezone(&meter.timezone);
    let mut rng = Rng(meter.id as u64 ^ (now as u64).rotate_left(17));
    let local = Timestamp::from_second(now)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned(tz.clone());
    let hour = f64::from(local.hour()) + f64::from(local.minute()) / 60.0;
    let rule = meter
        .reset_rule
        .as_deref()
        .and_then(|r| r.parse::<ResetRule>().ok());
    match (meter.quota, rule) {
        (Some(quota), Some(rule)) => {
            let period = rule.period_containing(local.date());
            let start = period.start_instant(&tz).as_second();
            let base = last.filter(|r| r.ts >= start).map_or(0.0, |r| r.value);
            let since = last.map_or(STEP_SECS, |r| (now - r.ts.max(start)).clamp(0, 86_400));
            let per_sec = 0.95 * quota / (period.length_days().max(1) * 86_400) as f64;
            let rate = per_sec * daily_curve(hour, true) / EVENING_MEAN * rng.between(0.6, 1.4);
            ((base + rate * since as f64) * 100.0).round() / 100.0
        }
        _ => {
            let (lo, hi) = (
                meter.range_min.unwrap_or(0.0),
                meter.range_max.unwrap_or(100.0),
            );
            let mid = (lo + hi) / 2.0;
            let prev = last.map_or(mid, |r| r.value);
            ((prev + (mid - prev) * 0.1 + rng.between(-0.02, 0.02) * (hi - lo)) * 100.0).round()
                / 100.0
        }
    }
}
