//! Sending the outbox: the jobs leader claims due batches of deliveries, posts each to its
//! webhook (`service::webhook`, through the outbound policy) and records the attempt.
//!
//! A claim lasts [`CLAIM_SECS`], longer than a request may take; a process killed while
//! sending leaves its batch claimed until then, and the next leader sends it again, with
//! the same idempotency key. A failure is tried again with capped exponential back-off
//! and jitter (`domain::alerts::next_try`) for a day, then becomes a dead letter.

use std::time::Duration;

use futures::{StreamExt, stream};

use crate::{
    domain::alerts,
    server::{
        outbound::Outbound,
        service::webhook,
        state::AppState,
        storage::{
            StoreResult,
            notifications::{AttemptLogRow, Batch},
        },
    },
};

/// How long a claimed batch is left to its sender before another may take it.
pub const CLAIM_SECS: i64 = 60;
/// Batches claimed in one pass; the next pass (a second later) takes more.
const PER_PASS: usize = 64;
/// Requests in flight at once.
const PARALLEL: usize = 8;

/// Random 0–1, spreading retries (`next_try`'s jitter).
fn jitter() -> f64 {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    f64::from(OsRng.next_u32()) / f64::from(u32::MAX)
}

/// The key a receiver uses to recognise a repeat: the same for every attempt at a batch.
pub fn idempotency_key(b: &Batch) -> String {
    format!("hr-{}-{}", b.user_id, b.batch)
}

/// Claims what is due and sends it; returns the batches attempted.
pub async fn run_once(state: &AppState, outbound: &Outbound) -> StoreResult<usize> {
    let now = state.clock.now_secs();
    let mut claimed = Vec::new();
    while claimed.len() < PER_PASS {
        match state.db.claim_due_batch(now, now + CLAIM_SECS).await? {
            Some(b) => claimed.push(b),
            None => break,
        }
    }
    let n = claimed.len();
    let results: Vec<StoreResult<()>> = stream::iter(claimed)
        .map(|b| deliver(state, outbound, b))
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    for r in results {
        r?;
    }
    Ok(n)
}

async fn deliver(state: &AppState, outbound: &Outbound, b: Batch) -> StoreResult<()> {
    let now = state.clock.now_secs();
    let attempt = u32::try_from(b.attempts + 1).unwrap_or(u32::MAX);
    let sent = match state.db.webhook(b.user_id).await? {
        None => webhook::Sent {
            outcome: "no_webhook",
            http_status: None,
            latency_ms: 0,
            error: Some("the webhook was removed".into()),
        },
        Some(hook) => {
            let items = state.db.batch_notifications(b.user_id, &b.batch).await?;
            let kind = if b.batch.starts_with("digest:") {
                "digest"
            } else {
                "notification"
            };
            let key = idempotency_key(&b);
            let body = webhook::body(kind, &key, now, &items);
            webhook::send(outbound, (&hook.url, &hook.secret), &key, now, body).await
        }
    };
    let next_at = match sent.outcome {
        "sent" | "no_webhook" => None,
        _ => alerts::next_try(b.first_due, state.clock.now_secs(), attempt, jitter()),
    };
    if sent.outcome != "sent" {
        tracing::info!(user.id = b.user_id, batch = %b.batch, outcome = sent.outcome, attempt, next_at, "webhook delivery failed");
    }
    state
        .db
        .finish_attempt(
            &b,
            &AttemptLogRow {
                id: 0,
                batch: b.batch.clone(),
                channel: b.channel.clone(),
                at: state.clock.now_secs(),
                outcome: sent.outcome.to_string(),
                http_status: sent.http_status,
                latency_ms: Some(sent.latency_ms),
                next_at,
                error: sent.error,
            },
        )
        .await
}

/// How often the scheduler looks at the outbox.
pub const EVERY: Duration = Duration::from_secs(1);
