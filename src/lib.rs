//! Headroom: a self-hosted daily outlook for metered quotas and sensors.
//!
//! One crate, two builds: with `ssr` it is the server (and `src/main.rs` the binary); with
//! `hydrate` it compiles to WebAssembly. Pages are rendered on the server only; the few
//! interactive parts are Leptos *islands* (`ui::islands`), and only they ship to the
//! browser, which keeps the download small. `domain` and `dto` are shared; `server`
//! exists only in the server build.
//! See `docs/ARCHITECTURE.md` for the map.

// Leptos view types nest deeply; large pages erase them with `into_any()`, and this leaves
// headroom for the rest.
#![recursion_limit = "256"]

pub mod domain;
pub mod dto;
pub mod server_fns;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the browser build, called by the island script before it hydrates
/// each `<leptos-island>` of the page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
