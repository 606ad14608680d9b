//! Defender dynamic profiles: for endpoints whose OS Defender reports, a profile per OS
//! platform (`⇋ Windows11`) and per platform and version (`⇋ Windows11 24H2`). They exist only
//! by name, derived from the endpoints; the most specific one is assigned with a Very High
//! match, because Defender's sensor reads the OS from the machine itself.

use std::collections::BTreeSet;

use crate::inventory::{DefenderOs, Endpoint};

/// Starts every dynamic profile name; reserved, so rule-based profiles cannot use it.
pub const DYNAMIC_PREFIX: &str = "⇋ ";

/// The dynamic profile name for a platform, and version when known: `⇋ Windows11`,
/// `⇋ Windows11 24H2`. Surrounding whitespace is ignored; a blank version counts as none.
pub fn dynamic_profile_name(os_platform: &str, version: Option<&str>) -> String {
    let platform = os_platform.trim();
    match version.map(str::trim).filter(|v| !v.is_empty()) {
        Some(version) => format!("{DYNAMIC_PREFIX}{platform} {version}"),
        None => format!("{DYNAMIC_PREFIX}{platform}"),
    }
}

/// Whether `name` is a dynamic profile's name.
pub fn is_dynamic_profile_name(name: &str) -> bool {
    name.starts_with(DYNAMIC_PREFIX)
}

/// The dynamic profiles an endpoint with this OS belongs to, general first: the platform's,
/// then the platform-and-version's when the version is known.
pub fn applicable_dynamic_profiles(os: &DefenderOs) -> Vec<String> {
    let mut names = vec![dynamic_profile_name(&os.platform, None)];
    if os.version.is_some() {
        names.push(dynamic_profile_name(&os.platform, os.version.as_deref()));
    }
    names
}

/// The dynamic profile an endpoint with this OS is assigned: the most specific applicable one.
pub fn most_specific_dynamic_profile(os: &DefenderOs) -> String {
    dynamic_profile_name(&os.platform, os.version.as_deref())
}

/// Every dynamic profile that applies to at least one of `endpoints`, sorted: the list the UI
/// shows beside the rule-based profiles.
pub fn dynamic_catalogue<'a>(
    endpoints: impl IntoIterator<Item = &'a Endpoint>,
) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for os in endpoints.into_iter().filter_map(|e| e.defender_os.as_ref()) {
        names.extend(applicable_dynamic_profiles(os));
    }
    names
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::inventory::EndpointKey;

    fn os(platform: &str, version: Option<&str>) -> DefenderOs {
        DefenderOs::from_defender(Some(platform), version).unwrap()
    }

    #[test]
    fn names_are_prefixed_and_trimmed() {
        let cases = [
            ("Windows11", None, "⇋ Windows11"),
            ("Windows11", Some("24H2"), "⇋ Windows11 24H2"),
            (" WindowsServer2022 ", Some(" "), "⇋ WindowsServer2022"),
            ("Ubuntu", Some("22.4"), "⇋ Ubuntu 22.4"),
        ];
        for (platform, version, want) in cases {
            let name = dynamic_profile_name(platform, version);
            assert_eq!(name, want);
            assert!(is_dynamic_profile_name(&name));
        }
        assert!(!is_dynamic_profile_name("Windows Workstation"));
    }

    #[test]
    fn the_most_specific_profile_applies() {
        let cases = [
            (
                os("Windows11", Some("24H2")),
                vec!["⇋ Windows11", "⇋ Windows11 24H2"],
                "⇋ Windows11 24H2",
            ),
            (os("macOS", None), vec!["⇋ macOS"], "⇋ macOS"),
            (os("Linux", Some("Unknown")), vec!["⇋ Linux"], "⇋ Linux"),
        ];
        for (os, all, best) in cases {
            assert_eq!(applicable_dynamic_profiles(&os), all);
            assert_eq!(most_specific_dynamic_profile(&os), best);
        }
    }

    #[test]
    fn the_catalogue_lists_each_profile_once() {
        let endpoint = |id: &str, os: Option<DefenderOs>| {
            let mut e = Endpoint::new(
                EndpointKey::DefenderMachine(id.into()),
                OffsetDateTime::UNIX_EPOCH,
            );
            e.defender_os = os;
            e
        };
        let endpoints = [
            endpoint("a", Some(os("Windows11", Some("24H2")))),
            endpoint("b", Some(os("Windows11", Some("23H2")))),
            endpoint("c", Some(os("Windows11", Some("24H2")))),
            endpoint("d", None),
        ];
        let names: Vec<_> = dynamic_catalogue(&endpoints).into_iter().collect();
        assert_eq!(
            names,
            ["⇋ Windows11", "⇋ Windows11 23H2", "⇋ Windows11 24H2"]
        );
    }
}
