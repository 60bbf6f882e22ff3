//! Answering a signed-in GET again from the cached JSON it got a moment ago.
//!
//! When the same session asks for the same address within `HEADROOM_REPLAY_MS` (1 s) and
//! nothing has been invalidated since, the answer is sent again by the front door, in
//! front of the router: no routing, session lookup, timeout, handler or layers, which
//! were most of a cached request's time (about 25 µs, measured against a bare route).
//! The rate limit still counts it; the performance center still sees it.
//!
//! Only answers made by `cached::json` or `cached::envelope` are offered — cached values
//! that depend on nothing but the user, the address and the cache (an envelope's timing
//! fields are made afresh) — and only for the session cookie that was looked up, so a
//! replay is what the handler would send.
//!
//! - `ticket`: the gate's side — who asked, and the ticket a cached answer leaves.
//! - `table`: the tickets, filed by token and address, void at the next invalidation.
//! - `front`: the front door that answers from the table and files what comes back.

pub mod front;
pub mod table;
pub mod ticket;

pub use ticket::{asker, offer};
