//! The digest stored beside an endpoint's assessment (`endpoint_assessment.digest`).
//!
//! A re-model compares the digest of what it computed with the stored one instead of reading
//! the stored JSON back: at 100k endpoints that JSON is about 100 MB per re-model. The digest
//! is stored, so it must not change between builds: SHA-256 (not `std`'s hasher, whose output
//! may change with the compiler), truncated to 64 bits. An accidental collision between an
//! endpoint's old and new assessment (odds about 1 in 2^64) would leave the old one stored until
//! the next change.

use sha2::{Digest, Sha256};

/// The stored fields of one assessment, in the order they are hashed.
pub(crate) struct AssessmentFields<'a> {
    pub profile_name: Option<&'a str>,
    pub match_level: Option<&'a str>,
    pub profiles_considered: &'a str,
    pub risk_level: &'a str,
    pub risk: &'a str,
    pub defender_risk: Option<&'a str>,
}

impl AssessmentFields<'_> {
    pub(crate) fn digest(&self) -> i64 {
        let mut hash = Sha256::new();
        for field in [
            self.profile_name,
            self.match_level,
            Some(self.profiles_considered),
            Some(self.risk_level),
            Some(self.risk),
            self.defender_risk,
        ] {
            // Presence and length first, so no two different field lists hash the same bytes.
            match field {
                None => hash.update([0]),
                Some(text) => {
                    hash.update([1]);
                    hash.update((text.len() as u64).to_le_bytes());
                    hash.update(text.as_bytes());
                }
            }
        }
        let full = hash.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&full[..8]);
        i64::from_le_bytes(first)
    }
}

#[cfg(test)]
mod tests {
    use super::AssessmentFields;

    fn fields<'a>(profile: Option<&'a str>, risk: &'a str) -> AssessmentFields<'a> {
        AssessmentFields {
            profile_name: profile,
            match_level: Some("High"),
            profiles_considered: "[]",
            risk_level: "Low",
            risk,
            defender_risk: None,
        }
    }

    #[test]
    fn the_digest_is_fixed_across_builds() {
        // Stored in databases: a change here would make every stored digest look stale. The
        // expected value was computed independently (Python hashlib) from the same bytes.
        assert_eq!(
            fields(Some("Windows Server"), "{}").digest(),
            -93_191_597_001_452_769
        );
    }

    #[test]
    fn every_field_and_its_boundaries_count() {
        let base = fields(Some("A"), "{}").digest();
        assert_ne!(base, fields(Some("B"), "{}").digest());
        assert_ne!(base, fields(None, "{}").digest());
        assert_ne!(base, fields(Some("A"), "{ }").digest());
        // Moving text from one field to the next is a different assessment.
        let a = AssessmentFields {
            profile_name: Some("ab"),
            match_level: Some("c"),
            ..fields(None, "{}")
        };
        let b = AssessmentFields {
            profile_name: Some("a"),
            match_level: Some("bc"),
            ..fields(None, "{}")
        };
        assert_ne!(a.digest(), b.digest());
        // An empty text is not an absent one.
        let empty = AssessmentFields {
            defender_risk: Some(""),
            ..fields(Some("A"), "{}")
        };
        assert_ne!(base, empty.digest());
    }
}
