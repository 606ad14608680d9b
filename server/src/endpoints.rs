//! The stored endpoint inventory: what the web layer calls to import discovery data,
//! re-model (profiles + risk), react to Defender being disabled, and manage sensor tokens.
//! The Defender sync itself lives in `sync/`; it calls [`remodel_all`] after each run.

mod assessment_digest;
mod discovery_import;
mod inactive;
mod record;
mod remodel;
pub mod stored_assessment;
mod tokens;

pub use discovery_import::{import_nmap, import_sensor, ImportError, ImportReport};
pub use inactive::{keep_deciding_inactive, mark_inactive, InactiveAfter};
pub(crate) use remodel::remodel_after_sync;
pub use remodel::{
    on_defender_disabled, remodel_all, remodel_all_with_progress, RemodelError, RemodelProgress,
    RemodelReport, ReportProgress,
};
pub use tokens::{create_api_token, verify_api_token};
