//! Integrations: stored settings, Test Connection, and the save/enable/disable lifecycle.
//! Microsoft Defender is the first kind; another (e.g. Tenable) is a new `kind` row and a
//! new module here, not a rewrite.

pub mod connection_test;
pub mod defender_settings;
pub mod demo;
pub mod test_limiter;

/// The `integration.kind` of Microsoft Defender for Endpoint.
pub const DEFENDER: &str = "defender";

/// The associated data of the sealed Defender client secret.
pub const DEFENDER_SECRET_PURPOSE: &str = "integration.defender.client_secret";
