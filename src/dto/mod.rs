//! Types that cross the wire between the server and the browser (server functions and the
//! JSON API). They carry display-ready facts; the rules that produce them live in `domain`.

use serde::{Deserialize, Serialize};

pub mod accounts;
pub mod notify;
pub mod perf;
pub mod series;

/// Who is signed in, as the UI needs to know it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionUser {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub plan_tier: String,
    pub timezone: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }
}

/// A meter hour by hour (the timeline of its page and of the API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Timeline {
    pub meter_id: i64,
    pub unit: String,
    /// Quota meters show consumption per hour; sensors the hour's mean, low and high.
    pub counter: bool,
    pub hours: Vec<crate::domain::outlook::trends::HourPoint>,
}

/// A meter as the API and the meter pages show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MeterView {
    pub id: i64,
    /// `quota` or `sensor`.
    pub kind: String,
    pub name: String,
    pub unit: String,
    pub timezone: String,
    pub quota: Option<f64>,
    pub reset_rule: Option<String>,
    pub range_min: Option<f64>,
    pub range_max: Option<f64>,
    pub archived: bool,
    /// RFC 3339.
    pub created_at: String,
    pub latest: Option<LatestReading>,
    /// The caller's standing on it: `owner`, `editor` or `viewer`.
    pub access: String,
    /// For a meter someone shared with the caller: the owner's name.
    pub shared_by: Option<String>,
}

/// Who a meter is shared with, as its owner sees and changes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MeterSharing {
    pub meter_id: i64,
    /// The owner's household; without one there is nobody to share with.
    pub household_id: Option<i64>,
    /// `viewer` or `editor` for the whole household, or none.
    pub household_role: Option<String>,
    /// The household's other members, each with the role they have by name, if any.
    pub members: Vec<SharingMember>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SharingMember {
    pub user_id: i64,
    pub display_name: String,
    pub role: Option<String>,
}

/// The newest reading of a meter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LatestReading {
    /// RFC 3339.
    pub at: String,
    pub value: f64,
}

/// An API token as listed; the secret itself is only in [`NewToken`], once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    /// The token's first characters, to tell tokens apart.
    pub prefix: String,
    pub scope: String,
    pub meter_ids: Vec<i64>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    /// RFC 3339; none when it lives until revoked.
    pub expires_at: Option<String>,
    pub revoked: bool,
}

/// A token just created: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewToken {
    pub token: String,
    #[serde(flatten)]
    pub view: TokenView,
}

/// What a submitted form gets back when the server re-renders it: the values as entered
/// (so nothing typed is lost) and a message per field that needs fixing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FormFeedback {
    /// Which form on the page was submitted.
    pub form: String,
    pub values: std::collections::BTreeMap<String, String>,
    pub errors: std::collections::BTreeMap<String, String>,
}

impl FormFeedback {
    pub fn value(&self, field: &str) -> Option<&str> {
        self.values.get(field).map(String::as_str)
    }

    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }
}

/// A meter's detail page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MeterPage {
    pub meter: MeterView,
    /// The last days with readings, newest first.
    pub recent_days: Vec<DayLine>,
    pub source: Option<SourceView>,
    /// The newest collection attempts, newest first.
    pub attempts: Vec<AttemptView>,
    /// The newest imports, newest first.
    pub imports: Vec<ImportView>,
    /// Who it is shared with; only for its owner.
    pub sharing: Option<MeterSharing>,
    /// Its notification rules; only for its owner.
    #[serde(default)]
    pub rules: Option<notify::MeterRules>,
}

/// One local day of a meter, as the detail page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DayLine {
    /// ISO date.
    pub date: String,
    pub readings: i64,
    pub min: f64,
    pub max: f64,
    pub last: f64,
    /// Quota meters: counter growth that day.
    pub usage: Option<f64>,
    pub budget: Option<f64>,
}

