//! The caller's own account, and the pages of first run and of single-use links.

mod get_account;
mod invite_preview;
mod setup_needed;

pub use get_account::*;
pub use invite_preview::*;
pub use setup_needed::*;
