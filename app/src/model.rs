//! Data shapes shared by the server and the browser.

pub mod risk;
pub mod user;
