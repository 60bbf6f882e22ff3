//! Creating, changing, listing and archiving meters. Every function asks
//! `service::access` first: a meter the caller has no standing on is "not found", never
//! "forbidden", so ids reveal nothing; one shared with them to view refuses changes.

use jiff::tz::TimeZone;

use crate::{
    domain::{
        DomainError,
        access::MeterAction,
        meter::{MeterDraft, MeterKind, MeterSpec},
        period::day_number,
    },
    dto::{LatestReading, MeterView},
    server::{
        auth::CurrentUser,
        service::{
            ServiceResult,
            access::{self, MeterAccess},
            freshness, ingest,
            outlook::timezone,
            time::rfc3339,
        },
        state::AppState,
        storage::meters::{MeterRow, MeterUpdate, NewMeter},
    },
};

fn timezone_exists(name: &str) -> bool {
    TimeZone::get(name).is_ok()
}

/// Meter `id`, archived or not, if the caller may do `action` to it.
pub async fn allowed(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    action: MeterAction,
) -> ServiceResult<MeterRow> {
    Ok(access::meter(state, user, id, action).await?.meter)
}

pub async fn view(state: &AppState, a: &MeterAccess) -> ServiceResult<MeterView> {
    let m = &a.meter;
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
        access: a.grant.as_str().into(),
        shared_by: a.shared().then(|| a.owner_name.clone()),
    })
}

/// The caller's meters and those shared with them, their own first.
pub async fn list(state: &AppState, user: &CurrentUser) -> ServiceResult<Vec<MeterView>> {
    let mut out = Vec::new();
    for a in access::visible(state, user.id, false, access::token_meters(user)).await? {
        out.push(view(state, &a).await?);
    }
    Ok(out)
}

/// Meter `id` as the caller may see it.
pub async fn show(state: &AppState, user: &CurrentUser, id: i64) -> ServiceResult<MeterView> {
    let a = access::meter(state, user, id, MeterAction::Read).await?;
    view(state, &a).await
}

pub async fn create(
    state: &AppState,
    user: &CurrentUser,
    draft: &MeterDraft,
) -> ServiceResult<MeterAccess> {
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
    freshness::meter_changed(state, id).await;
    access::meter(state, user, id, MeterAction::Manage).await
}

/// Applies the fields present in `patch`; absent ones keep their value. A meter's kind
/// cannot change (its history would mean something else).
pub async fn update(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    patch: &MeterDraft,
) -> ServiceResult<MeterAccess> {
    let current = allowed(state, user, id, MeterAction::Edit).await?;
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
    let after = access::meter(state, user, id, MeterAction::Edit).await?;
    let updated = &after.meter;
    // Daily rollups are keyed by local day and carry budgets: a new timezone, quota or
    // reset rule changes them all.
    let rules_changed = updated.timezone != current.timezone
        || updated.quota != current.quota
        || updated.reset_rule != current.reset_rule;
    if rules_changed {
        ingest::rebuild_local_rollups(&state.db, updated).await?;
    }
    tracing::info!(meter.id = id, rebuilt = rules_changed, "meter updated");
    freshness::meter_changed(state, id).await;
    Ok(after)
}

pub async fn archive(state: &AppState, user: &CurrentUser, id: i64) -> ServiceResult<MeterAccess> {
    allowed(state, user, id, MeterAction::Manage).await?;
    state.db.archive_meter(id, state.clock.now_secs()).await?;
    freshness::meter_changed(state, id).await;
    tracing::info!(meter.id = id, "meter archived");
    access::meter(state, user, id, MeterAction::Manage).await
}

/// The meter's kind, for callers that treat quota meters and sensors differently.
pub fn kind_of(m: &MeterRow) -> MeterKind {
    MeterKind::parse(&m.kind).unwrap_or(MeterKind::Sensor)
}
