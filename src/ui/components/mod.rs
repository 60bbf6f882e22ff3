//! Reusable pieces of pages, one component per file.

pub mod balance_card;
pub mod bar_chart;
pub mod day_notes;
pub mod explorer_section;
pub mod field;
pub mod header;
pub mod import_section;
pub mod meter_form;
pub mod peers_card;
pub mod precision_toggle;
pub mod quota_card;
pub mod rules_section;
pub mod series_plot;
pub mod sharing_section;
pub mod source_section;
pub mod trends;
