//! The daily outlook and what goes with it.

mod get_outlook;
mod get_peer_comparison;

pub use get_outlook::*;
pub use get_peer_comparison::*;
