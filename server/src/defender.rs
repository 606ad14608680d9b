//! Microsoft Defender for Endpoint API client: auth, clouds, paging, throttling, wire models.
//!
//! Entry point: [`DefenderClient`], built from [`DefenderSettings`] and [`ClientOptions`].
//! Reference: `shared/defender-api.md` (section numbers are cited throughout).

pub mod aadsts;
pub mod actions;
pub mod auth;
mod backoff;
pub mod budget;
pub mod client;
pub mod cloud;
pub mod error;
mod http;
pub mod jwt;
pub mod metrics;
pub mod model;
pub mod paging;
pub mod permissions;
pub mod portal;
pub mod settings;

pub use aadsts::AadError;
pub use actions::{IsolationType, ScanType};
pub use auth::AccessToken;
pub use budget::{BudgetLimits, Family, Window};
pub use client::DefenderClient;
pub use cloud::{Cloud, Endpoints};
pub use error::DefenderError;
pub use metrics::MetricsSnapshot;
pub use paging::{Pager, PagingStats, StopReason};
pub use permissions::{feature_access, Feature, FeatureAccess, Permission};
pub use portal::{is_machine_id, PortalLinks};
pub use settings::{ClientOptions, DefenderSettings};
