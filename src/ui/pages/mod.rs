//! One file per page.

pub mod account;
pub mod admin_tips;
pub mod admin_users;
pub mod invite;
pub mod login;
pub mod meter_detail;
pub mod meter_new;
pub mod meters;
pub mod not_found;
pub mod notifications;
pub mod outlook;
pub mod perf;
pub mod setup;
pub mod tokens;
