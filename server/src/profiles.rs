//! Profiles: named classifications of endpoints (Windows Workstation, Network Printer, ...),
//! the rules that recognise them, match scores, Defender's dynamic OS profiles and the
//! re-model that classifies every endpoint. Pure functions over [`crate::inventory::Endpoint`];
//! nothing here touches the database.
//!
//! Typical use: build a [`ProfileEngine`] once from [`factory_profiles`] (plus any custom
//! profiles parsed with [`parse_profiles`]), then call [`ProfileEngine::remodel`] or
//! [`ProfileEngine::remodel_parallel`] over all endpoints.

mod catalogue;
mod dynamic;
mod engine;
mod factory;
mod profile;
mod rule;
mod score;

pub use catalogue::{parse_profiles, ProfileError};
pub use dynamic::{
    applicable_dynamic_profiles, dynamic_catalogue, dynamic_profile_name, is_dynamic_profile_name,
    most_specific_dynamic_profile, DYNAMIC_PREFIX,
};
pub use engine::{ProfileEngine, Scratch};
pub use factory::{factory_profiles, FACTORY_PROFILES_TOML};
pub use profile::{Profile, ProfileId};
pub use rule::{Attribute, Matcher, Rule};
pub use score::{Classification, MatchLevel, ProfileMatch, ProfileRef, RuleMask};
