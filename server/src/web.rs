//! HTTP concerns outside Leptos: health probes and the cross-site request guard.

pub mod health;
pub mod ingest;
pub mod origin;
