//! One file per page.

pub mod login;
pub mod not_found;
pub mod outlook;