/// Where a meter's readings are collected from. Secrets are never sent back: the bearer
/// token shows only as set or not, headers only by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SourceView {
    /// `http` or `simulator`.
    pub kind: String,
    pub url: Option<String>,
    pub header_names: Vec<String>,
    pub has_bearer_token: bool,
    pub used_path: Option<String>,
    pub remaining_path: Option<String>,
    pub quota_path: Option<String>,
    pub scale: f64,
    pub interval_secs: i64,
    pub timeout_secs: i64,
    pub enabled: bool,
    /// RFC 3339.
    pub next_run: Option<String>,
    pub consecutive_failures: i64,
}

/// One collection attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AttemptView {
    /// RFC 3339.
    pub started_at: String,
    /// 1, or 2 for the retry.
    pub attempt: i64,
    /// `success`, `failed`, `timeout` or `invalid`.
    pub status: String,
    pub response_ms: Option<i64>,
    pub http_status: Option<i64>,
    pub error: Option<String>,
}

/// An import of a CSV file into a meter, and how far it got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportView {
    pub id: i64,
    pub meter_id: i64,
    pub file_name: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    pub done_bytes: i64,
    pub total_bytes: i64,
    pub rows_imported: i64,
    pub rows_skipped: i64,
    /// Why it failed, or why rows were skipped.
    pub note: Option<String>,
}

/// A tip of the day as admins edit it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TipView {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub active: bool,
}

/// What the outlook's interactive top needs, prepared on the server: labels already
/// written, amounts as numbers (the browser formats them, compact or exact). Kept small
/// and free of date types so the browser bundle stays small.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BoardView {
    pub date_label: String,
    pub balance_score: Option<u8>,
    pub status: Option<String>,
    pub insight: String,
    pub meters: Vec<MeterCardView>,
}

/// One quota meter's card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MeterCardView {
    pub meter_id: i64,
    pub name: String,
    pub unit: String,
    pub status: String,
    pub quota: f64,
    pub used: f64,
    pub remaining: f64,
    pub daily_budget: f64,
    pub used_today: f64,
    pub left_today: f64,
    pub fraction_used: f64,
    pub average: f64,
    pub average_label: String,
    pub projected: f64,
    pub projected_excess: f64,
    pub safe_days: f64,
    pub pace: f64,
    pub days_label: String,
    pub run_out_label: Option<String>,
    pub advice: Vec<String>,
    /// For a meter someone shared with the viewer: its owner's name.
    #[serde(default)]
    pub shared_by: Option<String>,
}

impl BoardView {
    pub fn of(o: &crate::domain::outlook::Outlook) -> Self {
        use crate::domain::outlook::meter::AverageBasis;
        let day = |d: &jiff::civil::Date| d.strftime("%a %-d %b").to_string();
        BoardView {
            date_label: o.date.strftime("%A %-d %B").to_string(),
            balance_score: o.balance_score,
            status: o.status.map(|s| s.as_str().to_string()),
            insight: o.primary_insight.text.clone(),
            meters: o
                .meters
                .iter()
                .map(|m| {
                    let s = &m.snapshot;
                    MeterCardView {
                        meter_id: m.meter_id,
                        name: m.name.clone(),
                        unit: m.unit.clone(),
                        status: m.status.as_str().to_string(),
                        quota: s.quota,
                        used: s.used,
                        remaining: s.remaining,
                        daily_budget: s.daily_budget,
                        used_today: s.used_today,
                        left_today: s.left_today,
                        fraction_used: s.fraction_used,
                        average: m.average,
                        average_label: match m.average_basis {
                            AverageBasis::LastSevenDays => "7-day average".into(),
                            AverageBasis::PeriodSoFar => "Average so far".into(),
                        },
                        projected: m.projected_total,
                        projected_excess: m.projected_excess,
                        safe_days: m.safe_days,
                        pace: m.pace,
                        days_label: if s.days_left == 1 {
                            "last day of this period".into()
                        } else {
                            format!(
                                "{} days left, until {}",
                                s.days_left,
                                day(&m.period_last_day)
                            )
                        },
                        run_out_label: m.run_out.map(|d| day(&d)),
                        advice: m.advice.iter().map(|a| a.text(&m.unit)).collect(),
                        shared_by: m.shared_by.clone(),
                    }
                })
                .collect(),
        }
    }
}
