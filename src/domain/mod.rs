//! Headroom's rules, free of I/O: reset rules and billing periods, quota arithmetic, unit
//! formatting. Compiles for the server and the browser alike (no tokio, sqlx, axum, leptos).
//! Time is always passed in, never read from a clock here, so every rule is testable.

pub mod access;
pub mod alerts;
pub mod error;
pub mod json_path;
pub mod meter;
pub mod outlook;
pub mod period;
pub mod quota;
pub mod rollup;
pub mod series;
pub mod units;
pub mod user_agent;

pub use error::DomainError;
