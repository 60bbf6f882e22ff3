//! Tower/axum middleware: session resolution, CSRF defence, security headers.

pub mod csrf;
pub mod security_headers;
pub mod session;
