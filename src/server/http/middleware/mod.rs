//! Tower/axum middleware: session resolution, CSRF defence, security headers, rate
//! limits, conditional GETs and request timeouts.

pub mod conditional;
pub mod csrf;
pub mod rate_limit;
pub mod security_headers;
pub mod session;
pub mod timeout;
