//! Password hashing with argon2id (OWASP's parameters: 19 MiB, 2 passes, 1 lane).
//! Hashing takes tens of milliseconds on purpose, so it runs on the blocking pool.
//!
//! Sign-in checks go through [`HashSlots`]: each hash holds 19 MiB and a core, and
//! tokio's blocking pool would otherwise run up to 512 of them at once for anyone who
//! posts to `/login` (measured: 1.96 GB of RSS from 200 clients with random emails).

use std::sync::{
    Arc, LazyLock,
    atomic::{AtomicUsize, Ordering},
};

use tokio::sync::Semaphore;

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};

/// Shortest password accepted for new accounts.
pub const MIN_LENGTH: usize = 8;

/// A real hash of a random password, verified against when the email is unknown so an
/// attacker cannot tell "no such user" from "wrong password" by timing.
static DECOY: LazyLock<String> =
    LazyLock::new(|| hash_blocking("decoy-password-never-used").unwrap_or_default());

pub fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
}

fn verify_blocking(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Checks `password` against `stored`, or against a decoy when there is no user, so both
/// cases cost the same.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || verify_now(&password, stored.as_deref()))
        .await
        .unwrap_or(false)
}

fn verify_now(password: &str, stored: Option<&str>) -> bool {
    match stored {
        Some(hash) => verify_blocking(password, hash),
        None => {
            let _ = verify_blocking(password, &DECOY);
            false
        }
    }
}

/// How many sign-in checks may wait for a slot, per slot computing.
const QUEUE_PER_SLOT: usize = 4;

/// A bound on password checks: `slots` hash at once, a short queue waits behind them, and
/// beyond that [`HashSlots::admit`] refuses at once so the caller can answer 503.
#[derive(Clone)]
pub struct HashSlots {
    computing: Arc<Semaphore>,
    admitted: Arc<AtomicUsize>,
    max_admitted: usize,
}

impl HashSlots {
    pub fn new(slots: usize) -> Self {
        let slots = slots.max(1);
        HashSlots {
            computing: Arc::new(Semaphore::new(slots)),
            admitted: Arc::new(AtomicUsize::new(0)),
            max_admitted: slots * (1 + QUEUE_PER_SLOT),
        }
    }

    /// A place in the queue, or `None` when it is full.
    pub fn admit(&self) -> Option<Admission> {
        let before = self.admitted.fetch_add(1, Ordering::AcqRel);
        let admission = Admission {
            slots: self.clone(),
        };
        // Dropping it gives the place back, including when it was one too many.
        (before < self.max_admitted).then_some(admission)
    }

    /// Checks being computed or waiting.
    pub fn in_use(&self) -> usize {
        self.admitted.load(Ordering::Acquire)
    }
}

/// A place in [`HashSlots`]' queue; given back when dropped. A check whose request went
/// away keeps its place until its hash ends, so abandoned requests cannot pile up hashes.
pub struct Admission {
    slots: HashSlots,
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.slots.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Admission {
    /// [`verify`], once a slot is free.
    pub async fn verify(self, password: String, stored: Option<String>) -> bool {
        let Ok(permit) = self.slots.computing.clone().acquire_owned().await else {
            return false;
        };
        tokio::task::spawn_blocking(move || {
            let _held = (permit, self);
            verify_now(&password, stored.as_deref())
        })
        .await
        .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_queue_is_bounded_and_places_come_back() {
        let slots = HashSlots::new(1);
        let held: Vec<Admission> = (0..5).map_while(|_| slots.admit()).collect();
        assert_eq!(held.len(), 5, "one computing and four waiting");
        assert!(slots.admit().is_none(), "the sixth is refused at once");
        assert_eq!(slots.in_use(), 5);
        drop(held);
        assert_eq!(slots.in_use(), 0);
        let one = slots.admit().expect("a place again");
        assert!(!one.verify("x".into(), None).await);
        assert_eq!(slots.in_use(), 0, "the place is given back after the check");
    }

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let h = hash("correct horse battery".into()).await.expect("hash");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("correct horse battery".into(), Some(h.clone())).await);
        assert!(!verify("wrong".into(), Some(h)).await);
        assert!(!verify("anything".into(), None).await);
    }
}
