//! Match scores and levels, and the result of classifying one endpoint.

use std::fmt;

use super::ProfileId;

/// How sure a match is, from a 0-100 score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MatchLevel {
    Low,
    Medium,
    High,
    VeryHigh,
}

impl MatchLevel {
    /// The level of a score: Very High from 80, High from 60, Medium from 40, Low from 1;
    /// `None` for 0, which is no match.
    pub fn from_score(score: u8) -> Option<Self> {
        match score {
            0 => None,
            1..=39 => Some(Self::Low),
            40..=59 => Some(Self::Medium),
            60..=79 => Some(Self::High),
            _ => Some(Self::VeryHigh),
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::Low => "Low",
            Self::Medium => "Medium",
            Self::High => "High",
            Self::VeryHigh => "Very High",
        }
    }
}

impl fmt::Display for MatchLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Which rules of a profile matched, as bits by rule index (profiles have at most 64 rules).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RuleMask(u64);

impl RuleMask {
    pub fn contains(&self, rule: usize) -> bool {
        rule < 64 && self.0 & (1 << rule) != 0
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    pub fn len(&self) -> usize {
        self.0.count_ones() as usize
    }

    /// Rule indices, ascending.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..64).filter(|i| self.contains(*i))
    }

    /// Whether every rule in `other` is in `self`.
    pub fn covers(&self, other: RuleMask) -> bool {
        self.0 & other.0 == other.0
    }

    pub(crate) fn insert(&mut self, rule: usize) {
        self.0 |= 1 << rule;
    }

    pub(crate) fn clear(&mut self) {
        self.0 = 0;
    }
}

/// A profile an endpoint was matched to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProfileRef {
    /// A rule-based profile of the engine.
    Rules(ProfileId),
    /// A Defender dynamic profile, by name (e.g. `⇋ Windows11 24H2`).
    Dynamic(String),
}

/// One profile's result for one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileMatch {
    pub profile: ProfileRef,
    /// 1 to 100: the matched rules' weights, summed and capped; 100 for dynamic profiles.
    pub score: u8,
    pub level: MatchLevel,
    /// The rules that matched (empty for dynamic profiles).
    pub matched: RuleMask,
}

/// The classification of one endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Classification {
    /// The assigned profile; `None` when nothing matched.
    pub best: Option<ProfileMatch>,
    /// Other profiles considered, best first, at most
    /// [`super::ProfileEngine::MAX_CONSIDERED`], so the UI can explain the choice.
    pub considered: Vec<ProfileMatch>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_score_bands() {
        let cases = [
            (0, None),
            (1, Some(MatchLevel::Low)),
            (39, Some(MatchLevel::Low)),
            (40, Some(MatchLevel::Medium)),
            (59, Some(MatchLevel::Medium)),
            (60, Some(MatchLevel::High)),
            (79, Some(MatchLevel::High)),
            (80, Some(MatchLevel::VeryHigh)),
            (100, Some(MatchLevel::VeryHigh)),
        ];
        for (score, want) in cases {
            assert_eq!(MatchLevel::from_score(score), want, "{score}");
        }
        assert_eq!(MatchLevel::VeryHigh.to_string(), "Very High");
        assert!(MatchLevel::VeryHigh > MatchLevel::Low);
    }

    #[test]
    fn rule_masks_hold_indices() {
        let mut mask = RuleMask::default();
        assert!(mask.is_empty());
        mask.insert(0);
        mask.insert(63);
        assert_eq!(mask.iter().collect::<Vec<_>>(), [0, 63]);
        assert_eq!(mask.len(), 2);
        assert!(!mask.contains(64));
        let mut required = RuleMask::default();
        required.insert(63);
        assert!(mask.covers(required));
        required.insert(5);
        assert!(!mask.covers(required));
        mask.clear();
        assert!(mask.is_empty());
    }
}
