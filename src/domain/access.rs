//! Who may do what to a meter: the one rule, with no I/O. The server gathers the facts
//! (`server::service::access`) and asks here; every read and write of a meter, through
//! any door (pages, JSON, forms, server functions, tokens), goes through [`grant_of`]
//! and [`Grant::permits`].
//!
//! A meter is its owner's. Its owner may share it with their household as a whole, or
//! with chosen members of it, as a viewer or an editor. Sharing never crosses
//! households: a share whose grantee has left the owner's household grants nothing, and
//! an administrator of the server gains nothing on meters by being one (administrators
//! manage accounts, not other people's data).

use serde::{Deserialize, Serialize};

/// A user's standing on one meter, strongest last so `max` picks the stronger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    /// Sees the meter, its outlook, charts and exports.
    Viewer,
    /// Also adds readings (by hand, by import) and changes the meter's settings.
    Editor,
    /// Also archives it, shares it, sets up its collector and issues tokens for it.
    Owner,
}

/// A role a meter is shared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareRole {
    Viewer,
    Editor,
}

impl ShareRole {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "viewer" => Some(ShareRole::Viewer),
            "editor" => Some(ShareRole::Editor),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ShareRole::Viewer => "viewer",
            ShareRole::Editor => "editor",
        }
    }

    fn grant(self) -> Grant {
        match self {
            ShareRole::Viewer => Grant::Viewer,
            ShareRole::Editor => Grant::Editor,
        }
    }
}

/// What is being done to a meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeterAction {
    /// Its settings, readings, outlook, charts, exports.
    Read,
    /// New readings: by hand, by the API, by an import.
    WriteReadings,
    /// Its name, unit, quota, reset rule, range.
    Edit,
    /// Archive it, share it, set up its collector, issue tokens for it.
    Manage,
}

impl Grant {
    /// Whether this standing allows `action`.
    pub fn permits(self, action: MeterAction) -> bool {
        let needed = match action {
            MeterAction::Read => Grant::Viewer,
            MeterAction::WriteReadings | MeterAction::Edit => Grant::Editor,
            MeterAction::Manage => Grant::Owner,
        };
        self >= needed
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Grant::Viewer => "viewer",
            Grant::Editor => "editor",
            Grant::Owner => "owner",
        }
    }
}

/// How far a caller acting through an API token reaches: the token's meters, and only
/// reading (a `read` token) or only writing readings (an `ingest` token). The token's
/// user's own standing still applies on top.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenReach {
    pub token_id: i64,
    pub read_only: bool,
    pub meter_ids: Vec<i64>,
}

impl TokenReach {
    pub fn permits(&self, meter_id: i64, action: MeterAction) -> bool {
        let action_ok = if self.read_only {
            action == MeterAction::Read
        } else {
            action == MeterAction::WriteReadings
        };
        action_ok && self.meter_ids.contains(&meter_id)
    }
}

/// The facts about one meter and one user that decide the user's standing on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeterFacts {
    pub owner_id: i64,
    /// The owner's household.
    pub owner_household: Option<i64>,
    /// How the meter is shared with the owner's whole household, if it is.
    pub household_role: Option<ShareRole>,
    /// How it is shared with this user by name, if it is.
    pub direct_role: Option<ShareRole>,
}

/// The standing of user `user_id` (in household `user_household`) on a meter: `None`
/// when the user may not even know it exists.
pub fn grant_of(facts: &MeterFacts, user_id: i64, user_household: Option<i64>) -> Option<Grant> {
    if facts.owner_id == user_id {
        return Some(Grant::Owner);
    }
    let same_household = facts.owner_household.is_some() && facts.owner_household == user_household;
    if !same_household {
        return None;
    }
    let household = facts.household_role.map(ShareRole::grant);
    let direct = facts.direct_role.map(ShareRole::grant);
    household.max(direct)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(household_role: Option<ShareRole>, direct_role: Option<ShareRole>) -> MeterFacts {
        MeterFacts {
            owner_id: 1,
            owner_household: Some(10),
            household_role,
            direct_role,
        }
    }

    #[test]
    fn the_owner_may_do_everything() {
        let g = grant_of(&facts(None, None), 1, None);
        assert_eq!(g, Some(Grant::Owner));
        for a in [
            MeterAction::Read,
            MeterAction::WriteReadings,
            MeterAction::Edit,
            MeterAction::Manage,
        ] {
            assert!(Grant::Owner.permits(a));
        }
    }

    #[test]
    fn an_unshared_meter_is_invisible_even_in_the_household() {
        assert_eq!(grant_of(&facts(None, None), 2, Some(10)), None);
    }

    #[test]
    fn household_sharing_reaches_members_only() {
        let f = facts(Some(ShareRole::Viewer), None);
        assert_eq!(grant_of(&f, 2, Some(10)), Some(Grant::Viewer));
        assert_eq!(grant_of(&f, 3, Some(11)), None);
        assert_eq!(grant_of(&f, 3, None), None);
    }

    #[test]
    fn a_share_with_someone_who_left_the_household_grants_nothing() {
        let f = facts(None, Some(ShareRole::Editor));
        assert_eq!(grant_of(&f, 2, Some(10)), Some(Grant::Editor));
        assert_eq!(grant_of(&f, 2, None), None);
        assert_eq!(grant_of(&f, 2, Some(12)), None);
    }

    #[test]
    fn owners_without_a_household_share_with_nobody() {
        let f = MeterFacts {
            owner_household: None,
            ..facts(Some(ShareRole::Editor), Some(ShareRole::Editor))
        };
        assert_eq!(grant_of(&f, 2, None), None);
    }

    #[test]
    fn the_stronger_of_two_shares_counts() {
        let f = facts(Some(ShareRole::Viewer), Some(ShareRole::Editor));
        assert_eq!(grant_of(&f, 2, Some(10)), Some(Grant::Editor));
        let f = facts(Some(ShareRole::Editor), Some(ShareRole::Viewer));
        assert_eq!(grant_of(&f, 2, Some(10)), Some(Grant::Editor));
    }

    #[test]
    fn a_token_reaches_its_meters_for_its_one_purpose() {
        let read = TokenReach {
            token_id: 1,
            read_only: true,
            meter_ids: vec![5, 6],
        };
        assert!(read.permits(5, MeterAction::Read));
        assert!(!read.permits(7, MeterAction::Read));
        assert!(!read.permits(5, MeterAction::WriteReadings));
        assert!(!read.permits(5, MeterAction::Edit));
        let ingest = TokenReach {
            read_only: false,
            ..read
        };
        assert!(ingest.permits(6, MeterAction::WriteReadings));
        assert!(!ingest.permits(6, MeterAction::Read));
        assert!(!ingest.permits(6, MeterAction::Manage));
    }

    #[test]
    fn viewers_read_editors_write_owners_manage() {
        assert!(Grant::Viewer.permits(MeterAction::Read));
        assert!(!Grant::Viewer.permits(MeterAction::WriteReadings));
        assert!(!Grant::Viewer.permits(MeterAction::Edit));
        assert!(Grant::Editor.permits(MeterAction::WriteReadings));
        assert!(Grant::Editor.permits(MeterAction::Edit));
        assert!(!Grant::Editor.permits(MeterAction::Manage));
    }
}
