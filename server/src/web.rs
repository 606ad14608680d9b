//! HTTP concerns outside Leptos: health probes and the cross-site request guard.

pub mod export;
pub mod health;
pub mod import;
pub mod ingest;
pub mod origin;
pub mod sync_events;
