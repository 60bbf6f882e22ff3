//! The HTTP layer: the request pipeline (`pipeline`, read it first), the replay table,
//! the routes, the middleware steps and the one error type. Adapters only: the work
//! happens in `server::service`.

pub mod cached;
pub mod client;
pub mod connection;
pub mod error;
pub mod extract;
pub mod forms;
pub mod middleware;
pub mod openapi;
pub mod pipeline;
pub mod replay;
pub mod router;
pub mod routes;
pub mod serve;
pub mod upload;
