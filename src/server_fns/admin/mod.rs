//! For administrators only.

mod list_tips;
mod performance_report;

pub use list_tips::*;
pub use performance_report::*;
