//! Evaluating notification rules (`domain::alerts`) and recording what fired.
//!
//! Reading-driven rules run for the meters the write path touched, noted by
//! [`after_write`] once the readings commit and evaluated by the [`evaluator`] in the
//! background, each meter once per drain; the collector's rule after each collection
//! ([`after_collection`]); time-driven ones (a new day moves the projection) in the jobs leader's pass over every
//! quota meter ([`scheduled_pass`]). What fired is recorded by [`raise`] in one
//! transaction: the episode (unique per meter, so a second evaluation — on this instance
//! or another — tells nobody twice), a notification per recipient, and a delivery per
//! channel in the outbox (`webhook` when the recipient has one, `push` when they
//! subscribed a device, its batch named `push:` + the webhook's batch name), held to the
//! end of the recipient's quiet hours unless urgent and let through.

pub mod evaluator;

use jiff::Timestamp;

use crate::{
    domain::{
        alerts::{self, AlertSettings, Condition, Fired, QuietHours, SensorReading},
        meter::NormalRange,
    },
    server::{
        service::{ingest::NewReading, outlook},
        state::AppState,
        storage::{StoreResult, Tx, meters::MeterRow, notifications::Recipient},
    },
};

/// The condition names in `alert_state`.
const RANGE: &str = "range";
const COLLECTOR: &str = "collector";

/// A meter's rules: its owner's, or the defaults.
pub async fn settings_of(state: &AppState, meter_id: i64) -> StoreResult<AlertSettings> {
    Ok(parse_settings(
        state.db.alert_settings(meter_id).await?.as_deref(),
    ))
}

/// Stored rule settings (JSON); the defaults when there are none or they do not parse.
fn parse_settings(json: Option<&str>) -> AlertSettings {
    json.and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default()
}

/// Queues the reading-driven rules of the meters `readings` touched for the background
/// evaluator ([`evaluator`]), which evaluates each meter once per drain however many
/// writes touched it. Cheap: the readings are stored, and this only notes them. When
/// more than `touched::MAX_HELD` readings wait, the writer drains them itself.
pub async fn after_write(state: &AppState, readings: &[NewReading]) {
    if !state.settings.jobs.notifications {
        return;
    }
    let full = state.touched.add(readings.iter().map(|r| {
        (
            r.meter_id,
            SensorReading {
                ts: r.ts,
                value: r.value,
            },
        )
    }));
    if full {
        evaluator::drain(state).await;
    }
}

/// The reading-driven rules of one meter on `readings` (its new ones, in time order).
pub(super) async fn evaluate_meter(
    state: &AppState,
    meter_id: i64,
    readings: &[SensorReading],
) -> StoreResult<usize> {
    let Some(meter) = state.db.meter(meter_id).await? else {
        return Ok(0);
    };
    if meter.archived_at.is_some() {
        return Ok(0);
    }
    if meter.kind == "quota" {
        // Only live readings move today's standing: a batch whose newest reading is more
        // than two days old (a backfill, an import of history) is left to the
        // scheduler's pass, which sees its effect within minutes, instead of costing
        // every bulk write an outlook per meter.
        let live_since = state.clock.now_secs() - 2 * 86_400;
        if readings.last().is_none_or(|r| r.ts < live_since) {
            return Ok(0);
        }
        let settings = settings_of(state, meter_id).await?;
        return quota_rules(state, &meter, &settings).await;
    }
    let settings = settings_of(state, meter_id).await?;
    let range = NormalRange {
        min: meter.range_min,
        max: meter.range_max,
    };
    if range.min.is_none() && range.max.is_none() {
        return Ok(0);
    }
    // Most batches change nothing (in range before and after): judged on a plain read,
    // they cost no write. A change is judged again inside the write, under the meter's
    // lock, from the state as it is then.
    let stored = state.db.alert_state(meter_id, RANGE).await?;
    if step_all(&settings, &meter, &range, stored, readings).is_none() {
        return Ok(0);
    }
    let now = state.clock.now_secs();
    let mut tx = state.db.begin_write().await?;
    tx.lock_meters(&[meter_id]).await?;
    let stored = tx.alert_state(meter_id, RANGE).await?;
    let Some((cond, fired, newest)) = step_all(&settings, &meter, &range, stored, readings) else {
        return Ok(0);
    };
    tx.set_alert_state(meter_id, RANGE, cond.map(|c| (c.since, c.fired)), newest)
        .await?;
    let told = record(&mut tx, &meter, &fired, now).await?;
    tx.commit().await?;
    Ok(told)
}

