//! Accepting readings from outside: checking each entry of a request, deciding who may
//! write which meter, then handing the good ones to [`ingest::write`].
//!
//! By default a request is all or nothing: one bad entry rejects the batch and every bad
//! entry is listed, so a client can fix them and resend (re-sending is safe: readings are
//! idempotent on meter and instant). With `partial`, the good entries are stored and the
//! bad ones listed.

use std::collections::{BTreeSet, HashMap};

use jiff::Timestamp;
use serde_json::Value;

use crate::domain::{
    access::{Grant, MeterAction},
    meter::MeterKind,
};
use crate::server::{
    auth::CurrentUser,
    service::{
        ItemError, ServiceError, ServiceResult, access, freshness,
        ingest::{self, NewReading, WriteReport},
        meters::kind_of,
        tokens::TokenPrincipal,
    },
    state::AppState,
    storage::meters::MeterRow,
};

/// Most readings one request may carry.
pub const MAX_BATCH: usize = 10_000;
/// How far ahead of the server's clock a reading may be (clocks drift).
pub const MAX_SKEW_SECS: i64 = 300;
/// Nothing before 2000-01-01 is a reading of this century's meters.
const EARLIEST: i64 = 946_684_800;

/// Who is writing.
pub enum Writer<'a> {
    User(&'a CurrentUser),
    Token(&'a TokenPrincipal),
}

/// What a request stored, and (with `partial`) what it did not.
#[derive(Debug)]
pub struct Outcome {
    pub report: WriteReport,
    pub rejected: Vec<ItemError>,
}

/// One entry's shape checked: the fields it has, before knowing its meter.
struct Parsed {
    meter_id: i64,
    ts: i64,
    value: f64,
    remaining: Option<f64>,
}

fn err(index: usize, field: &'static str, message: impl Into<String>) -> ItemError {
    ItemError {
        index,
        field,
        message: message.into(),
    }
}

fn parse_time(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => s.parse::<Timestamp>().ok().map(Timestamp::as_second),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

fn parse_entry(index: usize, v: &Value) -> Result<Parsed, ItemError> {
    let Value::Object(o) = v else {
        return Err(err(
            index,
            "reading",
            "must be an object with meter_id, timestamp and value",
        ));
    };
    let meter_id = o
        .get("meter_id")
        .and_then(Value::as_i64)
        .ok_or_else(|| err(index, "meter_id", "must be the meter's id (a whole number)"))?;
    let ts = o.get("timestamp").and_then(parse_time).ok_or_else(|| {
        err(
            index,
            "timestamp",
            "must be an RFC 3339 time such as 2026-11-21T07:05:00Z, or Unix seconds",
        )
    })?;
    let value = o
        .get("value")
        .and_then(Value::as_f64)
        .filter(|v| v.is_finite())
        .ok_or_else(|| err(index, "value", "must be a number"))?;
    let remaining = match o.get("remaining") {
        None | Some(Value::Null) => None,
        Some(r) => Some(
            r.as_f64()
                .filter(|v| v.is_finite())
                .ok_or_else(|| err(index, "remaining", "must be a number or absent"))?,
        ),
    };
    Ok(Parsed {
        meter_id,
        ts,
        value,
        remaining,
    })
}

/// Checks one reading against its meter and the clock: the meter takes readings, the
/// instant is neither ahead of the server by more than the skew nor older than the raw
/// retention, and a quota counter is not negative. Sensors may go below zero (−5 °C).
pub fn check_entry(
    meter: &MeterRow,
    ts: i64,
    value: f64,
    now: i64,
    oldest: i64,
) -> Result<(), (&'static str, String)> {
    if meter.archived_at.is_some() {
        return Err(("meter_id", format!("meter {} is archived", meter.id)));
    }
    if ts > now + MAX_SKEW_SECS {
        return Err((
            "timestamp",
            "is in the future (more than 5 minutes ahead of the server's clock)".into(),
        ));
    }
    if ts < oldest {
        return Err((
            "timestamp",
            "is older than the retention of raw readings".into(),
        ));
    }
    if kind_of(meter) == MeterKind::Quota && value < 0.0 {
        return Err((
            "value",
            "must not be negative: a quota counter counts up from zero".into(),
        ));
    }
    Ok(())
}

/// The oldest instant a reading may have: the raw retention's start, and never before 2000.
pub fn oldest_allowed(state: &AppState, now: i64) -> i64 {
    (now - state.settings.database.retention.raw_days * 86_400).max(EARLIEST)
}

/// Checks `entries` and stores the good ones (all of them or none, unless `partial`).
pub async fn accept(
    state: &AppState,
    writer: Writer<'_>,
    entries: &[Value],
    partial: bool,
) -> ServiceResult<Outcome> {
    let now = state.clock.now_secs();
    let oldest = oldest_allowed(state, now);
    let mut errors = Vec::new();
    let mut parsed = Vec::with_capacity(entries.len());
    for (i, v) in entries.iter().enumerate() {
        match parse_entry(i, v) {
            Ok(p) => parsed.push((i, p)),
            Err(e) => errors.push(e),
        }
    }
    let ids: Vec<i64> = parsed
        .iter()
        .map(|(_, p)| p.meter_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let meters: HashMap<i64, MeterRow> = state.db.meters_by_ids(&ids).await?;
    let (owner, allowed): (i64, Option<&[i64]>) = match &writer {
        Writer::User(u) => (u.id, None),
        Writer::Token(t) => (t.user_id, Some(&t.meter_ids)),
    };
    // The writer's standing on each meter: their own are known from the row; any other
    // (one shared with them, or not theirs at all) is asked of `access`, rarely.
    let mut standing: HashMap<i64, Grant> = HashMap::with_capacity(meters.len());
    for m in meters.values() {
        if m.owner_id == owner {
            standing.insert(m.id, Grant::Owner);
        } else {
            match access::meter_of_user(state, owner, m.id, MeterAction::Read).await {
                Ok(a) => {
                    standing.insert(m.id, a.grant);
                }
                Err(ServiceError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
    }
    let mut forbidden = 0;
    let mut good = Vec::with_capacity(parsed.len());
    for (i, p) in parsed {
        let grant = standing.get(&p.meter_id).copied();
        let meter = meters.get(&p.meter_id).filter(|_| grant.is_some());
        let problem = match meter {
            // Another household's meter reads as missing: ids reveal nothing.
            None => Some(err(
                i,
                "meter_id",
                format!("there is no meter {} of yours", p.meter_id),
            )),
            Some(_) if grant.is_some_and(|g| !g.permits(MeterAction::WriteReadings)) => {
                forbidden += 1;
                Some(err(
                    i,
                    "meter_id",
                    format!(
                        "meter {} is shared with you to view, not to write",
                        p.meter_id
                    ),
                ))
            }
            Some(_) if allowed.is_some_and(|a| !a.contains(&p.meter_id)) => {
                forbidden += 1;
                Some(err(
                    i,
                    "meter_id",
                    format!("this token may not write meter {}", p.meter_id),
                ))
            }
            Some(m) => check_entry(m, p.ts, p.value, now, oldest)
                .err()
                .map(|(field, message)| err(i, field, message)),
        };
        match problem {
            Some(e) => errors.push(e),
            None => good.push(NewReading {
                meter_id: p.meter_id,
                ts: p.ts,
                value: p.value,
                remaining: p.remaining,
            }),
        }
    }
    errors.sort_by_key(|e| e.index);
    if !errors.is_empty() && !partial {
        return Err(ServiceError::Items {
            forbidden: forbidden > 0 && forbidden == errors.len(),
            items: errors,
        });
    }
    let report = if good.is_empty() {
        WriteReport {
            stored: 0,
            meters: Vec::new(),
            audience: Vec::new(),
        }
    } else {
        let report = ingest::write(&state.db, &good).await?;
        freshness::readings_written(state, &report.meters, &report.audience).await;
        super::alerts::after_write(state, &good).await;
        report
    };
    Ok(Outcome {
        report,
        rejected: errors,
    })
}
