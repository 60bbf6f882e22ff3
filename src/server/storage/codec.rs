//! The compact byte format of reading blocks and rollup blocks.
//!
//! A block holds one meter's readings (or rollup buckets) for one UTC day. Storing a day
//! per row instead of a reading per row is what keeps the all-in cost per reading within
//! SPEC's budgets (≤ 40 B in SQLite, ≤ 80 B in PostgreSQL, rollups included): a row costs
//! 20–30 B of headers and index before its first byte of data, and a day of 10-minute
//! readings shares one such row.
//!
//! Inside a block everything is a LEB128 varint:
//! - times as the first instant, then the first step, then each step's change from the
//!   previous step ("delta of delta": a steady 10-minute cadence costs one byte each);
//! - values as decimal integers at a block-wide scale (`21.37` at 2 decimals is `2137`),
//!   delta-encoded and zig-zagged; a value that is not exactly such a decimal is tagged and
//!   stored as its 8 raw bytes, so decoding is always bit-exact.
//!
//! Format changes bump the leading version byte; decoders reject versions they do not know.

use crate::domain::rollup::{Reading, Stats};

const VERSION: u8 = 1;
/// The most decimal places a value may have and still be stored as an integer.
const MAX_SCALE: u32 = 6;
/// Integers beyond this lose precision as f64; such values are stored raw.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CodecError {
    #[error("block ends early")]
    Truncated,
    #[error("unknown block format version {0}")]
    Version(u8),
    #[error("block is malformed: {0}")]
    Malformed(&'static str),
}

// ---------------------------------------------------------------------------------------
// Primitives

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    fn byte(&mut self) -> Result<u8, CodecError> {
        let b = *self.bytes.get(self.pos).ok_or(CodecError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, CodecError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(CodecError::Malformed("varint too long"))
    }

    fn signed(&mut self) -> Result<i64, CodecError> {
        self.varint().map(unzigzag)
    }

    fn f64_raw(&mut self) -> Result<f64, CodecError> {
        let end = self.pos + 8;
        let raw = self.bytes.get(self.pos..end).ok_or(CodecError::Truncated)?;
        self.pos = end;
        let mut b = [0u8; 8];
        b.copy_from_slice(raw);
        Ok(f64::from_le_bytes(b))
    }

    fn count(&mut self, limit: usize) -> Result<usize, CodecError> {
        usize::try_from(self.varint()?)
            .ok()
            .filter(|n| *n <= limit)
            .ok_or(CodecError::Malformed("count out of range"))
    }
}

// ---------------------------------------------------------------------------------------
// Value series: decimal integers at one scale, delta-encoded, with a raw escape.

fn pow10(k: u32) -> f64 {
    10f64.powi(k as i32)
}

/// `v` as an integer at `scale` decimals, if that is exact: checked by decoding it the way
/// the decoder will, bit for bit (so `-0.0`, which decodes as `0.0`, is stored raw).
fn as_scaled(v: f64, scale: u32) -> Option<i64> {
    let p = pow10(scale);
    let n = (v * p).round();
    if n.abs() >= MAX_EXACT {
        return None;
    }
    let n = n as i64;
    ((n as f64 / p).to_bits() == v.to_bits()).then_some(n)
}

/// The fewest decimals that represent `v` exactly, if any up to [`MAX_SCALE`] do.
fn min_scale(v: f64) -> Option<u32> {
    (0..=MAX_SCALE).find(|&k| as_scaled(v, k).is_some())
}

struct ValueWriter {
    scale: u32,
    prev: i64,
}

impl ValueWriter {
    /// Chooses one scale for all of `values`: the largest any of them needs.
    fn for_values(out: &mut Vec<u8>, values: impl Iterator<Item = f64>) -> Self {
        let scale = values.filter_map(min_scale).max().unwrap_or(0);
        out.push(scale as u8);
        ValueWriter { scale, prev: 0 }
    }

