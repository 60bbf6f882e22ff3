//! The replay table: the cached JSON a signed-in user's GET was answered with, filed under
//! that request's session token and address, so the same request again is answered
//! before routing, without the session lookup, the compression layer or the handler —
//! still counted by the rate limit and the performance center (see
//! `http::middleware::replay`).
//!
//! It is a view of the cache, never a source of its own: an entry holds the very [`Hit`]
//! the handler answered with, stays for at most `HEADROOM_REPLAY_MS`, and is void as soon
//! as anything is invalidated — here or, over pub/sub, by another instance — because it
//! records the cache's generation when its request began. A sign-out is an invalidation
//! (of the session's key), so an old cookie never replays.
//!
//! Unlike the session cache, which is keyed by a token's hash because its keys can be
//! listed and live in Redis, this table holds the token itself: it never leaves the
//! process, is never listed, and comparing the cookie as sent costs no hashing.

use std::{
    collections::HashMap,
    hash::BuildHasher,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use axum::extract::MatchedPath;
use serde::Serialize;

use super::{Hit, Source, stats::Counters as CacheCounters};
use crate::server::{auth::CurrentUser, http::cached::Shape, perf::collect::RouteStats};

/// A full table first drops what can no longer be answered from (expired, or older than
/// an invalidation), then, if still full, everything: simpler than an eviction order, and
/// every entry is a second from expiring anyway. Entries share their values with the
/// in-process tier, so this mostly bounds how long an evicted value stays alive.
const MAX_ENTRIES: usize = 4_096;

/// What one answered request leaves behind for the next identical one: its ticket, and
/// for how long and as of which invalidation it may be answered from.
pub struct Replay {
    pub ticket: Ticket,
    generation: u64,
    expires: Instant,
}

/// The request a [`Replay`] answers, as the gate saw it: filed only if nothing was
/// invalidated since the request arrived.
#[derive(Clone)]
pub struct Ticket {
    pub token: String,
    pub uri: String,
    pub user: CurrentUser,
    pub hit: Hit,
    pub shape: Shape,
    /// The route template the handler was reached by, and its entry in the performance
    /// center's per-route figures (a replay never goes through the router); the entry is
    /// looked up once, by the front door as it files the ticket, when the center is on.
    pub route: Option<MatchedPath>,
    pub route_stats: Option<Arc<RouteStats>>,
}

#[derive(Default)]
struct Counters {
    fills: AtomicU64,
    stale: AtomicU64,
}

#[derive(Clone)]
pub struct ReplayTable {
    ttl: Duration,
    entries: Arc<RwLock<HashMap<u64, Arc<Replay>>>>,
    hasher: std::hash::RandomState,
    counters: Arc<Counters>,
    /// The cache's own, where a replay counts as a hit of its value's strategy.
    cache_counters: Arc<CacheCounters>,
}

/// What `GET /api/performance/cache/stats` shows of the table.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayStats {
    pub enabled: bool,
    pub ttl_ms: u64,
    pub entries: u64,
    /// Answers filed for replay.
    pub fills: u64,
    /// Lookups that found an entry past its time or older than an invalidation.
    pub stale: u64,
}

impl ReplayTable {
    pub(super) fn new(ttl: Duration, cache_counters: Arc<CacheCounters>) -> Self {
        ReplayTable {
            ttl,
            entries: Arc::default(),
            hasher: std::hash::RandomState::new(),
            counters: Arc::default(),
            cache_counters,
        }
    }

    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    fn slot(&self, token: &str, uri: &str) -> u64 {
        self.hasher.hash_one((token, uri))
    }

    /// The live entry for `token` asking for `uri`, if any, given the cache's current
    /// `generation`.
    pub fn get(&self, token: &str, uri: &str, generation: u64) -> Option<Arc<Replay>> {
        self.get_at(token, uri, generation, Instant::now())
    }

