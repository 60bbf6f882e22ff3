//! Per-route request statistics, recorded by the HTTP edge (`http/middleware/edge.rs`).
//!
//! Keyed by axum's `MatchedPath` (the route template, so a bounded set: `/api/v1/meters/{id}`,
//! never the id), plus `(unmatched)` for everything the fallback answers. The table is
//! read-mostly: a route's entry is created on its first request under the write lock; every
//! later request takes the read lock, finds the entry and does a few relaxed atomic adds —
//! no allocation, no span. A replayed request skips even the lookup: its entry was found
//! when the replay was filed (`http::replay`), whose own figures are [`ReplayFigures`].
//!
//! Every one of those atomics is a cache line both cores write, and at 40 000 requests a
//! second each costs a visible share of a request; so a request in flight is counted on
//! its route's entry (the one the request holds anyway) rather than on a counter of its
//! own, and the total is summed when asked for.

use std::{
    collections::HashMap,
    sync::{
        Arc, RwLock,
        atomic::{AtomicI64, AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use super::histogram::{Histogram, Snapshot};

pub const UNMATCHED: &str = "(unmatched)";

/// Counters of one route.
#[derive(Default)]
pub struct RouteStats {
    pub latency: Histogram,
    /// Responses with a 5xx status.
    pub errors: AtomicU64,
    /// Responses with a 4xx status.
    pub client_errors: AtomicU64,
    /// Responses that were HTML pages (server-side rendered): the SSR view.
    pub pages: AtomicU64,
    /// Requests of this route being answered right now.
    in_flight: AtomicI64,
}

/// A route's counters at one moment.
#[derive(Clone, Debug)]
pub struct RouteSnapshot {
    pub route: String,
    pub latency: Snapshot,
    pub errors: u64,
    pub client_errors: u64,
    pub pages: u64,
}

impl RouteSnapshot {
    pub fn requests(&self) -> u64 {
        self.latency.count()
    }
}

/// Most routes an application has; beyond this, new paths share the `(unmatched)` entry
/// (a guard: matched paths are templates, so this is never reached in practice).
const MAX_ROUTES: usize = 512;

#[derive(Default)]
pub struct RouteTable {
    routes: RwLock<HashMap<Box<str>, Arc<RouteStats>>>,
}

impl RouteTable {
    /// The entry of `route` (a template, or `None` for the fallback), made on first use.
    pub fn stats(&self, route: Option<&str>) -> Arc<RouteStats> {
        let route = route.unwrap_or(UNMATCHED);
        {
            let map = self.routes.read().unwrap_or_else(|e| e.into_inner());
            if let Some(stats) = map.get(route) {
                return stats.clone();
            }
        }
        let mut map = self.routes.write().unwrap_or_else(|e| e.into_inner());
        let key = if map.len() >= MAX_ROUTES && !map.contains_key(route) {
            UNMATCHED
        } else {
            route
        };
        map.entry(key.into()).or_default().clone()
    }

    /// Requests being answered right now, all routes together.
    pub fn in_flight(&self) -> i64 {
        let map = self.routes.read().unwrap_or_else(|e| e.into_inner());
        map.values().map(|s| s.in_flight.load(Relaxed)).sum()
    }

    pub fn snapshot(&self) -> Vec<RouteSnapshot> {
        let map = self.routes.read().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<RouteSnapshot> = map
            .iter()
            .map(|(route, s)| RouteSnapshot {
                route: route.to_string(),
                latency: s.latency.snapshot(),
                errors: s.errors.load(Relaxed),
                client_errors: s.client_errors.load(Relaxed),
                pages: s.pages.load(Relaxed),
            })
            .collect();
        out.sort_by(|a, b| a.route.cmp(&b.route));
        out
    }
}

fn record_into(stats: &RouteStats, status: u16, html: bool, took: Duration) {
    stats.latency.record(took);
    if status >= 500 {
        stats.errors.fetch_add(1, Relaxed);
    } else if status >= 400 {
        stats.client_errors.fetch_add(1, Relaxed);
    }
    if html {
        stats.pages.fetch_add(1, Relaxed);
    }
}

/// One request in flight, from the HTTP edge's point of view (`http/middleware/edge.rs`
/// times it and calls [`Tracked::finish`]). Dropping it counts the request out, so one
/// whose client went away does not stay "in flight" for ever.
pub struct Tracked {
    stats: Arc<RouteStats>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.stats.in_flight.fetch_sub(1, Relaxed);
    }
}

impl Tracked {
    /// Counts a request of the route `stats` belongs to in.
    pub fn start(stats: Arc<RouteStats>) -> Tracked {
        stats.in_flight.fetch_add(1, Relaxed);
        Tracked { stats }
    }

    /// Counts it out with what it answered and how long that took to the headers.
    pub fn finish(self, status: u16, content_type: Option<&[u8]>, took: Duration) {
        let html = content_type.is_some_and(|v| v.starts_with(b"text/html"));
        record_into(&self.stats, status, html, took);
    }
}

/// Client connections: how many the server holds open now, and has accepted since start
/// (`http::serve` counts them). Kept apart from requests: an idle keep-alive connection
/// costs memory and a slot under `HEADROOM_MAX_CONNECTIONS` while answering nothing.
#[derive(Default)]
pub struct Connections {
    open: AtomicU64,
    accepted: AtomicU64,
    parked: AtomicU64,
}

impl Connections {
    /// Counts a connection open until the returned guard is dropped.
    pub fn opened(self: &Arc<Self>) -> OpenConnection {
        self.open.fetch_add(1, Relaxed);
        self.accepted.fetch_add(1, Relaxed);
        OpenConnection(self.clone())
    }

    pub fn open(&self) -> u64 {
        self.open.load(Relaxed)
    }

    pub fn accepted(&self) -> u64 {
        self.accepted.load(Relaxed)
    }

    /// Counts an open connection as parked (idle, holding no HTTP state) until the
    /// returned guard is dropped.
    pub fn parked(self: &Arc<Self>) -> ParkedConnection {
        self.parked.fetch_add(1, Relaxed);
        ParkedConnection(self.clone())
    }

    /// Open connections that are parked between requests.
    pub fn parked_now(&self) -> u64 {
        self.parked.load(Relaxed)
    }
}

/// One parked connection, counted out when it wakes or closes.
pub struct ParkedConnection(Arc<Connections>);

impl Drop for ParkedConnection {
    fn drop(&mut self) {
        self.0.parked.fetch_sub(1, Relaxed);
    }
}

/// One open connection, counted out when dropped however the connection ends.
pub struct OpenConnection(Arc<Connections>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Relaxed);
    }
}

