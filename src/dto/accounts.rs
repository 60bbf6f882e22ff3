//! Accounts as the API and the account and admin pages show them: users, sessions,
//! households and the single-use links (invites, password resets).

use serde::{Deserialize, Serialize};

use super::Role;

/// A user as an administrator sees them in the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub household_id: Option<i64>,
    pub household: Option<String>,
    pub disabled: bool,
    /// RFC 3339.
    pub created_at: String,
}

/// One of the caller's sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionView {
    /// An opaque id (not the token, nor what the database keys it by).
    pub id: String,
    /// The browser and system, e.g. "Firefox on Linux".
    pub device: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; when the session last made a request (to the minute).
    pub last_seen_at: Option<String>,
    /// The session this request came with.
    pub current: bool,
}

/// The caller's own account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AccountView {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub household_id: Option<i64>,
    pub household: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HouseholdView {
    pub id: i64,
    pub name: String,
    pub members: i64,
    /// RFC 3339.
    pub created_at: String,
}

/// A single-use link an administrator passes on (an invitation or a password reset).
/// The secret is in `url`, shown this once; only its hash is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LinkView {
    /// `account`, `household` or `reset`.
    pub kind: String,
    /// The path to open, e.g. `/invite/…` (the secret is its last segment).
    pub url: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// What an invitation link offers, shown on its page before it is accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InvitePreview {
    pub kind: String,
    pub role: Role,
    pub household: Option<String>,
    /// RFC 3339.
    pub expires_at: String,
}

/// The `/account` page's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AccountPage {
    pub account: AccountView,
    pub sessions: Vec<SessionView>,
}

/// The `/admin/users` page's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UsersPage {
    pub users: Vec<UserView>,
    pub households: Vec<HouseholdView>,
}
