//! JSON and form endpoints, one file per resource; each exports `router()`. `legacy` is
//! the old systems' API (SPEC S12); `perf` the performance center's (`/api/performance`).

pub mod account;
pub mod account_forms;
pub mod auth;
pub mod health;
pub mod imports;
pub mod invite_forms;
pub mod invites;
pub mod legacy;
pub mod meter_forms;
pub mod meters;
pub mod notifications;
pub mod notify_forms;
pub mod outlook;
pub mod perf;
pub mod perf_forms;
pub mod push;
pub mod pwa;
pub mod readings;
pub mod series;
pub mod setup;
pub mod sources;
pub mod test_hooks;
pub mod tips;
pub mod token_forms;
pub mod tokens;
pub mod user_forms;
pub mod users;
