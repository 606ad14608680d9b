//! Which kind of source reported an endpoint.

use serde::{Deserialize, Serialize};

/// A source of endpoint data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// An imported `nmap -oX` file.
    Nmap,
    /// A network sensor posting observations.
    Sensor,
    /// Microsoft Defender for Endpoint's machine list.
    Defender,
}

impl SourceKind {
    pub const ALL: [SourceKind; 3] = [Self::Nmap, Self::Sensor, Self::Defender];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Nmap => "nmap",
            Self::Sensor => "sensor",
            Self::Defender => "defender",
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A small set of [`SourceKind`]s, stored as bits so endpoints stay compact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SourceSet(u8);

impl SourceSet {
    pub fn insert(&mut self, source: SourceKind) {
        self.0 |= source.bit();
    }

    pub fn contains(&self, source: SourceKind) -> bool {
        self.0 & source.bit() != 0
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The members in [`SourceKind::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = SourceKind> + '_ {
        SourceKind::ALL.into_iter().filter(|s| self.contains(*s))
    }
}

impl FromIterator<SourceKind> for SourceSet {
    fn from_iter<I: IntoIterator<Item = SourceKind>>(iter: I) -> Self {
        let mut set = Self::default();
        for source in iter {
            set.insert(source);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_set_keeps_members_in_order() {
        let set: SourceSet = [SourceKind::Defender, SourceKind::Nmap]
            .into_iter()
            .collect();
        assert!(set.contains(SourceKind::Nmap));
        assert!(!set.contains(SourceKind::Sensor));
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [SourceKind::Nmap, SourceKind::Defender]
        );
        assert!(SourceSet::default().is_empty());
    }
}
