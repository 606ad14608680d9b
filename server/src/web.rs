//! HTTP concerns outside Leptos: health probes, exports, uploads, sensor ingest, the sync
//! event stream (all listed in `routes`), who may call them (`extract`), the cross-site
//! request guard and the security headers.

pub mod export;
pub mod extract;
pub mod health;
pub mod import;
pub mod ingest;
pub mod origin;
pub mod routes;
pub mod security_headers;
pub mod sync_events;
