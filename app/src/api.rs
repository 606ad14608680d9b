//! Server fns by resource. Each one checks the session and role, calls the backend, returns.

pub mod account;
pub mod actions;
pub mod api_tokens;
pub mod audit;
pub mod auth;
pub mod endpoints;
#[cfg(feature = "ssr")]
pub mod guard;
pub mod import_outcome;
pub mod integrations;
pub mod profiles;
pub mod software;
pub mod sync;
pub mod users;
pub mod vulnerabilities;