    fn put(&mut self, out: &mut Vec<u8>, v: f64) {
        match as_scaled(v, self.scale) {
            Some(n) => {
                // Tag bit 0: a delta follows in the same varint.
                put_varint(out, zigzag(n.wrapping_sub(self.prev)) << 1);
                self.prev = n;
            }
            None => {
                put_varint(out, 1);
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
}

struct ValueReader {
    scale: f64,
    prev: i64,
}

impl ValueReader {
    fn new(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let scale = u32::from(r.byte()?);
        if scale > MAX_SCALE {
            return Err(CodecError::Malformed("scale"));
        }
        Ok(ValueReader {
            scale: pow10(scale),
            prev: 0,
        })
    }

    fn get(&mut self, r: &mut Reader<'_>) -> Result<f64, CodecError> {
        let tagged = r.varint()?;
        if tagged & 1 == 1 {
            if tagged != 1 {
                return Err(CodecError::Malformed("raw value tag"));
            }
            return r.f64_raw();
        }
        self.prev = self.prev.wrapping_add(unzigzag(tagged >> 1));
        Ok(self.prev as f64 / self.scale)
    }
}

// ---------------------------------------------------------------------------------------
// Reading blocks

/// Encodes readings sorted by time with distinct instants (as blocks keep them).
pub fn encode_readings(readings: &[Reading]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + readings.len() * 4);
    out.push(VERSION);
    put_varint(&mut out, readings.len() as u64);
    let mut prev_ts = 0i64;
    let mut prev_step = 0i64;
    for (i, r) in readings.iter().enumerate() {
        match i {
            0 => put_varint(&mut out, zigzag(r.ts)),
            _ => {
                let step = r.ts - prev_ts;
                put_varint(&mut out, zigzag(step - prev_step));
                prev_step = step;
            }
        }
        prev_ts = r.ts;
    }
    let mut values = ValueWriter::for_values(&mut out, readings.iter().map(|r| r.value));
    for r in readings {
        values.put(&mut out, r.value);
    }
    // Remaining amounts are rare (only some quota sources report them): a flag byte, and
    // when set a presence bit per reading and the values that are present.
    if readings.iter().any(|r| r.remaining.is_some()) {
        out.push(1);
        let mut bits = vec![0u8; readings.len().div_ceil(8)];
        for (i, r) in readings.iter().enumerate() {
            if r.remaining.is_some() {
                bits[i / 8] |= 1 << (i % 8);
            }
        }
        out.extend_from_slice(&bits);
        let present = || readings.iter().filter_map(|r| r.remaining);
        let mut rem = ValueWriter::for_values(&mut out, present());
        for v in present() {
            rem.put(&mut out, v);
        }
    } else {
        out.push(0);
    }
    out
}

/// Most readings a block may hold: a reading a second for a whole day, and then some.
const MAX_READINGS: usize = 200_000;

pub fn decode_readings(bytes: &[u8]) -> Result<Vec<Reading>, CodecError> {
    let mut r = Reader::new(bytes);
    let version = r.byte()?;
    if version != VERSION {
        return Err(CodecError::Version(version));
    }
    let n = r.count(MAX_READINGS)?;
    let mut out = Vec::with_capacity(n);
    let mut ts = 0i64;
    let mut step = 0i64;
    for i in 0..n {
        if i == 0 {
            ts = r.signed()?;
        } else {
            step += r.signed()?;
            ts += step;
        }
        out.push(Reading {
            ts,
            value: 0.0,
            remaining: None,
        });
    }
    let mut values = ValueReader::new(&mut r)?;
    for reading in &mut out {
        reading.value = values.get(&mut r)?;
    }
    if r.byte()? == 1 {
        let bits_len = n.div_ceil(8);
        let bits = r
            .bytes
            .get(r.pos..r.pos + bits_len)
            .ok_or(CodecError::Truncated)?
            .to_vec();
        r.pos += bits_len;
        let mut rem = ValueReader::new(&mut r)?;
        for (i, reading) in out.iter_mut().enumerate() {
            if bits[i / 8] & (1 << (i % 8)) != 0 {
                reading.remaining = Some(rem.get(&mut r)?);
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Rollup blocks: the quarter-hour and hourly buckets of one UTC day.

pub const QUARTERS_PER_DAY: usize = 96;
pub const HOURS_PER_DAY: usize = 24;

/// The 15-minute and hourly statistics of one meter's UTC day; `None` = no readings.
#[derive(Debug, Clone, PartialEq)]
pub struct DayRollups {
    pub quarter: Vec<Option<Stats>>,
    pub hour: Vec<Option<Stats>>,
}

impl DayRollups {
    /// Buckets the readings of one UTC day (`day_start` = its first second).
    pub fn compute(day_start: i64, readings: &[Reading]) -> DayRollups {
        DayRollups {
            quarter: bucket(day_start, 900, QUARTERS_PER_DAY, readings),
            hour: bucket(day_start, 3600, HOURS_PER_DAY, readings),
        }
    }
}

fn bucket(start: i64, width: i64, slots: usize, readings: &[Reading]) -> Vec<Option<Stats>> {
    let mut out = vec![None; slots];
    let mut i = 0;
    while i < readings.len() {
        let slot = (readings[i].ts - start).div_euclid(width);
        let mut j = i + 1;
        while j < readings.len() && (readings[j].ts - start).div_euclid(width) == slot {
            j += 1;
        }
        if let Some(cell) = usize::try_from(slot).ok().and_then(|s| out.get_mut(s)) {
            *cell = Stats::of_sorted(&readings[i..j]);
        }
        i = j;
    }
    out
}

fn encode_tier(out: &mut Vec<u8>, start: i64, width: i64, slots: &[Option<Stats>]) {
    let mut bits = vec![0u8; slots.len().div_ceil(8)];
    for (i, s) in slots.iter().enumerate() {
        if s.is_some() {
            bits[i / 8] |= 1 << (i % 8);
        }
    }
    out.extend_from_slice(&bits);
    let present: Vec<(usize, Stats)> = slots
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.map(|s| (i, s)))
        .collect();
    // For one or two readings sum, min and max follow from first and last; only busier
    // buckets store them.
    let all_values = present.iter().flat_map(|(_, s)| {
        let extra = s.count > 2;
        [
            Some(s.first),
            Some(s.last),
            extra.then_some(s.min),
            extra.then_some(s.max),
            extra.then_some(s.sum),
        ]
        .into_iter()
        .flatten()
    });
    let mut values = ValueWriter::for_values(out, all_values);
    for (i, s) in &present {
        let slot_start = start + *i as i64 * width;
        put_varint(out, u64::from(s.count));
        put_varint(out, (s.first_ts - slot_start) as u64);
        put_varint(out, (s.last_ts - s.first_ts) as u64);
        values.put(out, s.first);
        values.put(out, s.last);
        if s.count > 2 {
            values.put(out, s.min);
            values.put(out, s.max);
            values.put(out, s.sum);
        }
    }
}

fn decode_tier(
    r: &mut Reader<'_>,
    start: i64,
    width: i64,
    slots: usize,
) -> Result<Vec<Option<Stats>>, CodecError> {
    let bits_len = slots.div_ceil(8);
    let bits = r
        .bytes
        .get(r.pos..r.pos + bits_len)
        .ok_or(CodecError::Truncated)?
        .to_vec();
    r.pos += bits_len;
    let mut values = ValueReader::new(r)?;
    let mut out = vec![None; slots];
    for (i, cell) in out.iter_mut().enumerate() {
        if bits[i / 8] & (1 << (i % 8)) == 0 {
            continue;
        }
        let slot_start = start + i as i64 * width;
        let count = u32::try_from(r.varint()?).map_err(|_| CodecError::Malformed("count"))?;
        let first_ts = slot_start + r.varint()? as i64;
        let last_ts = first_ts + r.varint()? as i64;
        let first = values.get(r)?;
        let last = values.get(r)?;
        let (min, max, sum) = match count {
            0 => return Err(CodecError::Malformed("empty bucket")),
            1 => (first, first, first),
            2 => (first.min(last), first.max(last), first + last),
            _ => (values.get(r)?, values.get(r)?, values.get(r)?),
        };
        *cell = Some(Stats {
            count,
            sum,
            min,
            max,
            first,
            last,
            first_ts,
            last_ts,
        });
    }
    Ok(out)
}

pub fn encode_rollups(day_start: i64, day: &DayRollups) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.push(VERSION);
    encode_tier(&mut out, day_start, 900, &day.quarter);
    encode_tier(&mut out, day_start, 3600, &day.hour);
    out
}

pub fn decode_rollups(day_start: i64, bytes: &[u8]) -> Result<DayRollups, CodecError> {
    let mut r = Reader::new(bytes);
    let version = r.byte()?;
    if version != VERSION {
        return Err(CodecError::Version(version));
    }
    Ok(DayRollups {
        quarter: decode_tier(&mut r, day_start, 900, QUARTERS_PER_DAY)?,
        hour: decode_tier(&mut r, day_start, 3600, HOURS_PER_DAY)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reading(ts: i64, value: f64) -> Reading {
        Reading {
            ts,
            value,
            remaining: None,
        }
    }

    #[test]
    fn a_day_of_ten_minute_counter_readings_is_small() {
        let readings: Vec<Reading> = (0..144)
            .map(|i| {
                reading(
                    1_763_596_800 + i * 600,
                    600_000.0 + (i * i * 37 % 5000) as f64,
                )
            })
            .collect();
        let bytes = encode_readings(&readings);
        assert_eq!(decode_readings(&bytes).expect("decodes"), readings);
        // One byte of time and about three of value per reading.
        assert!(bytes.len() < 144 * 5, "{} bytes", bytes.len());
    }

    #[test]
    fn awkward_values_survive_bit_for_bit() {
        let readings = vec![
            Reading {
                ts: -5,
                value: 0.1 + 0.2,
                remaining: Some(1e300),
            },
            reading(0, -21.375),
            reading(7, f64::MIN_POSITIVE),
            Reading {
                ts: 1_000_000,
                value: 9.007_199_254_740_993e15,
                remaining: Some(-0.5),
            },
            reading(1_000_001, 123_456.789_012),
        ];
        let back = decode_readings(&encode_readings(&readings)).expect("decodes");
        for (a, b) in back.iter().zip(&readings) {
            assert_eq!(a.value.to_bits(), b.value.to_bits());
            assert_eq!(a.remaining.map(f64::to_bits), b.remaining.map(f64::to_bits));
            assert_eq!(a.ts, b.ts);
        }
    }

    #[test]
    fn corrupt_blocks_are_errors_not_panics() {
        assert_eq!(decode_readings(&[]), Err(CodecError::Truncated));
        assert_eq!(decode_readings(&[9, 0]), Err(CodecError::Version(9)));
        let mut bytes = encode_readings(&[reading(1, 1.0), reading(2, 2.0)]);
        bytes.truncate(bytes.len() - 2);
        assert!(decode_readings(&bytes).is_err());
        assert!(decode_rollups(0, &[1, 0xff]).is_err());
    }

    fn arb_readings() -> impl Strategy<Value = Vec<Reading>> {
        let value = prop_oneof![
            (0i64..10_000_000).prop_map(|n| n as f64),
            (-50_000i64..50_000).prop_map(|n| n as f64 / 100.0),
            any::<f64>().prop_filter("finite", |v| v.is_finite()),
        ];
        prop::collection::btree_map(0i64..86_400, (value, prop::option::of(0f64..1e7)), 0..300)
            .prop_map(|m| {
                m.into_iter()
                    .map(|(ts, (value, remaining))| Reading {
                        ts: 1_700_000_000 + ts,
                        value,
                        remaining,
                    })
                    .collect()
            })
    }

    proptest! {
        #[test]
        fn readings_round_trip(readings in arb_readings()) {
            let back = decode_readings(&encode_readings(&readings)).expect("decodes");
            prop_assert_eq!(back.len(), readings.len());
            for (a, b) in back.iter().zip(&readings) {
                prop_assert_eq!(a.ts, b.ts);
                prop_assert_eq!(a.value.to_bits(), b.value.to_bits());
                prop_assert_eq!(a.remaining.map(f64::to_bits), b.remaining.map(f64::to_bits));
            }
        }

        #[test]
        fn rollups_round_trip_and_match_their_readings(readings in arb_readings()) {
            let day_start = 1_700_000_000 - 1_700_000_000 % 86_400;
            let readings: Vec<Reading> = readings.into_iter().filter(|r| r.ts < day_start + 86_400 && r.ts >= day_start).collect();
            let day = DayRollups::compute(day_start, &readings);
            let back = decode_rollups(day_start, &encode_rollups(day_start, &day)).expect("decodes");
            for (tier, width) in [(&back.quarter, 900), (&back.hour, 3600)] {
                for (i, cell) in tier.iter().enumerate() {
                    let lo = day_start + i as i64 * width;
                    let inside: Vec<Reading> = readings.iter().copied().filter(|r| r.ts >= lo && r.ts < lo + width).collect();
                    let expected = Stats::of_sorted(&inside);
                    match (cell, expected) {
                        (None, None) => {}
                        (Some(got), Some(want)) => {
                            prop_assert_eq!(got.count, want.count);
                            prop_assert_eq!((got.first_ts, got.last_ts), (want.first_ts, want.last_ts));
                            prop_assert_eq!(got.first.to_bits(), want.first.to_bits());
                            prop_assert_eq!(got.last.to_bits(), want.last.to_bits());
                            prop_assert_eq!(got.min.to_bits(), want.min.to_bits());
                            prop_assert_eq!(got.max.to_bits(), want.max.to_bits());
                            // Sums of one or two readings are recomputed on decode; the
                            // addition order is the same, so they match exactly too.
                            prop_assert_eq!(got.sum.to_bits(), want.sum.to_bits());
                        }
                        (got, want) => prop_assert!(false, "bucket {} differs: {:?} vs {:?}", i, got, want),
                    }
                }
            }
        }
    }
}