/// The readings after the last one judged, through the range rule from the stored state
/// (since, fired, last judged); `None` when that changes nothing worth storing.
fn step_all(
    settings: &AlertSettings,
    meter: &MeterRow,
    range: &NormalRange,
    stored: Option<(i64, bool, i64)>,
    readings: &[SensorReading],
) -> Option<(Option<Condition>, Vec<Fired>, i64)> {
    let last_ts = stored.map_or(i64::MIN, |s| s.2);
    let before = stored
        .filter(|s| s.0 != 0)
        .map(|(since, fired, _)| Condition { since, fired });
    let (mut cond, mut fired, mut newest) = (before, Vec::new(), last_ts);
    // Only readings after the last one judged: a late reading does not rewrite history.
    for r in readings.iter().filter(|r| r.ts > last_ts) {
        let (next, f) = alerts::range_step(settings, &meter.name, &meter.unit, range, cond, *r);
        cond = next;
        fired.extend(f);
        newest = r.ts;
    }
    (cond != before || !fired.is_empty()).then_some((cond, fired, newest))
}

/// The quota rules on the meter's outlook of today.
async fn quota_rules(
    state: &AppState,
    meter: &MeterRow,
    settings: &AlertSettings,
) -> StoreResult<usize> {
    if !settings.enabled {
        return Ok(0);
    }
    let outlook = match outlook::quota_meter(state, meter).await {
        Ok(Some((_, o))) => o,
        Ok(None) => return Ok(0),
        Err(crate::server::service::ServiceError::Store(e)) => return Err(e),
        Err(_) => return Ok(0),
    };
    let fired = alerts::quota_alerts(settings, &outlook);
    raise(state, meter, &fired).await
}

/// The collector's rule after a collection of `meter_id`; `failures` in a row, 0 after a
/// success. Runs on the jobs leader, which alone collects.
pub async fn after_collection(state: &AppState, meter_id: i64, failures: u32) {
    if !state.settings.jobs.notifications {
        return;
    }
    let run = async {
        let Some(meter) = state.db.meter(meter_id).await? else {
            return Ok(0);
        };
        let settings = settings_of(state, meter_id).await?;
        let now = state.clock.now_secs();
        let mut tx = state.db.begin_write().await?;
        tx.lock_meters(&[meter_id]).await?;
        let cond = tx
            .alert_state(meter_id, COLLECTOR)
            .await?
            .filter(|s| s.0 != 0)
            .map(|(since, fired, _)| Condition { since, fired });
        let (next, fired) = alerts::collector_step(&settings, &meter.name, cond, failures, now);
        if next != cond {
            tx.set_alert_state(meter_id, COLLECTOR, next.map(|c| (c.since, c.fired)), now)
                .await?;
        }
        let told = record(&mut tx, &meter, &Vec::from_iter(fired), now).await?;
        tx.commit().await?;
        StoreResult::Ok(told)
    };
    if let Err(e) = run.await {
        tracing::warn!(meter.id = meter_id, error = %e, "collector rule not evaluated");
    }
}

/// Quota meters read and judged together in the scheduler's pass.
const PASS_PAGE: i64 = 500;
/// Meters whose notifications one write of the pass records: a short hold on SQLite's
/// single writer, so ingest waits a few milliseconds at most.
const PASS_WRITE: usize = 50;

/// The jobs leader's pass: the quota rules of every active quota meter (a new day moves
/// the projection and starts a new day's budget without any reading). Reads a page of
/// meters, their settings and their last week in three queries, and writes only where
/// an episode is new. Returns how many notifications it made.
pub async fn scheduled_pass(state: &AppState) -> StoreResult<usize> {
    if !state.settings.jobs.notifications {
        return Ok(0);
    }
    // Pages at once, a quarter of the pool (at least two): while one page's rows are
    // read on a database connection, another's are judged, and on PostgreSQL, where a
    // first pass is round trips (a claim, the recipients, a notification and its
    // deliveries per meter told), their writes overlap.
    let at_once = (state.db.pool_max() as usize / 4).max(2);
    let (mut told, mut after) = (0, 0);
    loop {
        let mut pages = Vec::with_capacity(at_once);
        for _ in 0..at_once {
            let page = state.db.quota_meters_after(after, PASS_PAGE).await?;
            let Some(last) = page.last() else {
                break;
            };
            after = last.id;
            pages.push(page);
        }
        if pages.is_empty() {
            break;
        }
        let done = futures::future::try_join_all(pages.iter().map(|p| pass_page(state, p))).await?;
        told += done.iter().sum::<usize>();
    }
    Ok(told)
}

