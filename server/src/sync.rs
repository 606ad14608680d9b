//! The Defender sync: one entry point (`SyncService::trigger`), one run at a time, and the
//! hourly schedule that survives restarts.

pub mod run;
pub mod schedule;
pub mod service;

pub use service::{SyncHandle, SyncOutcome, SyncService};
