//! The HTTP layer: router, routes, middleware and the one error type. Adapters only: the
//! work happens in `server::service`.

pub mod cached;
pub mod client;
pub mod error;
pub mod extract;
pub mod forms;
pub mod middleware;
pub mod openapi;
pub mod router;
pub mod routes;
pub mod serve;
pub mod upload;
