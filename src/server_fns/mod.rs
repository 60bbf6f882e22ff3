//! Server functions: the typed API the hydrated UI calls. Each authenticates first, then
//! calls into `server::service`, and returns a DTO. One function per file.

pub mod accounts;
pub mod admin;
pub mod meters;
pub mod notify;
pub mod outlook;
pub mod tokens;

#[cfg(feature = "ssr")]
mod context;
#[cfg(feature = "ssr")]
pub use context::{
    app_state, internal, redirect_page, request_user, require_user, require_user_or_redirect,
};