/// One page of the scheduler's pass.
async fn pass_page(state: &AppState, page: &[MeterRow]) -> StoreResult<usize> {
    let ids: Vec<i64> = page.iter().map(|m| m.id).collect();
    let stored = state.db.alert_settings_of(&ids).await?;
    let outlooks = outlook::quota_meters_today(state, page).await?;
    let mut due: Vec<(&MeterRow, Vec<Fired>)> = Vec::new();
    for (m, o) in page.iter().zip(outlooks) {
        let settings = parse_settings(stored.get(&m.id).map(String::as_str));
        let fired = match o {
            Some(o) if settings.enabled => alerts::quota_alerts(&settings, &o),
            _ => continue,
        };
        if !fired.is_empty() {
            due.push((m, fired));
        }
    }
    // Most of what is due was told on an earlier pass (a meter stays above 80 % for
    // days): its episode is claimed, and leaving it out here keeps such a pass a read.
    // `record` claims again inside the write, so a race only costs a write.
    let wanted: Vec<(i64, &str)> = due
        .iter()
        .flat_map(|(m, f)| f.iter().map(|f| (m.id, f.episode.as_str())))
        .collect();
    let claimed = state.db.claimed_episodes(&wanted).await?;
    let due: Vec<(&MeterRow, Vec<Fired>)> = due
        .into_iter()
        .map(|(m, f)| {
            let f: Vec<Fired> = f
                .into_iter()
                .filter(|f| !claimed.contains(&(m.id, f.episode.clone())))
                .collect();
            (m, f)
        })
        .filter(|(_, f)| !f.is_empty())
        .collect();
    let mut told = 0;
    for writes in due.chunks(PASS_WRITE) {
        let now = state.clock.now_secs();
        let mut tx = state.db.begin_write().await?;
        for (m, fired) in writes {
            told += record(&mut tx, m, fired, now).await?;
        }
        tx.commit().await?;
    }
    Ok(told)
}

/// Records `fired` for `meter` in one transaction; returns the notifications made.
pub async fn raise(state: &AppState, meter: &MeterRow, fired: &[Fired]) -> StoreResult<usize> {
    if fired.is_empty() {
        return Ok(0);
    }
    let now = state.clock.now_secs();
    let mut tx = state.db.begin_write().await?;
    let told = record(&mut tx, meter, fired, now).await?;
    tx.commit().await?;
    Ok(told)
}

/// Inside the caller's transaction: claims each episode and, where the claim took,
/// makes a notification per recipient and queues its deliveries.
async fn record(tx: &mut Tx, meter: &MeterRow, fired: &[Fired], now: i64) -> StoreResult<usize> {
    let mut told = 0;
    let mut recipients: Option<Vec<Recipient>> = None;
    for f in fired {
        for other in &f.also_claims {
            tx.claim_episode(meter.id, other, now).await?;
        }
        if !tx.claim_episode(meter.id, &f.episode, now).await? {
            continue;
        }
        if recipients.is_none() {
            recipients = Some(tx.recipients(meter.id).await?);
        }
        for r in recipients.iter().flatten() {
            let id = tx
                .insert_notification(
                    r.id,
                    Some(meter.id),
                    &f.rule.name(),
                    &f.episode,
                    (&f.title, &f.body),
                    f.urgent,
                    now,
                )
                .await?;
            told += 1;
            if r.has_webhook || r.has_push {
                let (due, batch) = schedule(r, f.urgent, now);
                if r.has_webhook {
                    tx.insert_delivery(r.id, id, "webhook", batch.as_deref(), due)
                        .await?;
                }
                if r.has_push {
                    // Its own batch name: a batch is claimed and settled as one, per
                    // channel.
                    let batch = format!("push:{}", batch.unwrap_or_else(|| format!("n{id}")));
                    tx.insert_delivery(r.id, id, "push", Some(&batch), due)
                        .await?;
                }
            }
        }
    }
    Ok(told)
}

/// When a recipient's delivery goes out, and with which batch: at once and alone, or
/// at the end of their quiet hours with the rest of that night's (one digest).
fn schedule(r: &Recipient, urgent: bool, now: i64) -> (i64, Option<String>) {
    let quiet = match (r.quiet_start, r.quiet_end) {
        (Some(s), Some(e)) => QuietHours::new(s as u16, e as u16).ok(),
        _ => None,
    };
    let held = quiet
        .filter(|_| !(urgent && r.urgent_through))
        .and_then(|q| {
            let at = Timestamp::from_second(now).ok()?;
            q.held_until(at, &outlook::timezone(&r.timezone))
        });
    match held {
        Some(until) => (
            until.as_second(),
            Some(format!("digest:{}", until.as_second())),
        ),
        None => (now, None),
    }
}
