//! Reusable pieces of pages, one component per file.

pub mod header;
pub mod precision_toggle;
pub mod quota_card;
