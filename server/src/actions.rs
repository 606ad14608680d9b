//! Machine actions (Run Scan, Isolate Machine, Unisolate Machine): what each device supports,
//! sending an action exactly once, and following it to a terminal state.

mod cancel;
pub mod panel;
pub mod platform;
mod poller;
pub mod remote;
pub mod service;
mod submit;

pub use service::{ActionError, ActionService, ActionTiming};
