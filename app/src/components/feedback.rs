//! How the console shows errors and empty states.

pub mod empty_state;
pub mod error_banner;
