//! Use-cases shared by the JSON API, the form routes and the server functions. Handlers
//! are thin adapters over these functions; these functions know nothing about HTTP.

pub mod auth;
pub mod ingest;
pub mod outlook;