    /// [`get`](Self::get) as of `now`, so tests can step past an expiry without waiting.
    fn get_at(&self, token: &str, uri: &str, generation: u64, now: Instant) -> Option<Arc<Replay>> {
        let slot = self.slot(token, uri);
        let entry = self
            .entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&slot)
            .filter(|e| e.ticket.token == token && e.ticket.uri == uri)
            .cloned()?;
        if entry.generation != generation || now >= entry.expires {
            self.counters.stale.fetch_add(1, Relaxed);
            return None;
        }
        Some(entry)
    }

    /// Counts `entry` answered again, as a hit of its value's strategy (not when the
    /// rate limit refused the request instead).
    pub fn count_hit(&self, entry: &Replay) {
        self.cache_counters
            .of(entry.ticket.hit.strategy)
            .replay_hits
            .fetch_add(1, Relaxed);
    }

    /// Files `ticket` for `ttl` (at most the table's own), unless the cache's generation
    /// moved on since the request began at `began`: the answer may predate a write.
    pub fn fill(&self, ticket: Ticket, began: u64, now_generation: u64, ttl: Duration) {
        let ttl = ttl.min(self.ttl);
        if began != now_generation || ttl.is_zero() {
            return;
        }
        let slot = self.slot(&ticket.token, &ticket.uri);
        let entry = Arc::new(Replay {
            ticket: Ticket {
                // Served again from memory, and said so in `X-Cache`.
                hit: Hit {
                    source: Source::Memory,
                    ..ticket.hit
                },
                ..ticket
            },
            generation: began,
            expires: Instant::now() + ttl,
        });
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&slot) {
            let now = Instant::now();
            entries.retain(|_, e| e.generation == began && e.expires > now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(slot, entry);
        self.counters.fills.fetch_add(1, Relaxed);
    }

    /// Forgets everything (the cache was cleared; the entries are void already, this
    /// returns their memory).
    pub fn clear(&self) {
        self.entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    pub fn stats(&self) -> ReplayStats {
        let entries = self
            .entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len();
        ReplayStats {
            enabled: self.enabled(),
            ttl_ms: u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX),
            entries: entries as u64,
            fills: self.counters.fills.load(Relaxed),
            stale: self.counters.stale.load(Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{
        dto::Role,
        server::cache::{Source, Strategy},
    };

    const TOKEN: &str = "EfnmO7Eu5Upwh14D3cm7eS6K6BsTjk584-wBTPqg85c";

    fn ticket(token: &str, uri: &str) -> Ticket {
        Ticket {
            token: token.into(),
            uri: uri.into(),
            user: CurrentUser {
                id: 1,
                email: "a@b.c".into(),
                display_name: "A".into(),
                role: Role::Member,
                plan_tier: "budget".into(),
                location: String::new(),
                timezone: "UTC".into(),
            },
            hit: Hit::new(Arc::from(&b"{}"[..]), Source::Computed, Strategy::Outlook),
            shape: Shape::Whole,
            route: None,
            route_stats: None,
        }
    }

    const SECOND: Duration = Duration::from_secs(1);

    fn table(ttl: Duration) -> ReplayTable {
        ReplayTable::new(ttl, Arc::default())
    }

    fn replays(t: &ReplayTable) -> u64 {
        t.cache_counters
            .of(Strategy::Outlook)
            .replay_hits
            .load(Relaxed)
    }

    #[test]
    fn answers_the_same_token_and_address_only() {
        let t = table(SECOND);
        t.fill(ticket(TOKEN, "/api/v1/outlook"), 7, 7, SECOND);
        let found = t.get(TOKEN, "/api/v1/outlook", 7);
        assert!(found.is_some());
        // Counted as its strategy's hit when answered (the front door calls this).
        found.iter().for_each(|e| t.count_hit(e));
        assert!(t.get(TOKEN, "/api/v1/outlook?date=2026-11-20", 7).is_none());
        let other = "x".repeat(43);
        assert!(t.get(&other, "/api/v1/outlook", 7).is_none());
        assert_eq!(replays(&t), 1);
    }

    #[test]
    fn any_invalidation_voids_every_entry() {
        let t = table(SECOND);
        t.fill(ticket(TOKEN, "/api/usage/current"), 7, 7, SECOND);
        assert!(t.get(TOKEN, "/api/usage/current", 8).is_none());
        assert_eq!(t.stats().stale, 1);
    }

    #[test]
    fn an_answer_that_spans_an_invalidation_is_not_filed() {
        let t = table(SECOND);
        t.fill(ticket(TOKEN, "/api/usage/current"), 7, 8, SECOND);
        assert_eq!(t.stats().entries, 0);
        assert!(t.get(TOKEN, "/api/usage/current", 8).is_none());
    }

    #[test]
    fn entries_expire_and_a_zero_ttl_files_nothing() {
        let t = table(Duration::from_millis(20));
        t.fill(ticket(TOKEN, "/a"), 1, 1, SECOND);
        assert!(t.get(TOKEN, "/a", 1).is_some());
        let later = Instant::now() + Duration::from_millis(30);
        assert!(t.get_at(TOKEN, "/a", 1, later).is_none());
        t.fill(ticket(TOKEN, "/b"), 1, 1, Duration::ZERO);
        assert!(t.get(TOKEN, "/b", 1).is_none());
        assert!(!table(Duration::ZERO).enabled());
    }

    #[test]
    fn a_full_table_drops_the_void_entries_first_then_everything() {
        let t = table(SECOND);
        // Half made before an invalidation (generation 1), half after (2).
        for i in 0..MAX_ENTRIES {
            let generation = if i < MAX_ENTRIES / 2 { 1 } else { 2 };
            t.fill(
                ticket(TOKEN, &format!("/u{i}")),
                generation,
                generation,
                SECOND,
            );
        }
        t.fill(ticket(TOKEN, "/one-more"), 2, 2, SECOND);
        assert_eq!(t.stats().entries as usize, MAX_ENTRIES / 2 + 1);
        assert!(t.get(TOKEN, &format!("/u{}", MAX_ENTRIES - 1), 2).is_some());
        for i in 0..MAX_ENTRIES {
            t.fill(ticket(TOKEN, &format!("/v{i}")), 2, 2, SECOND);
        }
        assert!(t.stats().entries as usize <= MAX_ENTRIES);
        assert!(t.get(TOKEN, &format!("/v{}", MAX_ENTRIES - 1), 2).is_some());
    }
}
