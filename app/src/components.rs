//! Reusable building blocks shared by the pages.

pub mod data_table;
pub mod feedback;
pub mod interval;
pub mod layout;
pub mod list_controls;
pub mod or_dash;
pub mod risk_badge;
pub mod sync_status;
pub mod time;
