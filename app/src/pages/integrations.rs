//! Configuration > Integrations.

pub mod defender;
pub mod list;
