//! Per-statement-shape SQL statistics and the slow-query log.
//!
//! sqlx reports every statement it finishes as a `tracing` event (target `sqlx::query`,
//! level DEBUG by default) with the SQL text and `elapsed_secs`. [`SqlLayer`] is a
//! `tracing_subscriber` layer that listens for only those events (its own per-layer filter,
//! so the log output is unaffected) and aggregates them by *normalized* statement: literals
//! and placeholders become `?`, `IN (?, ?, ?)` lists collapse, whitespace is squeezed.
//!
//! Queries in this code base are static text with bind parameters, so the raw text of a
//! statement rarely varies; the layer remembers raw-text hashes it has normalized and skips
//! the work next time. Both maps are bounded.
//!
//! The statistics are process-wide ([`global`]): a `tracing` subscriber is global, and a
//! process serves one database. (Several test servers in one process share them.)

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Arc, LazyLock, Mutex, RwLock,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use tracing::{
    Event, Subscriber,
    field::{Field, Visit},
};
use tracing_subscriber::{Layer, layer::Context};

use super::histogram::{Histogram, Snapshot};
pub use crate::dto::perf::SlowQuery;

/// Statement shapes kept; later new shapes count under `(other)`.
const MAX_SHAPES: usize = 400;
/// Raw texts remembered as already normalized.
const MAX_RAW: usize = 4000;
/// Entries in the slow-query log.
const SLOW_LOG: usize = 100;
/// Longest normalized statement kept, in characters.
const MAX_STATEMENT: usize = 600;

/// A statement shape: its normalized text and its counters.
type Shape = (Arc<str>, Arc<StatementStats>);

#[derive(Default)]
pub struct StatementStats {
    pub latency: Histogram,
    pub slow: AtomicU64,
}

pub struct SqlStats {
    shapes: RwLock<HashMap<Arc<str>, Arc<StatementStats>>>,
    raw: RwLock<HashMap<u64, Shape>>,
    /// Every statement, all shapes together.
    pub all: Histogram,
    pub slow_total: AtomicU64,
    /// Statements slower than this (µs) go to the slow-query log.
    pub slow_threshold_us: AtomicU64,
    slow_log: Mutex<VecDeque<SlowQuery>>,
}

#[derive(Clone, Debug)]
pub struct StatementSnapshot {
    pub statement: Arc<str>,
    pub latency: Snapshot,
    pub slow: u64,
}

static GLOBAL: LazyLock<SqlStats> = LazyLock::new(|| SqlStats {
    shapes: RwLock::default(),
    raw: RwLock::default(),
    all: Histogram::default(),
    slow_total: AtomicU64::new(0),
    slow_threshold_us: AtomicU64::new(100_000),
    slow_log: Mutex::default(),
});

/// The process's SQL statistics.
pub fn global() -> &'static SqlStats {
    &GLOBAL
}

impl SqlStats {
    pub fn record(&self, raw_sql: &str, took: Duration) {
        let key = xxhash_rust::xxh3::xxh3_64(raw_sql.as_bytes());
        let known = {
            let raw = self.raw.read().unwrap_or_else(|e| e.into_inner());
            raw.get(&key).cloned()
        };
        let (shape, stats) = match known {
            Some(found) => found,
            None => {
                let normalized: Arc<str> = normalize(raw_sql).into();
                let (shape, stats) = self.shape(normalized);
                let mut raw = self.raw.write().unwrap_or_else(|e| e.into_inner());
                if raw.len() < MAX_RAW {
                    raw.insert(key, (shape.clone(), stats.clone()));
                }
                (shape, stats)
            }
        };
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        stats.latency.record_us(us);
        self.all.record_us(us);
        if us >= self.slow_threshold_us.load(Relaxed) {
            stats.slow.fetch_add(1, Relaxed);
            self.slow_total.fetch_add(1, Relaxed);
            let mut log = self.slow_log.lock().unwrap_or_else(|e| e.into_inner());
            if log.len() >= SLOW_LOG {
                log.pop_front();
            }
            log.push_back(SlowQuery {
                statement: shape.to_string(),
                ms: us as f64 / 1000.0,
                at: crate::server::clock::wall_now().to_string(),
            });
        }
    }

    fn shape(&self, normalized: Arc<str>) -> (Arc<str>, Arc<StatementStats>) {
        let mut shapes = self.shapes.write().unwrap_or_else(|e| e.into_inner());
        if let Some((k, v)) = shapes.get_key_value(&normalized) {
            return (k.clone(), v.clone());
        }
        let key: Arc<str> = if shapes.len() >= MAX_SHAPES {
            Arc::from("(other)")
        } else {
            normalized
        };
        let stats = shapes.entry(key.clone()).or_default().clone();
        (key, stats)
    }

    pub fn snapshot(&self) -> Vec<StatementSnapshot> {
        let shapes = self.shapes.read().unwrap_or_else(|e| e.into_inner());
        shapes
            .iter()
            .map(|(k, v)| StatementSnapshot {
                statement: k.clone(),
                latency: v.latency.snapshot(),
                slow: v.slow.load(Relaxed),
            })
            .collect()
    }

