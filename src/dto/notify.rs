//! Notifications as their user sees them: the list and unread count, quiet hours, the
//! webhook, and what happened to each delivery.

use serde::{Deserialize, Serialize};

use crate::domain::alerts::AlertSettings;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Notification {
    pub id: i64,
    pub meter_id: Option<i64>,
    /// `quota_80`, `over_today`, `run_out`, `out_of_range`, `back_in_range`,
    /// `collector_failing`, `collector_recovered`, or `test`.
    pub rule: String,
    pub title: String,
    pub body: String,
    pub urgent: bool,
    /// Unix seconds.
    pub created_at: i64,
    pub read_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotificationList {
    pub items: Vec<Notification>,
    pub unread: i64,
    /// Pass as `before` for the next, older page; `None` at the end.
    pub next_before: Option<i64>,
}

/// A user's delivery settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotifySettings {
    /// Quiet hours, `HH:MM` in the user's timezone; both or neither.
    pub quiet_start: Option<String>,
    pub quiet_end: Option<String>,
    /// Urgent notifications (quota used up, running out) are sent during quiet hours.
    pub urgent_through: bool,
    pub timezone: String,
}

/// The user's webhook, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Webhook {
    pub url: String,
    pub created_at: i64,
}

/// A webhook just set: its secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewWebhook {
    pub url: String,
    pub secret: String,
    pub created_at: i64,
}

/// One attempt at sending a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeliveryAttempt {
    pub id: i64,
    pub channel: String,
    /// The deliveries sent together: `n<notification id>`, or `digest:<until>`.
    pub batch: String,
    pub at: i64,
    /// `sent`, `failed`, `timeout`, `refused` or `no_webhook`.
    pub outcome: String,
    pub http_status: Option<i64>,
    pub latency_ms: Option<i64>,
    /// When it is tried again; `None` after success or when given up.
    pub next_at: Option<i64>,
    pub error: Option<String>,
}

/// A delivery given up after a day of retries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeadLetter {
    /// Resend with `POST /api/v1/deliveries/{id}/resend`.
    pub id: i64,
    pub channel: String,
    pub batch: String,
    pub first_due: i64,
    pub attempts: i64,
    pub notifications: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Deliveries {
    pub attempts: Vec<DeliveryAttempt>,
    pub dead_letters: Vec<DeadLetter>,
}

/// A meter's notification rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MeterRules {
    pub meter_id: i64,
    pub kind: String,
    /// Whether these are the defaults (never edited).
    pub defaults: bool,
    pub settings: AlertSettings,
}

/// What a test delivery to the webhook did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookTest {
    pub outcome: String,
    pub http_status: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

/// Everything the notifications page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InboxPage {
    pub list: NotificationList,
    pub settings: NotifySettings,
    pub webhook: Option<Webhook>,
    pub deliveries: Deliveries,
    /// The server's VAPID public key (base64url, uncompressed P-256 point) for
    /// `PushManager.subscribe`.
    pub push_key: String,
    pub push_devices: Vec<PushDevice>,
}

/// A device subscribed to Web Push. Only the push service's origin is shown: the whole
/// endpoint is the device's address and stays on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PushDevice {
    pub id: i64,
    pub service: String,
    pub created_at: i64,
}

/// A browser's subscription as `PushSubscription.toJSON()` gives it. Every field is
/// optional here so a missing one is answered 422 with its name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewPushSubscription {
    pub endpoint: Option<String>,
    #[serde(default)]
    pub keys: PushKeys,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PushKeys {
    pub p256dh: Option<String>,
    pub auth: Option<String>,
}
