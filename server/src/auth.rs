//! Local accounts and sessions: password hashing, the login throttle, the first
//! administrator, the session store and the registry of signed-in sessions.

pub mod bootstrap;
pub mod password;
pub mod session_registry;
pub mod session_store;
pub mod throttle;
