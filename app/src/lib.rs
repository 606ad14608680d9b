//! Endpoint Analytics web console: components, pages, server fn declarations and DTOs.
//!
//! Built twice: with `ssr` into the server, and with `hydrate` into the browser's wasm.

#![recursion_limit = "256"]
pub mod api;
pub mod app;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;

pub use app::{shell, App};

/// The browser entry point: attaches the client to the server-rendered HTML.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
