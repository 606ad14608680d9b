//! Integrations: stored settings, Test Connection, and the save/enable/disable lifecycle.
//! `defender` owns the Defender row; the other modules are its pure parts and its one-off
//! jobs.
//! Microsoft Defender is the first kind; another (e.g. Tenable) is a new `kind` row and a
//! new module here, not a rewrite.

pub mod connection_test;
pub mod defender;
pub mod defender_settings;
pub mod demo;
pub mod sealed_secret;
pub mod secret_rebinding;
pub mod software_devices;
pub mod test_limiter;

/// The `integration.kind` of Microsoft Defender for Endpoint.
pub const DEFENDER: &str = "defender";

/// What a sealed Defender client secret is for: the first part of its associated data, which
/// also binds it to its tenant, client and hosts (`sealed_secret`). Alone, it was the whole
/// associated data of secrets sealed before that binding; only `secret_rebinding` still
/// opens those, once.
pub const DEFENDER_SECRET_PURPOSE: &str = "integration.defender.client_secret";
