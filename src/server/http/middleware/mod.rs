//! The HTTP layer's request pipeline: `edge` (outermost), `replay`, compression and `gate`
//! (innermost) are the layers; the other modules are the steps the gate runs.

pub mod conclude;
pub mod conditional;
pub mod csrf;
pub mod deadline;
pub mod edge;
pub mod gate;
pub mod page_encoding;
pub mod rate_limit;
pub mod replay;
pub mod security_headers;
pub mod session;
pub mod timeout;
