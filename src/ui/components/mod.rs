//! Reusable pieces of pages, one component per file.

pub mod field;
pub mod header;
pub mod meter_form;
pub mod precision_toggle;
pub mod quota_card;
