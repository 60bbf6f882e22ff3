//! The caller's meters.

mod get_meter_page;
mod list_meters;

pub use get_meter_page::*;
pub use list_meters::*;
