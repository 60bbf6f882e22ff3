//! Everything the browser sees. Pages and components render on the server only; the
//! `islands` are the interactive parts, rendered on the server *and* hydrated in the
//! browser — only their code is compiled into the WebAssembly bundle.

pub mod app;
pub mod components;
pub mod format;
pub mod islands;
pub mod offline;
pub mod pages;
