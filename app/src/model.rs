//! Data shapes shared by the server and the browser.

pub mod audit;
pub mod integration;
pub mod user;
