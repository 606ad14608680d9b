//! The profiles Endpoint Analytics ships with, kept as data in `factory_profiles.toml` and
//! embedded in the binary.

use super::catalogue::{parse_profiles, ProfileError};
use super::profile::Profile;

/// The factory profile file, as shipped.
pub const FACTORY_PROFILES_TOML: &str = include_str!("factory_profiles.toml");

/// Parses and checks the factory profiles. Call once at start-up; an error is a bug in the
/// shipped file (the tests below parse it), and should stop the server.
pub fn factory_profiles() -> Result<Vec<Profile>, ProfileError> {
    parse_profiles(FACTORY_PROFILES_TOML).map_err(|mut e| {
        e.message = format!("{} (in the factory profiles)", e.message);
        e
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_factory_file_parses_into_twenty_profiles() {
        let profiles = factory_profiles().unwrap();
        assert_eq!(profiles.len(), 20);
        assert!(profiles
            .iter()
            .all(|p| p.enabled && !p.description.is_empty()));
        let risky: Vec<_> = profiles
            .iter()
            .filter(|p| p.risky)
            .map(|p| p.name.as_str())
            .collect();
        assert!(
            risky.contains(&"Network Printer") && risky.contains(&"IP Camera"),
            "{risky:?}"
        );
        for name in [
            "Windows Workstation",
            "Windows Server",
            "Linux Server",
            "macOS",
            "IP Phone",
            "Network Switch",
        ] {
            assert!(profiles.iter().any(|p| p.name == name), "{name} missing");
        }
    }
}
