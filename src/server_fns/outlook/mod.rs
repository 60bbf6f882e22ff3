//! The daily outlook and what goes with it.

mod get_meter_timeline;
mod get_meter_trend;
mod get_outlook;
mod get_peer_comparison;

pub use get_meter_timeline::*;
pub use get_meter_trend::*;
pub use get_outlook::*;
pub use get_peer_comparison::*;
