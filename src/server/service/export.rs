//! Exporting a meter's readings as CSV or JSON, streamed a month at a time so a year of
//! 10-second sensor data never sits in memory at once.

use crate::domain::access::MeterAction;
use axum::body::Bytes;
use futures::{Stream, StreamExt, stream};
use jiff::{Timestamp, civil::Date};

use crate::{
    domain::DomainError,
    server::{
        auth::CurrentUser,
        service::{ServiceResult, meters, time::rfc3339},
        state::AppState,
        storage::{Db, blocks::utc_day},
    },
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

impl ExportFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Json => "application/json",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
        }
    }
}

/// Instants `from..=to` in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: i64,
    pub to: i64,
}

/// An RFC 3339 instant, or a date (UTC midnight; as an end, the whole day is included).
fn parse_bound(raw: &str, field: &'static str, end: bool) -> Result<i64, DomainError> {
    if let Ok(t) = raw.parse::<Timestamp>() {
        return Ok(t.as_second());
    }
    raw.parse::<Date>()
        .ok()
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp().as_second() + if end { 86_399 } else { 0 })
        .ok_or_else(|| {
            DomainError::new(field, "must be an RFC 3339 time or a date like 2026-11-01")
        })
}

/// Earliest and latest instants an export may name: 1970-01-01 and 2200-12-31T23:59:59Z.
const EARLIEST: i64 = 0;
const LATEST: i64 = 7_289_654_399;
/// Longest range one export covers: three years, with a leap day. The body is one query
/// per 31 days, sent after the headers, so a range of years -9999..9999 was ~236 000
/// queries on one request; longer histories are exported in several.
pub const MAX_SPAN_DAYS: i64 = 3 * 365 + 1;

fn within_years(t: i64, field: &'static str) -> Result<i64, DomainError> {
    if (EARLIEST..=LATEST).contains(&t) {
        Ok(t)
    } else {
        Err(DomainError::new(
            field,
            "must be between 1970-01-01 and 2200-12-31",
        ))
    }
}

/// The range asked for, checked before anything is sent; by default the three years up
/// to `to`, and `to` now.
pub fn parse_range(from: Option<&str>, to: Option<&str>, now: i64) -> Result<Range, DomainError> {
    let from = from.map(|f| parse_bound(f, "from", false)).transpose()?;
    let to = to.map(|t| parse_bound(t, "to", true)).transpose()?;
    let from = from.map(|f| within_years(f, "from")).transpose()?;
    let to = within_years(to.unwrap_or(now), "to")?;
    let span = MAX_SPAN_DAYS * 86_400;
    let from = from.unwrap_or_else(|| (to - span + 1).max(EARLIEST));
    if from > to {
        return Err(DomainError::new("to", "must not be before from"));
    }
    if to - from >= span {
        return Err(DomainError::new(
            "from",
            "must be at most 3 years before to; export a longer history in parts",
        ));
    }
    Ok(Range { from, to })
}

pub struct Export {
    pub file_name: String,
    pub stream: std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>,
}

fn fmt_num(v: f64) -> String {
    // serde_json prints the shortest text that reads back as the same number.
    serde_json::Number::from_f64(v).map_or_else(|| "null".into(), |n| n.to_string())
}

/// Days per chunk: about a month.
const CHUNK_DAYS: i64 = 31;

/// Streams the readings of `meter_id` in `range`. The caller must be allowed to see the meter.
pub async fn readings(
    state: &AppState,
    user: &CurrentUser,
    meter_id: i64,
    range: Range,
    format: ExportFormat,
) -> ServiceResult<Export> {
    let meter = meters::allowed(state, user, meter_id, MeterAction::Read).await?;
    let safe_name: String = meter
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let file_name = format!("{safe_name}-{meter_id}.{}", format.extension());
    Ok(Export {
        file_name,
        stream: Box::pin(stream_readings(
            state.db.clone(),
            meter.id,
            meter.name,
            meter.unit,
            range,
            format,
        )),
    })
}

/// The export body itself, also used by `headroom export`.
pub fn stream_readings(
    db: Db,
    meter_id: i64,
    name: String,
    unit: String,
    range: Range,
    format: ExportFormat,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let head = match format {
        ExportFormat::Csv => "timestamp,value,remaining\n".to_string(),
        ExportFormat::Json => format!(
            "{{\"meter_id\":{meter_id},\"name\":{},\"unit\":{},\"readings\":[",
            serde_json::Value::String(name),
            serde_json::Value::String(unit)
        ),
    };
    let last_day = utc_day(range.to);
    let chunks = stream::unfold((utc_day(range.from), true), move |(day, first)| {
        let db = db.clone();
        async move {
            if day > last_day {
                return None;
            }
            let to = (day + CHUNK_DAYS - 1).min(last_day);
            let mut first = first;
            let text = match db.reading_blocks(meter_id, day, to).await {
                Ok(blocks) => {
                    let mut out = String::new();
                    for r in blocks
                        .values()
                        .flatten()
                        .filter(|r| r.ts >= range.from && r.ts <= range.to)
                    {
                        let rem = r.remaining.map(fmt_num);
                        match format {
                            ExportFormat::Csv => {
                                out.push_str(&format!(
                                    "{},{},{}\n",
                                    rfc3339(r.ts),
                                    fmt_num(r.value),
                                    rem.unwrap_or_default()
                                ));
                            }
                            ExportFormat::Json => {
                                if !first {
                                    out.push(',');
                                }
                                out.push_str(&format!(
                                    "{{\"timestamp\":\"{}\",\"value\":{},\"remaining\":{}}}",
                                    rfc3339(r.ts),
                                    fmt_num(r.value),
                                    rem.unwrap_or_else(|| "null".into())
                                ));
                            }
                        }
                        first = false;
                    }
                    Ok(Bytes::from(out))
                }
                Err(e) => Err(std::io::Error::other(e.to_string())),
            };
            Some((text, (to + 1, first)))
        }
    });
    let tail = match format {
        ExportFormat::Csv => String::new(),
        ExportFormat::Json => "]}\n".to_string(),
    };
    stream::once(async move { Ok(Bytes::from(head)) })
        .chain(chunks)
        .chain(stream::once(async move { Ok(Bytes::from(tail)) }))
}
