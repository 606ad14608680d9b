//! Data shapes shared by the server and the browser.

pub mod integration;
pub mod user;
