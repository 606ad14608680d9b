//! The console frame: top bar, navigation and the signed-in guard.

pub mod console_layout;
pub mod top_bar;
