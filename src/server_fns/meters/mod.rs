//! The caller's meters.

mod get_meter_page;
mod get_meter_series;
mod list_meters;

pub use get_meter_page::*;
pub use get_meter_series::*;
pub use list_meters::*;
