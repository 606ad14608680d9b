//! Read models for the pages: what the endpoint list, the Endpoint Summary, the dashboard and
//! the sync journal show, built from the inventory tables, and the list's CSV export.
//!
//! Dependencies run one way: `endpoint_list` and `endpoint_summary` both map rows through
//! `endpoint_row`; `dashboard` reads the last run through `sync_journal`.

pub mod csv;
pub mod dashboard;
pub mod endpoint_list;
pub mod endpoint_row;
pub mod endpoint_summary;
pub mod sync_journal;
