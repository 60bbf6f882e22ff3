//! Reusable pieces of pages, one component per file.

pub mod field;
pub mod header;
pub mod import_section;
pub mod meter_form;
pub mod precision_toggle;
pub mod quota_card;
pub mod source_section;
