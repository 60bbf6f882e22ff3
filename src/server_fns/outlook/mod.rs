//! Today's outlook.

mod get_outlook_summary;

pub use get_outlook_summary::*;
