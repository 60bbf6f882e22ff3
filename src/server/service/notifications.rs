//! A user's notifications: the list and unread count, marking read, quiet hours, their
//! webhook (set, test, remove), the delivery log and dead letters; a meter's rules.

use crate::{
    domain::{
        DomainError,
        access::MeterAction,
        alerts::{AlertSettings, QuietHours},
    },
    dto::notify::{
        DeadLetter, Deliveries, DeliveryAttempt, MeterRules, NewWebhook, Notification,
        NotificationList, NotifySettings, Webhook, WebhookTest,
    },
    server::{
        auth::CurrentUser,
        outbound::Outbound,
        service::{ServiceError, ServiceResult, access, alerts, webhook},
        state::AppState,
        storage::notifications::{NotificationRow, NotifySettingsRow},
    },
};

/// The most a page of the list holds.
pub const MAX_PAGE: i64 = 100;

fn to_dto(n: NotificationRow) -> Notification {
    Notification {
        id: n.id,
        meter_id: n.meter_id,
        rule: n.rule,
        title: n.title,
        body: n.body,
        urgent: n.urgent,
        created_at: n.created_at,
        read_at: n.read_at,
    }
}

pub async fn list(
    state: &AppState,
    user: &CurrentUser,
    unread_only: bool,
    before: Option<i64>,
    limit: Option<i64>,
) -> ServiceResult<NotificationList> {
    let limit = limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(DomainError::new("limit", format!("from 1 to {MAX_PAGE}")).into());
    }
    let rows = state
        .db
        .notifications(user.id, unread_only, before, limit)
        .await?;
    let next_before = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    Ok(NotificationList {
        items: rows.into_iter().map(to_dto).collect(),
        unread: state.db.unread_count(user.id).await?,
        next_before,
    })
}

pub async fn unread(state: &AppState, user_id: i64) -> ServiceResult<i64> {
    Ok(state.db.unread_count(user_id).await?)
}

pub async fn mark_read(state: &AppState, user: &CurrentUser, id: i64) -> ServiceResult<()> {
    if state
        .db
        .mark_read(user.id, id, state.clock.now_secs())
        .await?
    {
        Ok(())
    } else {
        Err(ServiceError::NotFound)
    }
}

/// Marks read everything up to `up_to` (what the user saw), or all; how many.
pub async fn mark_all_read(
    state: &AppState,
    user: &CurrentUser,
    up_to: Option<i64>,
) -> ServiceResult<u64> {
    Ok(state
        .db
        .mark_all_read(user.id, up_to, state.clock.now_secs())
        .await?)
}

pub async fn settings(state: &AppState, user: &CurrentUser) -> ServiceResult<NotifySettings> {
    let row = state.db.notify_settings(user.id).await?;
    let clock = |m: Option<i64>| m.map(|m| QuietHours::clock(m as u16));
    Ok(NotifySettings {
        quiet_start: clock(row.as_ref().and_then(|r| r.quiet_start)),
        quiet_end: clock(row.as_ref().and_then(|r| r.quiet_end)),
        urgent_through: row.is_none_or(|r| r.urgent_through),
        timezone: user.timezone.clone(),
    })
}

/// Sets quiet hours (`HH:MM` both, or neither) and whether urgent messages pass them.
pub async fn put_settings(
    state: &AppState,
    user: &CurrentUser,
    quiet_start: Option<&str>,
    quiet_end: Option<&str>,
    urgent_through: bool,
) -> ServiceResult<NotifySettings> {
    fn blank(v: Option<&str>) -> Option<&str> {
        v.map(str::trim).filter(|v| !v.is_empty())
    }
    let (start, end) = match (blank(quiet_start), blank(quiet_end)) {
        (None, None) => (None, None),
        (Some(s), Some(e)) => {
            let q = QuietHours::new(
                QuietHours::parse_clock("quiet_start", s)?,
                QuietHours::parse_clock("quiet_end", e)?,
            )?;
            (Some(i64::from(q.start)), Some(i64::from(q.end)))
        }
        (Some(_), None) => {
            return Err(DomainError::new("quiet_end", "give both times, or neither").into());
        }
        (None, Some(_)) => {
            return Err(DomainError::new("quiet_start", "give both times, or neither").into());
        }
    };
    state
        .db
        .put_notify_settings(
            user.id,
            &NotifySettingsRow {
                quiet_start: start,
                quiet_end: end,
                urgent_through,
            },
        )
        .await?;
    settings(state, user).await
}

pub async fn webhook_of(state: &AppState, user: &CurrentUser) -> ServiceResult<Option<Webhook>> {
    Ok(state.db.webhook(user.id).await?.map(|w| Webhook {
        url: w.url,
        created_at: w.created_at,
    }))
}

