//! Creating, changing, listing and archiving meters. Every function is scoped to the
//! caller: another user's meter is "not found", never "forbidden", so ids reveal nothing.

use jiff::tz::TimeZone;

use crate::{
    domain::{
        DomainError,
        meter::{MeterDraft, MeterKind, MeterSpec},
        period::day_number,
    },
    dto::{LatestReading, MeterView},
    server::{
        auth::CurrentUser,
        service::{
            ServiceError, ServiceResult, freshness, ingest, outlook::timezone, time::rfc3339,
        },
        state::AppState,
        storage::meters::{MeterRow, MeterUpdate, NewMeter},
    },
};

fn timezone_exists(name: &str) -> bool {
    TimeZone::get(name).is_ok()
}

/// The caller's meter `id`, archived or not.
pub async fn owned(state: &AppState, user: &CurrentUser, id: i64) -> ServiceResult<MeterRow> {
    state
        .db
        .meter(id)
        .await?
        .filter(|m| m.owner_id == user.id)
        .ok_or(ServiceError::NotFound)
}

pub async fn view(state: &AppState, m: &MeterRow) -> ServiceResult<MeterView> {
    let today = day_number(state.clock.now().to_zoned(timezone(&m.timezone)).date());
    let latest = state
        .db
        .latest_daily_at_or_before(m.id, today + 1)
        .await?
        .map(|d| LatestReading {
            at: rfc3339(d.last_ts),
            value: d.last,
        });
    Ok(MeterView {
        id: m.id,
        kind: m.kind.clone(),
        name: m.name.clone(),
        unit: m.unit.clone(),
        timezone: m.timezone.clone(),
        quota: m.quota,
        reset_rule: m.reset_rule.clone(),
        range_min: m.range_min,
        range_max: m.range_max,
        archived: m.archived_at.is_some(),
        created_at: rfc3339(m.created_at),
        latest,
    })
}

pub async fn list(state: &AppState, user: &CurrentUser) -> ServiceResult<Vec<MeterView>> {
    let mut out = Vec::new();
    for m in state.db.meters_of(user.id).await? {
        out.push(view(state, &m).await?);
    }
    Ok(out)
}

pub async fn create(
    state: &AppState,
    user: &CurrentUser,
    draft: &MeterDraft,
) -> ServiceResult<MeterRow> {
    let spec = MeterSpec::parse(draft, timezone_exists)?;
    let rule = spec.quota.map(|(_, r)| r.to_string());
    let id = state
        .db
        .create_meter(&NewMeter {
            owner_id: user.id,
            kind: spec.kind.as_str(),
            name: spec.name.as_str(),
            unit: spec.unit.as_str(),
            timezone: &spec.timezone,
            quota: spec.quota.map(|(q, _)| q.get()),
            reset_rule: rule.as_deref(),
            range_min: spec.range.min,
            range_max: spec.range.max,
            position: state.db.next_meter_position(user.id).await?,
            created_at: state.clock.now_secs(),
        })
        .await?;
    tracing::info!(meter.id = id, user.id = user.id, "meter created");
    freshness::meter_changed(state, id, user.id).await;
    owned(state, user, id).await
}

/// Applies the fields present in `patch`; absent ones keep their value. A meter's kind
/// cannot change (its history would mean something else).
pub async fn update(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    patch: &MeterDraft,
) -> ServiceResult<MeterRow> {
    let current = owned(state, user, id).await?;
    if patch.kind.as_deref().is_some_and(|k| k != current.kind) {
        return Err(DomainError::new("kind", "cannot change after the meter is created").into());
    }
    let draft = MeterDraft {
        kind: Some(current.kind.clone()),
        name: patch.name.clone().or(Some(current.name.clone())),
        unit: patch.unit.clone().or(Some(current.unit.clone())),
        timezone: patch.timezone.clone().or(Some(current.timezone.clone())),
        quota: patch.quota.or(current.quota),
        reset_rule: patch.reset_rule.clone().or(current.reset_rule.clone()),
        range_min: patch.range_min.or(current.range_min),
        range_max: patch.range_max.or(current.range_max),
    };
    let spec = MeterSpec::parse(&draft, timezone_exists)?;
    let rule = spec.quota.map(|(_, r)| r.to_string());
    state
        .db
        .update_meter(
            id,
            &MeterUpdate {
                name: spec.name.as_str(),
                unit: spec.unit.as_str(),
                timezone: &spec.timezone,
                quota: spec.quota.map(|(q, _)| q.get()),
                reset_rule: rule.as_deref(),
                range_min: spec.range.min,
                range_max: spec.range.max,
            },
        )
        .await?;
    let updated = owned(state, user, id).await?;
    // Daily rollups are keyed by local day and carry budgets: a new timezone, quota or
    // reset rule changes them all.
    let rules_changed = updated.timezone != current.timezone
        || updated.quota != current.quota
        || updated.reset_rule != current.reset_rule;
    if rules_changed {
        ingest::rebuild_local_rollups(&state.db, &updated).await?;
    }
    tracing::info!(meter.id = id, rebuilt = rules_changed, "meter updated");
    freshness::meter_changed(state, id, user.id).await;
    Ok(updated)
}

pub async fn archive(state: &AppState, user: &CurrentUser, id: i64) -> ServiceResult<MeterRow> {
    owned(state, user, id).await?;
    state.db.archive_meter(id, state.clock.now_secs()).await?;
    freshness::meter_changed(state, id, user.id).await;
    tracing::info!(meter.id = id, "meter archived");
    owned(state, user, id).await
}

/// The meter's kind, for callers that treat quota meters and sensors differently.
pub fn kind_of(m: &MeterRow) -> MeterKind {
    MeterKind::parse(&m.kind).unwrap_or(MeterKind::Sensor)
}
