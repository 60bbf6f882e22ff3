//! For administrators only.

mod list_tips;
mod perf_report;

pub use list_tips::*;
pub use perf_report::*;
