//! Microsoft Defender for Endpoint API client: auth, clouds, paging, throttling, wire models.
//!
//! Entry point: [`DefenderClient`], built from [`DefenderSettings`] and [`ClientOptions`].
//! Reference: `shared/defender-api.md` (section numbers are cited throughout).
//!
//! ```no_run
//! # async fn sync() -> Result<(), server::defender::DefenderError> {
//! use server::defender::{Cloud, ClientOptions, DefenderClient, DefenderSettings, Endpoints};
//!
//! let endpoints = Endpoints::for_cloud(Cloud::GccHigh, None)?;
//! let settings = DefenderSettings::new("tenant-guid", "client-id", "secret value", endpoints);
//! let client = DefenderClient::new(settings, ClientOptions::default())?;
//!
//! // Which features the app registration's roles allow (§2.4).
//! for access in client.feature_access().await? {
//!     tracing::info!(feature = ?access.feature, granted = access.granted);
//! }
//! // Page by page; never the whole tenant in memory.
//! let mut machines = client.machines();
//! while let Some(page) = machines.next_page().await? {
//!     tracing::info!(count = page.len(), "machines page");
//! }
//! if machines.stop_reason().is_some_and(|r| r.is_guard()) {
//!     tracing::warn!("listing stopped by a loop guard: treat it as partial");
//! }
//! tracing::info!(metrics = ?client.metrics(), "sync done");
//! # Ok(())
//! # }
//! ```

pub mod aadsts;
pub mod actions;
pub mod auth;
mod backoff;
mod body;
pub mod budget;
pub mod client;
pub mod cloud;
pub mod destination;
pub mod error;
mod http;
pub mod jwt;
pub mod metrics;
pub mod model;
pub mod paging;
pub mod permissions;
pub mod portal;
pub mod resolver;
pub mod settings;
pub mod skipped;

pub use aadsts::AadError;
pub use actions::{IsolationType, ScanType};
pub use auth::AccessToken;
pub use budget::{BudgetLimits, Family, Window};
pub use client::DefenderClient;
pub use cloud::{Cloud, Endpoints};
pub use error::DefenderError;
pub use metrics::MetricsSnapshot;
pub use paging::{Pager, PagingStats, StopReason, MAX_SKIPPED_HELD};
pub use permissions::{feature_access, Feature, FeatureAccess, Permission};
pub use portal::{is_machine_id, PortalLinks};
pub use resolver::HostOverrides;
pub use settings::{ClientOptions, DefenderSettings};
pub use skipped::SkippedItem;
