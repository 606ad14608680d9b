//! Read models for the pages: what the endpoint list, the Endpoint Summary, the dashboard, the
//! Vulnerabilities and Software pages and the sync journal show, built from the inventory tables, and their
//! CSV exports.
//!
//! Dependencies run one way: `endpoint_list` and `endpoint_summary` both map rows through
//! `endpoint_row`; `dashboard` reads the last run through `sync_journal`; `vulnerabilities`
//! shows endpoints through the list's snapshot.

pub mod csv;
pub mod dashboard;
pub mod endpoint_list;
pub mod endpoint_row;
pub mod endpoint_summary;
pub mod risk_history;
pub mod software;
pub mod sync_journal;
pub mod vulnerabilities;
