//! One module per page of the console.

pub mod account;
pub mod audit_log;
pub mod change_password;
pub mod dashboard;
pub mod endpoint_import;
pub mod endpoint_summary;
pub mod endpoints;
pub mod integrations;
pub mod login;
pub mod not_found;
pub mod profiles;
pub mod sensors;
pub mod software;
pub mod user_detail;
pub mod users;
pub mod vulnerabilities;
