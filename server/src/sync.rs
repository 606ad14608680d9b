//! The Defender sync: one entry point (`SyncService::trigger`), one run at a time, and the
//! hourly schedule that survives restarts. A run stages every listing (`fetch`), applies it in
//! one transaction (`apply`, with the `merge` rules), then re-models.

mod apply;
mod fetch;
mod listing_window;
pub mod merge;
mod merge_write;
pub mod network_facts;
mod progress;
mod remodel_job;
pub mod requests;
pub mod risk_record;
pub mod run;
pub mod schedule;
pub mod service;
pub(crate) mod shared_progress;
mod software_facts;
pub mod split;
mod step_timing;
pub mod to_rows;

pub use risk_record::HistoryRetention;
pub use run::sync_with_client;
pub use service::{SyncHandle, SyncOutcome, SyncService};