/// Sets the user's webhook with a new secret, returned this once. The address must pass
/// the outbound policy as far as it can be judged without resolving (scheme, IP
/// literal); a name is judged at each delivery.
pub async fn set_webhook(
    state: &AppState,
    user: &CurrentUser,
    url: &str,
) -> ServiceResult<NewWebhook> {
    let url = url.trim();
    if url.is_empty() || url.len() > webhook::MAX_URL_LEN {
        return Err(DomainError::new(
            "url",
            format!(
                "an http(s) address of at most {} characters",
                webhook::MAX_URL_LEN
            ),
        )
        .into());
    }
    let parsed =
        url::Url::parse(url).map_err(|_| DomainError::new("url", "not a valid address"))?;
    let outbound = Outbound::from_settings(&state.settings).map_err(anyhow::Error::from)?;
    outbound
        .policy()
        .check_url(&parsed)
        .map_err(|refused| DomainError::new("url", refused.to_string()))?;
    let secret = webhook::new_secret();
    let now = state.clock.now_secs();
    state.db.put_webhook(user.id, url, &secret, now).await?;
    Ok(NewWebhook {
        url: url.to_string(),
        secret,
        created_at: now,
    })
}

pub async fn delete_webhook(state: &AppState, user: &CurrentUser) -> ServiceResult<()> {
    if state.db.delete_webhook(user.id).await? {
        Ok(())
    } else {
        Err(ServiceError::NotFound)
    }
}

/// Sends a signed test message to the user's webhook now and says what happened (not
/// through the outbox: the user is waiting for the answer).
pub async fn test_webhook(state: &AppState, user: &CurrentUser) -> ServiceResult<WebhookTest> {
    let hook = state
        .db
        .webhook(user.id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let outbound = Outbound::from_settings(&state.settings).map_err(anyhow::Error::from)?;
    let now = state.clock.now_secs();
    let key = format!("hr-{}-test-{now}", user.id);
    let sample = NotificationRow {
        id: 0,
        meter_id: None,
        rule: "test".into(),
        title: "Headroom test".into(),
        body: "Your webhook works: this is what a notification looks like.".into(),
        urgent: false,
        created_at: now,
        read_at: None,
    };
    let body = webhook::body("test", &key, now, &[sample]);
    let sent = webhook::send(&outbound, (&hook.url, &hook.secret), &key, now, body).await;
    Ok(WebhookTest {
        outcome: sent.outcome.to_string(),
        http_status: sent.http_status,
        latency_ms: sent.latency_ms,
        error: sent.error,
    })
}

pub async fn deliveries(state: &AppState, user: &CurrentUser) -> ServiceResult<Deliveries> {
    let attempts = state
        .db
        .delivery_log(user.id, 100)
        .await?
        .into_iter()
        .map(|a| DeliveryAttempt {
            id: a.id,
            channel: a.channel,
            batch: a.batch,
            at: a.at,
            outcome: a.outcome,
            http_status: a.http_status,
            latency_ms: a.latency_ms,
            next_at: a.next_at,
            error: a.error,
        })
        .collect();
    let dead_letters = state
        .db
        .dead_letters(user.id)
        .await?
        .into_iter()
        .map(|d| DeadLetter {
            id: d.id,
            channel: d.channel,
            batch: d.batch,
            first_due: d.first_due,
            attempts: d.attempts,
            notifications: d.notifications,
        })
        .collect();
    Ok(Deliveries {
        attempts,
        dead_letters,
    })
}

/// Sends a dead letter again, with a new day of retries.
pub async fn resend(state: &AppState, user: &CurrentUser, id: i64) -> ServiceResult<()> {
    if state
        .db
        .resend_dead(user.id, id, state.clock.now_secs())
        .await?
    {
        Ok(())
    } else {
        Err(ServiceError::NotFound)
    }
}

/// A meter's rules; anyone who sees the meter may read them.
pub async fn meter_rules(
    state: &AppState,
    user: &CurrentUser,
    meter_id: i64,
) -> ServiceResult<MeterRules> {
    let m = access::meter(state, user, meter_id, MeterAction::Read).await?;
    let stored = state.db.alert_settings(meter_id).await?;
    Ok(MeterRules {
        meter_id,
        kind: m.meter.kind,
        defaults: stored.is_none(),
        settings: alerts::settings_of(state, meter_id).await?,
    })
}

/// Sets a meter's rules; only whoever manages the meter (its owner) may.
pub async fn put_meter_rules(
    state: &AppState,
    user: &CurrentUser,
    meter_id: i64,
    settings: AlertSettings,
) -> ServiceResult<MeterRules> {
    access::meter(state, user, meter_id, MeterAction::Manage).await?;
    let settings = settings.validate()?;
    let json = serde_json::to_string(&settings)?;
    state.db.put_alert_settings(meter_id, &json).await?;
    meter_rules(state, user, meter_id).await
}
