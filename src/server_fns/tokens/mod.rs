//! The caller's API tokens.

mod list_tokens;

pub use list_tokens::*;
