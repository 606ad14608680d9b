//! Local accounts: password hashing, the login throttle and the first administrator.

pub mod bootstrap;
pub mod password;
pub mod throttle;