    /// The slow-query log, newest first.
    pub fn slow_log(&self) -> Vec<SlowQuery> {
        let log = self.slow_log.lock().unwrap_or_else(|e| e.into_inner());
        log.iter().rev().cloned().collect()
    }

    pub fn set_slow_threshold(&self, secs: f64) {
        self.slow_threshold_us
            .store((secs * 1e6).max(1.0) as u64, Relaxed);
    }
}

/// The statement's shape: literals and placeholders as `?`, value lists collapsed,
/// whitespace squeezed, at most [`MAX_STATEMENT`] characters.
pub fn normalize(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len().min(MAX_STATEMENT));
    let mut chars = sql.chars().peekable();
    let mut last_space = true;
    let mut prev_word = false;
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                // A string literal ('' escapes a quote).
                while let Some(n) = chars.next() {
                    if n == '\'' {
                        if chars.peek() == Some(&'\'') {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                }
                out.push('?');
                last_space = false;
                prev_word = false;
            }
            '$' | '?' if !prev_word => {
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
                out.push('?');
                last_space = false;
                prev_word = false;
            }
            c if c.is_ascii_digit() && !prev_word => {
                while chars
                    .peek()
                    .is_some_and(|n| n.is_ascii_digit() || *n == '.')
                {
                    chars.next();
                }
                out.push('?');
                last_space = false;
                prev_word = false;
            }
            c if c.is_whitespace() => {
                if !last_space {
                    out.push(' ');
                    last_space = true;
                }
                prev_word = false;
            }
            c => {
                out.push(c);
                last_space = false;
                prev_word = c.is_alphanumeric() || c == '_' || c == '.';
            }
        }
        if out.len() >= MAX_STATEMENT {
            out.push('…');
            break;
        }
    }
    collapse_lists(out.trim())
}

/// `(?, ?, ?)` and `(?,?),(?,?)` → `(?…)`.
fn collapse_lists(s: &str) -> String {
    let mut out = s.to_owned();
    while out.contains("?, ?") {
        out = out.replace("?, ?", "?,?");
    }
    while out.contains("?,?,?") {
        out = out.replace("?,?,?", "?,?");
    }
    out = out.replace("(?,?)", "(?…)");
    while out.contains("(?…), (?…)") || out.contains("(?…),(?…)") {
        out = out
            .replace("(?…), (?…)", "(?…)")
            .replace("(?…),(?…)", "(?…)");
    }
    out
}

/// Listens for sqlx's statement events and records them in [`global`].
pub struct SqlLayer;

#[derive(Default)]
struct StatementVisitor {
    statement: Option<String>,
    summary: Option<String>,
    elapsed: Option<f64>,
}

impl Visit for StatementVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "db.statement" if !value.trim().is_empty() => {
                self.statement = Some(value.trim().to_owned())
            }
            "summary" => self.summary = Some(value.to_owned()),
            _ => {}
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.elapsed = Some(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // `summary` arrives as a String through `record_str`; nothing else is needed.
        let _ = (field, value);
    }
}

impl<S: Subscriber> Layer<S> for SqlLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        let mut v = StatementVisitor::default();
        event.record(&mut v);
        let (Some(elapsed), Some(sql)) = (v.elapsed, v.statement.or(v.summary)) else {
            return;
        };
        global().record(&sql, Duration::from_secs_f64(elapsed.max(0.0)));
    }
}

/// The per-layer filter that lets only sqlx's statement events through to [`SqlLayer`].
pub fn filter() -> tracing_subscriber::filter::Targets {
    tracing_subscriber::filter::Targets::new().with_target("sqlx::query", tracing::Level::TRACE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_literals_placeholders_and_lists() {
        assert_eq!(
            normalize("SELECT * FROM readings\n   WHERE meter_id = $1 AND ts > 1700000000"),
            "SELECT * FROM readings WHERE meter_id = ? AND ts > ?"
        );
        assert_eq!(
            normalize("select a from t where name = 'it''s' and id in (1, 2, 3, 4)"),
            "select a from t where name = ? and id in (?…)"
        );
        assert_eq!(
            normalize("INSERT INTO t1 (a, b) VALUES (?, ?), (?, ?), (?, ?)"),
            "INSERT INTO t1 (a, b) VALUES (?…)"
        );
        // Digits inside names stay.
        assert_eq!(normalize("SELECT col2 FROM t3"), "SELECT col2 FROM t3");
    }

    #[test]
    fn records_shapes_and_the_slow_log() {
        let s = SqlStats {
            shapes: RwLock::default(),
            raw: RwLock::default(),
            all: Histogram::default(),
            slow_total: AtomicU64::new(0),
            slow_threshold_us: AtomicU64::new(50_000),
            slow_log: Mutex::default(),
        };
        s.record("SELECT 1 FROM t WHERE id = $1", Duration::from_millis(1));
        s.record("SELECT 1 FROM t WHERE id = 7", Duration::from_millis(80));
        let snap = s.snapshot();
        assert_eq!(snap.len(), 1);
        assert_eq!(snap[0].latency.count(), 2);
        assert_eq!(snap[0].slow, 1);
        let log = s.slow_log();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].statement, "SELECT ? FROM t WHERE id = ?");
    }
}
