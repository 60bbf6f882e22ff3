//! JSON and form endpoints, one file per resource; each exports `router()`.

pub mod auth;
pub mod health;
pub mod imports;
pub mod meter_forms;
pub mod meters;
pub mod outlook;
pub mod perf_forms;
pub mod performance;
pub mod pwa;
pub mod readings;
pub mod seed;
pub mod sources;
pub mod test_hooks;
pub mod tips;
pub mod token_forms;
pub mod tokens;
