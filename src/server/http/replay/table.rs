//! The table: what each answered request left behind, keyed by its session token and
//! address, for at most `HEADROOM_REPLAY_MS`.
//!
//! It is a view of the cache, never a source of its own: an entry holds the very [`Hit`]
//! the handler answered with and records the cache's generation when its request began,
//! so it is void as soon as anything is invalidated — here or, over pub/sub, by another
//! instance. A sign-out is an invalidation (of the session's key), so an old cookie
//! never replays.
//!
//! Unlike the session cache, which is keyed by a token's hash because its keys can be
//! listed and live in Redis, this table holds the token itself: it never leaves the
//! process, is never listed, and comparing the cookie as sent costs no hashing.

use std::{
    collections::HashMap,
    hash::BuildHasher,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use super::ticket::Ticket;
use crate::server::{
    cache::{Hit, Source},
    perf::collect::ReplayFigures,
};

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

#[derive(Clone)]
pub struct ReplayTable {
    ttl: Duration,
    entries: Arc<RwLock<HashMap<u64, Arc<Replay>>>>,
    hasher: std::hash::RandomState,
    /// Kept by the performance center, which shows them.
    figures: Arc<ReplayFigures>,
}

impl ReplayTable {
    /// A table keeping answers for `ttl` (zero: off), reporting into `figures`.
    pub fn new(ttl: Duration, figures: Arc<ReplayFigures>) -> Self {
        figures.set_ttl(ttl);
        ReplayTable {
            ttl,
            entries: Arc::default(),
            hasher: std::hash::RandomState::new(),
            figures,
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
            self.figures.found_stale();
            return None;
        }
        Some(entry)
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
        self.figures.filled(entries.len());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{
        dto::Role,
        server::{auth::CurrentUser, cache::Strategy, http::cached::Shape},
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
                household_id: None,
                via_token: None,
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

    fn stats(t: &ReplayTable) -> crate::dto::perf::CacheReplay {
        t.figures.snapshot()
    }

    #[test]
    fn answers_the_same_token_and_address_only() {
        let t = table(SECOND);
        t.fill(ticket(TOKEN, "/api/v1/outlook"), 7, 7, SECOND);
        assert!(t.get(TOKEN, "/api/v1/outlook", 7).is_some());
        assert!(t.get(TOKEN, "/api/v1/outlook?date=2026-11-20", 7).is_none());
        let other = "x".repeat(43);
        assert!(t.get(&other, "/api/v1/outlook", 7).is_none());
    }

    #[test]
    fn any_invalidation_voids_every_entry() {
        let t = table(SECOND);
        t.fill(ticket(TOKEN, "/api/usage/current"), 7, 7, SECOND);
        assert!(t.get(TOKEN, "/api/usage/current", 8).is_none());
        assert_eq!(stats(&t).stale, 1);
    }

    #[test]
    fn an_answer_that_spans_an_invalidation_is_not_filed() {
        let t = table(SECOND);
        t.fill(ticket(TOKEN, "/api/usage/current"), 7, 8, SECOND);
        assert_eq!(stats(&t).entries, 0);
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
        assert_eq!(stats(&t).entries as usize, MAX_ENTRIES / 2 + 1);
        assert!(t.get(TOKEN, &format!("/u{}", MAX_ENTRIES - 1), 2).is_some());
        for i in 0..MAX_ENTRIES {
            t.fill(ticket(TOKEN, &format!("/v{i}")), 2, 2, SECOND);
        }
        assert!(stats(&t).entries as usize <= MAX_ENTRIES);
        assert!(t.get(TOKEN, &format!("/v{}", MAX_ENTRIES - 1), 2).is_some());
    }
}
