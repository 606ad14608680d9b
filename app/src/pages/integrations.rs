//! Configuration > Integrations.

pub mod list;
