//! Islands: the interactive parts of pages. Their props cross to the browser as JSON, so
//! they take DTOs; everything they render must work from those props alone.

pub mod app_status;
pub mod chart_explorer;
pub mod import_progress;
pub mod outlook_board;
pub mod perf_live;
pub mod reading_form;
