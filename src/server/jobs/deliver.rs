//! Sending the outbox: the jobs leader claims due batches of deliveries, posts each to its
//! webhook (`service::webhook`) or to every device its user subscribed to Web Push
//! (`service::push`), always through the outbound policy, and records each attempt.
//!
//! A push message lives (`TTL`) until the user's next morning outlook (05:00 local, when
//! the warmer computes it), is replaced by a newer one about the same meter (`Topic`)
//! while a device is offline, and is `high` urgency when a rule is urgent. A device whose
//! push service answers 404 or 410 has unsubscribed: its subscription is removed and that
//! attempt is not retried. A push batch that failed on some device is tried again on all
//! of them; a device that already showed it gets the same tag, which replaces the shown
//! notification instead of adding one.
//!
//! A claim lasts `HEADROOM_DELIVERY_CLAIM_SECS` (60 s; at least 15, longer than a
//! request's 10 s); a process killed while sending leaves its batch claimed until then, and the next leader sends it again, with
//! the same idempotency key. A failure is tried again with capped exponential back-off
//! and jitter (`domain::alerts::next_try`) for a day, then becomes a dead letter.

use std::time::Duration;

use futures::{StreamExt, stream};

use crate::{
    domain::alerts,
    server::{
        jobs::warmer::WARM_AT_HOUR,
        outbound::Outbound,
        service::{outlook::timezone, push, webhook},
        state::AppState,
        storage::{
            StoreResult,
            notifications::{AttemptLogRow, Batch, Settle},
        },
    },
};

/// Batches claimed in one pass; a full pass is followed by another at once (up to
/// [`PASSES_PER_TICK`]), the rest waits for the next tick, a second later.
pub const PER_PASS: usize = 64;
/// Full passes one tick may run back to back, so a backlog drains at the receivers' pace
/// rather than `PER_PASS` a second, and a tick still ends.
pub const PASSES_PER_TICK: usize = 16;
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
    let claim_until = now + state.settings.jobs.delivery_claim_secs;
    let mut claimed = Vec::new();
    while claimed.len() < PER_PASS {
        match state.db.claim_due_batch(now, claim_until).await? {
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
    if b.channel == "push" {
        return deliver_push(state, outbound, b).await;
    }
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

/// Sends a push batch to each of its user's devices: one attempt logged per device.
async fn deliver_push(state: &AppState, outbound: &Outbound, b: Batch) -> StoreResult<()> {
    let now = state.clock.now_secs();
    let attempt = u32::try_from(b.attempts + 1).unwrap_or(u32::MAX);
    let devices = state.db.push_subscriptions(b.user_id).await?;
    let log = |sent: webhook::Sent, next_at: Option<i64>| AttemptLogRow {
        id: 0,
        batch: b.batch.clone(),
        channel: b.channel.clone(),
        at: state.clock.now_secs(),
        outcome: sent.outcome.to_string(),
        http_status: sent.http_status,
        latency_ms: Some(sent.latency_ms),
        next_at,
        error: sent.error,
    };
    if devices.is_empty() {
        let none = webhook::Sent {
            outcome: "no_subscription",
            http_status: None,
            latency_ms: 0,
            error: Some("no device is subscribed any more".into()),
        };
        return state
            .db
            .finish_attempts(&b, &[log(none, None)], Settle::Failed(None), now)
            .await;
    }
    let vapid = match push::vapid(state).await {
        Ok(v) => v,
        Err(crate::server::service::ServiceError::Store(e)) => return Err(e),
        Err(e) => {
            tracing::error!(error = %e, "no VAPID key: push not sent");
            let next = alerts::next_try(b.first_due, now, attempt, jitter());
            let failed = webhook::Sent {
                outcome: "failed",
                http_status: None,
                latency_ms: 0,
                error: Some("the server's push key is unusable".into()),
            };
            return state
                .db
                .finish_attempts(&b, &[log(failed, next)], Settle::Failed(next), now)
                .await;
        }
    };
    let items = state.db.batch_notifications(b.user_id, &b.batch).await?;
    let message = push::message(&items);
    let tz = state
        .db
        .user_by_id(b.user_id)
        .await?
        .map_or(jiff::tz::TimeZone::UTC, |u| timezone(&u.timezone));
    let ttl = alerts::secs_until_local_hour(state.clock.now(), &tz, WARM_AT_HOUR);
    // At most `push::MAX_DEVICES` requests, all at once.
    let mut sends = Vec::with_capacity(devices.len());
    for d in &devices {
        sends.push(push::send(outbound, &vapid, d, &message, ttl, now));
    }
    let sent: Vec<webhook::Sent> = futures::future::join_all(sends).await;
    for (d, s) in devices.iter().zip(&sent) {
        if s.outcome == "gone" {
            state
                .db
                .remove_gone_push_subscription(d.id, &d.p256dh)
                .await?;
        }
    }
    let failed = sent.iter().any(|s| !matches!(s.outcome, "sent" | "gone"));
    let next_at = if failed {
        alerts::next_try(b.first_due, state.clock.now_secs(), attempt, jitter())
    } else {
        None
    };
    let settle = if failed {
        Settle::Failed(next_at)
    } else if sent.iter().any(|s| s.outcome == "sent") {
        Settle::Sent
    } else {
        // Every device had unsubscribed: nobody is left to send it to.
        Settle::Failed(None)
    };
    if failed {
        tracing::info!(user.id = b.user_id, batch = %b.batch, attempt, next_at, "push delivery failed");
    }
    let rows: Vec<AttemptLogRow> = sent
        .into_iter()
        .map(|s| {
            let next = (!matches!(s.outcome, "sent" | "gone"))
                .then_some(next_at)
                .flatten();
            log(s, next)
        })
        .collect();
    state
        .db
        .finish_attempts(&b, &rows, settle, state.clock.now_secs())
        .await
}

/// How often the scheduler looks at the outbox.
pub const EVERY: Duration = Duration::from_secs(1);
