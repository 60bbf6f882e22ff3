//! The meters the write path touched since the rule evaluator last looked: a set in
//! memory, cheap to add to, drained by `service::alerts::evaluator` (which evaluates each
//! meter once however many writes touched it). Sensors' readings are kept with their
//! meter, since the range rule judges every reading in order.

use std::{
    collections::BTreeMap,
    sync::{Mutex, MutexGuard, PoisonError},
};

use tokio::sync::{Notify, watch};

use crate::domain::alerts::SensorReading;

/// Readings held at most before a writer evaluates what is pending itself (back-pressure:
/// memory stays bounded however far the evaluator falls behind).
pub const MAX_HELD: usize = 200_000;

/// What one drain takes: the meters with their readings, and the last write it covers.
pub struct Taken {
    pub meters: BTreeMap<i64, Vec<SensorReading>>,
    pub through: u64,
}

#[derive(Default)]
struct Inner {
    /// Writes added so far (each `add` is one).
    seq: u64,
    meters: BTreeMap<i64, Vec<SensorReading>>,
    held: usize,
}

pub struct Touched {
    inner: Mutex<Inner>,
    wake: Notify,
    /// The last write whose meters were evaluated.
    done: watch::Sender<u64>,
    /// Held by the one drain at a time.
    draining: tokio::sync::Mutex<()>,
}

impl Default for Touched {
    fn default() -> Self {
        Self {
            inner: Mutex::default(),
            wake: Notify::new(),
            done: watch::Sender::new(0),
            draining: tokio::sync::Mutex::new(()),
        }
    }
}

impl Touched {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The set holds plain data: a panic elsewhere leaves it usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a write's readings; returns whether more than [`MAX_HELD`] are now held.
    pub fn add(&self, readings: impl IntoIterator<Item = (i64, SensorReading)>) -> bool {
        let full = {
            let mut inner = self.lock();
            inner.seq += 1;
            let mut added = 0;
            for (meter_id, r) in readings {
                inner.meters.entry(meter_id).or_default().push(r);
                added += 1;
            }
            inner.held += added;
            inner.held > MAX_HELD
        };
        self.wake.notify_one();
        full
    }

    /// Held while draining, so drains take and finish in order.
    pub async fn draining(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.draining.lock().await
    }

    /// Everything held, and the write it goes up to.
    pub fn take(&self) -> Taken {
        let mut inner = self.lock();
        inner.held = 0;
        Taken {
            meters: std::mem::take(&mut inner.meters),
            through: inner.seq,
        }
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.lock().meters.is_empty()
    }

    /// Marks the writes up to `through` evaluated.
    pub fn done(&self, through: u64) {
        self.done.send_if_modified(|d| {
            let newer = through > *d;
            if newer {
                *d = through;
            }
            newer
        });
    }

    /// Waits until something is added (at once if something was added since the last
    /// wait).
    pub async fn added(&self) {
        self.wake.notified().await;
    }

    /// Waits until every write added before this call has been evaluated.
    pub async fn settled(&self) {
        let target = self.lock().seq;
        let mut done = self.done.subscribe();
        let _ = done.wait_for(|d| *d >= target).await;
    }
}
