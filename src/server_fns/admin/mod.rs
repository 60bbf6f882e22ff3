//! For administrators only.

mod list_tips;

pub use list_tips::*;
