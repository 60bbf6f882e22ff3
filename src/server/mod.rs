//! The server half (feature `ssr`): configuration, storage, cache, HTTP, jobs.
//! Dependency direction: `http` → `service` → (`storage`, `cache`) → `domain`.

pub mod auth;
pub mod cache;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod hex;
pub mod http;
pub mod jobs;
pub mod memory;
pub mod outbound;
pub mod perf;
pub mod service;
pub mod simulation;
pub mod site;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
