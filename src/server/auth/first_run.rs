//! Whether this install still waits for its first account (and so offers `/setup`).
//!
//! Read on the page requests of signed-out visitors, synchronously while a page renders,
//! so it is a flag rather than a query. Once any user exists there is no way back (users
//! are disabled, never deleted), so the flag only ever goes from "needed" to "done"; an
//! instance that missed another's setup learns it when `/setup` is asked (which checks
//! the database).
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Default)]
pub struct FirstRun {
    done: AtomicBool,
}

impl FirstRun {
    pub fn new(needed: bool) -> Self {
        FirstRun {
            done: AtomicBool::new(!needed),
        }
    }

    /// True while no account exists (as far as this instance knows).
    pub fn needed(&self) -> bool {
        !self.done.load(Ordering::Relaxed)
    }

    pub fn mark_done(&self) {
        self.done.store(true, Ordering::Relaxed);
    }
}
