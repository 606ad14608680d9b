//! Data shapes shared by the server and the browser.

pub mod account;
pub mod action;
pub mod api_token;
pub mod audit;
pub mod defender_change;
pub mod endpoint;
pub mod import;
pub mod integration;
pub mod moment;
pub mod network_facts;
pub mod profile;
pub mod risk;
pub mod risk_history;
pub mod secret_text;
pub mod session;
pub mod software;
pub mod sync;
pub mod user;
pub mod vulnerability;
