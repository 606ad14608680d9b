//! A profile: a named classification and the rules that recognise it.

use super::rule::Rule;

/// A named classification such as "Network Printer".
#[derive(Debug, Clone)]
pub struct Profile {
    /// Unique, case-insensitively.
    pub name: String,
    pub description: String,
    /// The device class needs extra attention in risk scoring.
    pub risky: bool,
    /// Disabled profiles keep their place (and [`ProfileId`]) but never match.
    pub enabled: bool,
    /// At most [`Profile::MAX_RULES`].
    pub rules: Vec<Rule>,
}

impl Profile {
    /// Matched rules are kept as bits of a `u64` ([`super::RuleMask`]).
    pub const MAX_RULES: usize = 64;
}

/// The position of a profile in its [`super::ProfileEngine`]; stable for that engine's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProfileId(pub(crate) u16);

impl ProfileId {
    pub fn index(&self) -> usize {
        usize::from(self.0)
    }
}
