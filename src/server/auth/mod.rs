//! Who is asking: argon2id passwords, server-side sessions behind an HttpOnly cookie, and
//! a throttle on failed sign-ins.

pub mod first_run;
pub mod password;
pub mod session;
pub mod throttle;

use crate::domain::access::TokenReach;
use crate::dto::{Role, SessionUser};
use crate::server::storage::users::UserRow;

/// The signed-in user of a request, put into request extensions by the session
/// middleware. Server functions and handlers read it from there; nothing else decides
/// who the caller is.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CurrentUser {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub plan_tier: String,
    pub location: String,
    pub timezone: String,
    /// The household whose shared meters this user sees, if any.
    #[serde(default)]
    pub household_id: Option<i64>,
    /// Set when the caller is an API token acting for this user: how far it reaches.
    /// Never cached with a session (a session is never a token).
    #[serde(skip)]
    pub via_token: Option<std::sync::Arc<TokenReach>>,
}

impl CurrentUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn to_dto(&self) -> SessionUser {
        SessionUser {
            id: self.id,
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            plan_tier: self.plan_tier.clone(),
            timezone: self.timezone.clone(),
        }
    }
}

impl From<UserRow> for CurrentUser {
    fn from(u: UserRow) -> Self {
        CurrentUser {
            id: u.id,
            email: u.email,
            display_name: u.display_name,
            // The CHECK constraint allows only these two; anything else is least privilege.
            role: Role::parse(&u.role).unwrap_or(Role::Member),
            plan_tier: u.plan_tier,
            location: u.location,
            timezone: u.timezone,
            household_id: u.household_id,
            via_token: None,
        }
    }
}
