//! JSON and form endpoints, one file per resource; each exports `router()`.

pub mod auth;
pub mod health;
pub mod test_hooks;
