//! For administrators only.

mod list_tips;
mod list_users;
mod perf_report;

pub use list_tips::*;
pub use list_users::*;
pub use perf_report::*;
