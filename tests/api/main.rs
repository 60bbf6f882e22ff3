//! Integration tests: one binary, each test against a real server on port 0 with its own
//! database, on SQLite and on PostgreSQL (see `helpers`).

mod helpers;

mod accounts;
mod auth;
mod authorization;
mod backup;
mod cache;
mod collector;
mod connections;
mod daily_outlook;
mod demo;
mod errors;
mod health;
mod http_layer;
mod import;
mod ingest;
mod leader;
mod meter_pages;
mod meters_api;
mod notifications;
mod openapi;
mod outages;
mod outlook;
mod performance;
mod push;
mod pwa;
mod replay;
mod retention;
mod rollups;
mod security;
mod series;
mod sharing;
mod shutdown;
mod uploads;
