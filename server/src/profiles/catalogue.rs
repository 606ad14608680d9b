//! Reading profile definitions from TOML (the factory file, later custom ones) and checking
//! them, with errors that point at the profile and rule at fault.

use std::collections::HashSet;
use std::fmt;

use serde::Deserialize;

use super::dynamic::DYNAMIC_PREFIX;
use super::profile::Profile;
use super::rule::{Attribute, Rule};

/// Why a profile definition was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileError {
    /// 1-based position of the profile in its file, when the fault is in one profile.
    pub profile: Option<usize>,
    pub name: Option<String>,
    /// 1-based position of the rule in its profile.
    pub rule: Option<usize>,
    pub message: String,
}

impl ProfileError {
    fn file(message: String) -> Self {
        Self {
            profile: None,
            name: None,
            rule: None,
            message,
        }
    }
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(profile) = self.profile {
            write!(f, "profile #{profile}")?;
            if let Some(name) = &self.name {
                write!(f, " '{name}'")?;
            }
            if let Some(rule) = self.rule {
                write!(f, ", rule #{rule}")?;
            }
            write!(f, ": ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ProfileError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireFile {
    #[serde(default)]
    profile: Vec<WireProfile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireProfile {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    risky: bool,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
    rules: Vec<WireRule>,
}

fn enabled_by_default() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireRule {
    attribute: Attribute,
    pattern: Option<String>,
    ports: Option<Vec<u16>>,
    weight: u8,
    #[serde(default)]
    required: bool,
}

/// Parses a TOML file of `[[profile]]` tables (see `factory_profiles.toml` for the format)
/// and checks every profile: names unique and not in the dynamic-profile namespace, 1 to 64
/// rules, patterns that compile, weights from 1 to 100.
pub fn parse_profiles(toml_text: &str) -> Result<Vec<Profile>, ProfileError> {
    let file: WireFile = toml::from_str(toml_text)
        .map_err(|e| ProfileError::file(format!("the profile file is not valid: {e}")))?;
    let mut seen = HashSet::new();
    let mut profiles = Vec::with_capacity(file.profile.len());
    for (index, wire) in file.profile.into_iter().enumerate() {
        let at = |name: Option<&str>, rule: Option<usize>, message: String| ProfileError {
            profile: Some(index + 1),
            name: name.map(str::to_owned),
            rule,
            message,
        };
        let name = wire.name.trim().to_owned();
        if name.is_empty() || name.chars().any(char::is_control) {
            return Err(at(
                None,
                None,
                "the name is empty or has control characters".to_owned(),
            ));
        }
        if name.starts_with(DYNAMIC_PREFIX.trim_end()) {
            let message = format!(
                "names starting with '{DYNAMIC_PREFIX}' are kept for Defender's dynamic profiles"
            );
            return Err(at(Some(&name), None, message));
        }
        if !seen.insert(name.to_lowercase()) {
            return Err(at(
                Some(&name),
                None,
                "the name is already used by another profile".to_owned(),
            ));
        }
        if wire.rules.is_empty() || wire.rules.len() > Profile::MAX_RULES {
            let message = format!("a profile needs 1 to {} rules", Profile::MAX_RULES);
            return Err(at(Some(&name), None, message));
        }
        let mut rules = Vec::with_capacity(wire.rules.len());
        for (rule_index, rule) in wire.rules.into_iter().enumerate() {
            let rule = match (rule.pattern, rule.ports) {
                (Some(pattern), None) => {
                    Rule::pattern(rule.attribute, &pattern, rule.weight, rule.required)
                }
                (None, Some(ports)) if rule.attribute == Attribute::OpenPort => {
                    Rule::ports(ports, rule.weight, rule.required)
                }
                (None, Some(_)) => {
                    Err("`ports` is only for open_port rules; use `pattern`".to_owned())
                }
                (None, None) => {
                    Err("a rule needs a `pattern` (or `ports` for open_port)".to_owned())
                }
                (Some(_), Some(_)) => Err("a rule takes `pattern` or `ports`, not both".to_owned()),
            }
            .map_err(|message| at(Some(&name), Some(rule_index + 1), message))?;
            rules.push(rule);
        }
        profiles.push(Profile {
            name,
            description: wire.description.trim().to_owned(),
            risky: wire.risky,
            enabled: wire.enabled,
            rules,
        });
    }
    if profiles.len() > usize::from(u16::MAX) {
        return Err(ProfileError::file(format!(
            "more than {} profiles",
            u16::MAX
        )));
    }
    Ok(profiles)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRINTER: &str = r#"
[[profile]]
name = "Printer"
description = " Prints. "
risky = true
rules = [
  { attribute = "open_port", ports = [9100], weight = 40 },
  { attribute = "mac_vendor", pattern = "Brother", weight = 30, required = true },
]
"#;

    #[test]
    fn a_valid_file_is_read_with_defaults() {
        let profiles = parse_profiles(PRINTER).unwrap();
        assert_eq!(profiles.len(), 1);
        let printer = &profiles[0];
        assert_eq!(printer.name, "Printer");
        assert_eq!(printer.description, "Prints.");
        assert!(printer.risky && printer.enabled);
        assert_eq!(printer.rules.len(), 2);
        assert!(printer.rules[1].required);
        assert_eq!(parse_profiles("").unwrap().len(), 0);
    }

    #[test]
    fn faults_name_the_profile_and_rule() {
        let rule =
            |body: &str| format!("[[profile]]\nname = \"P\"\nrules = [\n  {{ {body} }},\n]\n");
        let cases = [
            (
                rule(r#"attribute = "hostname", pattern = "(", weight = 10"#),
                "profile #1 'P', rule #1: pattern '(' does not compile",
            ),
            (
                rule(r#"attribute = "hostname", weight = 10"#),
                "rule #1: a rule needs a `pattern`",
            ),
            (
                rule(r#"attribute = "hostname", ports = [1], weight = 10"#),
                "`ports` is only for open_port",
            ),
            (
                rule(r#"attribute = "open_port", pattern = "x", weight = 10"#),
                "take `ports`",
            ),
            (
                rule(r#"attribute = "open_port", ports = [1], pattern = "x", weight = 10"#),
                "not both",
            ),
            (
                rule(r#"attribute = "hostname", pattern = "x", weight = 0"#),
                "weight 0 is not between 1 and 100",
            ),
            (
                rule(r#"attribute = "colour", pattern = "x", weight = 1"#),
                "unknown variant `colour`",
            ),
            (
                rule(r#"attribute = "hostname", pattern = "x", weight = 1, extra = 1"#),
                "unknown field `extra`",
            ),
            (
                "[[profile]]\nname = \"P\"\nrules = []\n".to_owned(),
                "profile #1 'P': a profile needs 1 to 64 rules",
            ),
            (
                "[[profile]]\nname = \" \"\nrules = []\n".to_owned(),
                "profile #1: the name is empty",
            ),
            (
                "[[profile]]\nname = \"⇋ Windows11\"\nrules = []\n".to_owned(),
                "kept for Defender's dynamic profiles",
            ),
            (
                format!("{PRINTER}{}", PRINTER.replace("Printer", "printer")),
                "profile #2 'printer': the name is already used",
            ),
            ("[[profile]\n".to_owned(), "the profile file is not valid"),
        ];
        for (toml, want) in cases {
            let err = parse_profiles(&toml).expect_err(&toml).to_string();
            assert!(err.contains(want), "{toml}\n{err:?} lacks {want:?}");
        }
    }
}
