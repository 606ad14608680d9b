//! Issue 8's fault matrix: the product against the Defender simulator and a real SQLite file,
//! one fault per test. Every case checks that the product keeps working, loses no data and
//! shows the fault to the admin (integration state, Test Connection, the sync journal's
//! outcome, error, notes and counts), and ends by comparing the inventory's row counts with
//! the last good sync's, or with the correct new state ([`harness::Fixture::end_with_rows`]).
//!
//! Defender side, struck mid-sync after a good first sync (`throttling`, `responses`,
//! `paging`, `credentials`, `listings`); our side (`ours`, and `killed` for the cases that
//! need the real binary as a child process).
//!
//! Machine actions (`actions`): an action whose status never reaches a terminal state, and the
//! server killed with SIGKILL in the middle of action polling.

#[path = "../support/app.rs"]
mod support;

#[path = "../support/process.rs"]
mod process;

mod actions;
mod credentials;
mod harness;
mod killed;
mod listings;
mod ours;
mod paging;
mod responses;
mod small_disk;
mod software;
mod throttling;