/// The replay table's figures (`http::replay`), kept here so the performance report can
/// show them without reaching into the HTTP layer: the table writes, the report reads.
#[derive(Default)]
pub struct ReplayFigures {
    /// The table's setting, written once when the table is made (zero: off).
    ttl_ms: AtomicU64,
    entries: AtomicU64,
    /// Answers filed for replay.
    fills: AtomicU64,
    /// Lookups that found an entry past its time or older than an invalidation.
    stale: AtomicU64,
}

impl ReplayFigures {
    pub fn set_ttl(&self, ttl: Duration) {
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        self.ttl_ms.store(ms, Relaxed);
    }

    pub fn filled(&self, entries: usize) {
        self.fills.fetch_add(1, Relaxed);
        self.entries.store(entries as u64, Relaxed);
    }

    pub fn cleared(&self) {
        self.entries.store(0, Relaxed);
    }

    pub fn found_stale(&self) {
        self.stale.fetch_add(1, Relaxed);
    }

    pub fn snapshot(&self) -> crate::dto::perf::CacheReplay {
        let ttl_ms = self.ttl_ms.load(Relaxed);
        crate::dto::perf::CacheReplay {
            enabled: ttl_ms > 0,
            ttl_ms,
            entries: self.entries.load(Relaxed),
            fills: self.fills.load(Relaxed),
            stale: self.stale.load(Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_per_route_with_errors_and_pages() {
        let t = RouteTable::default();
        let answer = |route, status, kind: Option<&[u8]>, ms| {
            Tracked::start(t.stats(Some(route))).finish(status, kind, Duration::from_millis(ms));
        };
        answer("/a", 200, None, 2);
        answer("/a", 500, None, 3);
        answer("/a", 404, Some(b"application/json"), 1);
        answer("/", 200, Some(b"text/html; charset=utf-8"), 9);
        let s = t.snapshot();
        assert_eq!(s.len(), 2);
        let a = s.iter().find(|r| r.route == "/a").expect("a");
        assert_eq!((a.requests(), a.errors, a.client_errors), (3, 1, 1));
        let root = s.iter().find(|r| r.route == "/").expect("root");
        assert_eq!(root.pages, 1);
    }

    #[test]
    fn connections_are_counted_open_until_their_guard_drops() {
        let c = Arc::new(Connections::default());
        let a = c.opened();
        let b = c.opened();
        drop(a);
        assert_eq!((c.open(), c.accepted()), (1, 2));
        drop(b);
        assert_eq!((c.open(), c.accepted()), (0, 2));
    }

    #[test]
    fn a_tracked_request_is_in_flight_until_finished_or_dropped() {
        let t = RouteTable::default();
        let a = Tracked::start(t.stats(Some("/a")));
        let gone = Tracked::start(t.stats(None));
        let b = Tracked::start(t.stats(Some("/a")));
        assert_eq!(t.in_flight(), 3);
        a.finish(
            200,
            Some(b"text/html; charset=utf-8"),
            Duration::from_millis(1),
        );
        drop(gone); // its client went away: counted out, not recorded
        assert_eq!(t.in_flight(), 1);
        b.finish(503, None, Duration::from_millis(2));
        assert_eq!(t.in_flight(), 0);
        let s = t.snapshot();
        let a = s.iter().find(|r| r.route == "/a").expect("a");
        assert_eq!((a.requests(), a.errors, a.pages), (2, 1, 1));
        let unmatched = s.iter().find(|r| r.route == UNMATCHED).expect("unmatched");
        assert_eq!(unmatched.requests(), 0);
    }
}
