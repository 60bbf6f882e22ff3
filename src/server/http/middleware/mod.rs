//! The steps of the request pipeline (`http::pipeline` puts them in order): `edge` and
//! `gate` are the two layers inside the router; the other modules are the steps the gate
//! (and, for a replay, the front door) runs.

pub mod conclude;
pub mod conditional;
pub mod csrf;
pub mod deadline;
pub mod edge;
pub mod encoding;
pub mod gate;
pub mod rate_limit;
pub mod security_headers;
pub mod session;
pub mod timeout;
