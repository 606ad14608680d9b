//! Integrations as the console shows them, the Defender form, and the checks both the browser
//! and the server apply to it (the server's verdict is the one that counts).

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// The state column of Configuration > Integrations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntegrationState {
    NotConfigured,
    Enabled,
    Disabled,
    Error,
}

impl IntegrationState {
    pub fn label(self) -> &'static str {
        match self {
            Self::NotConfigured => "Not configured",
            Self::Enabled => "Enabled",
            Self::Disabled => "Disabled",
            Self::Error => "Error",
        }
    }

    pub fn css_class(self) -> &'static str {
        match self {
            Self::NotConfigured => "state state-unconfigured",
            Self::Enabled => "state state-enabled",
            Self::Disabled => "state state-disabled",
            Self::Error => "state state-error",
        }
    }
}

/// One row of the integrations list. A new integration (e.g. Tenable) is a new row kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntegrationSummary {
    pub kind: String,
    pub name: String,
    pub href: String,
    pub state: IntegrationState,
    pub last_error: Option<String>,
    pub last_sync_at: Option<String>,
    pub last_sync_outcome: Option<String>,
    pub demo: bool,
}

/// Microsoft's clouds for Defender (defender-api.md §1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CloudChoice {
    Commercial,
    Gcc,
    GccHigh,
    Dod,
}

impl CloudChoice {
    pub const ALL: [CloudChoice; 4] = [Self::Commercial, Self::Gcc, Self::GccHigh, Self::Dod];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Commercial => "commercial",
            Self::Gcc => "gcc",
            Self::GccHigh => "gcc-high",
            Self::Dod => "dod",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Commercial => "Commercial",
            Self::Gcc => "US Gov GCC",
            Self::GccHigh => "US Gov GCC High",
            Self::Dod => "US Gov DoD",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == value)
    }
}

/// The Microsoft Defender form as submitted. An empty secret keeps the stored one.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DefenderForm {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub cloud: String,
    pub geo_api_host: String,
    pub custom_login_url: String,
    pub custom_api_url: String,
    pub enabled: bool,
    /// The import allow-list: device-group names, one per line; empty imports every group.
    #[serde(default)]
    pub import_groups: String,
}

/// At most this many device groups in the import allow-list.
pub const MAX_IMPORT_GROUPS: usize = 100;

/// The allow-list's names, one per line, trimmed, without blanks or repeats, in order.
pub fn import_group_list(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in text.lines().map(str::trim).filter(|n| !n.is_empty()) {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    names
}

/// Every field but the secret, which shows only whether one was entered.
impl std::fmt::Debug for DefenderForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Destructured, so a field added later must be placed here on purpose.
        let Self {
            tenant_id,
            client_id,
            client_secret,
            cloud,
            geo_api_host,
            custom_login_url,
            custom_api_url,
            enabled,
            import_groups,
        } = self;
        let secret = if client_secret.is_empty() {
            "[empty]"
        } else {
            "[redacted]"
        };
        f.debug_struct("DefenderForm")
            .field("tenant_id", tenant_id)
            .field("client_id", client_id)
            .field("client_secret", &secret)
            .field("cloud", cloud)
            .field("geo_api_host", geo_api_host)
            .field("custom_login_url", custom_login_url)
            .field("custom_api_url", custom_api_url)
            .field("enabled", enabled)
            .field("import_groups", import_groups)
            .finish()
    }
}

/// The saved Defender configuration as the page shows it: never the secret, only whether one
/// is set and when it last changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DefenderConfigView {
    pub tenant_id: String,
    pub client_id: String,
    pub cloud: String,
    pub geo_api_host: String,
    pub custom_login_url: String,
    pub custom_api_url: String,
    pub enabled: bool,
    pub secret_set: bool,
    pub secret_changed_at: Option<String>,
    pub state: IntegrationState,
    pub last_error: Option<String>,
    pub last_sync_at: Option<String>,
    pub last_sync_outcome: Option<String>,
    pub next_sync_at: Option<String>,
    pub demo: bool,
    pub can_edit: bool,
    /// The viewer may change the geo API host and the custom URLs (Administrators only).
    pub can_choose_hosts: bool,
    /// The import allow-list of device groups; empty imports every group.
    pub import_groups: Vec<String>,
}

/// One line of the Test Connection report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub name: String,
    pub passed: bool,
    pub detail: String,
    /// What to do about a failure, in plain words.
    pub fix: Option<String>,
}

/// A feature of the product against the Defender permission it needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PermissionRow {
    pub feature: String,
    pub needs: String,
    pub granted: bool,
}

/// The outcome of Test Connection: an expected result, pass or fail, never an error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionReport {
    pub checks: Vec<CheckResult>,
    pub permissions: Vec<PermissionRow>,
    pub passed: bool,
}

fn is_guid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    groups.len() == 5
        && groups
            .iter()
            .zip(lengths)
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A DNS name of at least two labels, each 1 to 63 letters, digits or inner hyphens.
pub fn is_hostname(value: &str) -> bool {
    let labels: Vec<&str> = value.split('.').collect();
    value.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_alphabetic()))
}

/// An absolute http(s) URL with a host and nothing after the path.
fn is_base_url(value: &str) -> bool {
    let Some(rest) = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
    else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    !authority.is_empty()
        && !value.contains(['?', '#', ' ', '"', '<', '>', '\\'])
        && authority
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

/// The host of an http(s) URL's authority, without port or IPv6 brackets.
fn url_host(value: &str) -> &str {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .unwrap_or(value);
    let authority = rest.split('/').next().unwrap_or_default();
    match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    }
}

/// This machine: 127.0.0.0/8, ::1 or `localhost`. Plain http to it never crosses a network,
/// which is what the bundled simulator (on http://127.0.0.1) needs.
pub fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Checks every field; returns all problems at once so the form can mark each input.
/// `secret_stored` says whether an empty secret field may keep a stored secret.
pub fn validate_defender_form(form: &DefenderForm, secret_stored: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut fail = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        })
    };
    let tenant = form.tenant_id.trim();
    if tenant.is_empty() {
        fail("tenant_id", "Enter the Directory (tenant) ID.");
    } else if !(is_guid(tenant) || is_hostname(tenant)) {
        fail(
            "tenant_id",
            "Use the tenant's GUID (Directory ID) or a verified domain such as \
             contoso.onmicrosoft.com.",
        );
    } else if matches!(tenant, "common" | "organizations" | "consumers") {
        fail(
            "tenant_id",
            "Client credentials need a specific tenant, not a shared endpoint.",
        );
    }
    let client = form.client_id.trim();
    if client.is_empty() {
        fail("client_id", "Enter the Application (client) ID.");
    } else if !is_guid(client) {
        fail(
            "client_id",
            "The Application (client) ID is a GUID like 00000000-0000-0000-0000-000000000000.",
        );
    }
    if form.client_secret.is_empty() && !secret_stored {
        fail("client_secret", "Enter the client secret value.");
    } else if form.client_secret.chars().count() > 512 {
        fail(
            "client_secret",
            "A client secret is at most 512 characters.",
        );
    } else if form.client_secret.chars().any(char::is_control) {
        fail(
            "client_secret",
            "The secret contains control characters; paste the value only.",
        );
    } else if is_guid(form.client_secret.trim()) {
        // The portal shows both a "Secret ID" (a GUID) and the secret "Value"; people paste the
        // wrong one (defender-api.md §2.5, AADSTS7000215).
        fail(
            "client_secret",
            "This looks like the secret's ID; paste the secret's Value instead.",
        );
    }
    if CloudChoice::parse(&form.cloud).is_none() {
        fail("cloud", "Choose a cloud.");
    }
    let geo = form.geo_api_host.trim();
    if !geo.is_empty() && !is_hostname(geo) {
        fail(
            "geo_api_host",
            "Enter a host name only, e.g. api-eu.securitycenter.microsoft.com.",
        );
    }
    let login = form.custom_login_url.trim();
    let api = form.custom_api_url.trim();
    if login.is_empty() != api.is_empty() {
        let field = if login.is_empty() {
            "custom_login_url"
        } else {
            "custom_api_url"
        };
        fail(field, "Give both custom URLs (login and API), or neither.");
    }
    for (field, value) in [("custom_login_url", login), ("custom_api_url", api)] {
        if !value.is_empty() && !is_base_url(value) {
            fail(
                field,
                "Enter an absolute http(s) URL such as https://proxy.example.com.",
            );
        } else if value.starts_with("http://") && !is_loopback_host(url_host(value)) {
            // The client secret and the access tokens travel in these requests.
            fail(
                field,
                "Use https: plain http is allowed only for this machine (127.0.0.1, ::1, \
                 localhost).",
            );
        }
    }
    let groups = import_group_list(&form.import_groups);
    if groups.len() > MAX_IMPORT_GROUPS {
        fail(
            "import_groups",
            "List at most 100 device groups, or leave the list empty to import every group.",
        );
    } else if groups
        .iter()
        .any(|g| g.chars().count() > 256 || g.chars().any(char::is_control))
    {
        fail(
            "import_groups",
            "A device group name is at most 256 characters, one name per line.",
        );
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUID: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

    fn valid() -> DefenderForm {
        DefenderForm {
            tenant_id: GUID.into(),
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            client_secret: "s3cr3t~value.with.dots".into(),
            cloud: "commercial".into(),
            ..Default::default()
        }
    }

    #[test]
    fn the_import_allow_list_is_one_name_per_line() {
        assert_eq!(
            import_group_list(" Servers \n\nFinance, EU\r\nServers\n"),
            ["Servers", "Finance, EU"]
        );
        assert!(import_group_list("\n  \n").is_empty());
        let many = (0..=MAX_IMPORT_GROUPS)
            .map(|i| format!("group {i}"))
            .collect::<Vec<_>>()
            .join("\n");
        for (text, refused) in [
            ("Servers\nFinance", false),
            (many.as_str(), true),
            (&"x".repeat(257), true),
            ("Servers\tEU", true),
        ] {
            let form = DefenderForm {
                import_groups: text.into(),
                ..valid()
            };
            assert_eq!(
                fields(&form, false).contains(&"import_groups".to_owned()),
                refused,
                "{text:?}"
            );
        }
    }

    fn fields(form: &DefenderForm, stored: bool) -> Vec<String> {
        validate_defender_form(form, stored)
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn debug_hides_the_secret() {
        let shown = format!("{:?}", valid());
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("client_secret: \"[redacted]\"") && shown.contains(GUID));
        let empty = DefenderForm::default();
        assert!(format!("{empty:?}").contains("[empty]"));
    }

    #[test]
    fn a_complete_form_passes() {
        assert!(fields(&valid(), false).is_empty());
        let domain = DefenderForm {
            tenant_id: "contoso.onmicrosoft.com".into(),
            ..valid()
        };
        assert!(fields(&domain, false).is_empty());
    }

    #[test]
    fn each_field_is_checked() {
        let cases: Vec<(DefenderForm, &str)> = vec![
            (
                DefenderForm {
                    tenant_id: "".into(),
                    ..valid()
                },
                "tenant_id",
            ),
            (
                DefenderForm {
                    tenant_id: "not a tenant".into(),
                    ..valid()
                },
                "tenant_id",
            ),
            (
                DefenderForm {
                    tenant_id: "localhost".into(),
                    ..valid()
                },
                "tenant_id",
            ),
            (
                DefenderForm {
                    client_id: "abc".into(),
                    ..valid()
                },
                "client_id",
            ),
            (
                DefenderForm {
                    client_secret: "".into(),
                    ..valid()
                },
                "client_secret",
            ),
            (
                DefenderForm {
                    client_secret: GUID.into(),
                    ..valid()
                },
                "client_secret",
            ),
            (
                DefenderForm {
                    client_secret: "a\nb".into(),
                    ..valid()
                },
                "client_secret",
            ),
            (
                DefenderForm {
                    cloud: "azure".into(),
                    ..valid()
                },
                "cloud",
            ),
            (
                DefenderForm {
                    geo_api_host: "https://x".into(),
                    ..valid()
                },
                "geo_api_host",
            ),
            (
                DefenderForm {
                    custom_login_url: "http://127.0.0.1:9".into(),
                    ..valid()
                },
                "custom_api_url",
            ),
            (
                DefenderForm {
                    custom_login_url: "ftp://x".into(),
                    custom_api_url: "http://127.0.0.1:9".into(),
                    ..valid()
                },
                "custom_login_url",
            ),
        ];
        for (form, field) in cases {
            assert_eq!(fields(&form, false), vec![field.to_owned()], "{form:?}");
        }
    }

    #[test]
    fn an_empty_secret_keeps_a_stored_one() {
        let form = DefenderForm {
            client_secret: String::new(),
            ..valid()
        };
        assert!(fields(&form, true).is_empty());
    }

    #[test]
    fn plain_http_only_to_this_machine() {
        let with = |url: &str| DefenderForm {
            custom_login_url: url.into(),
            custom_api_url: url.into(),
            ..valid()
        };
        for ok in [
            "https://proxy.example.com",
            "http://127.0.0.1:8950",
            "http://127.9.8.7",
            "http://localhost:3000/base",
            "http://[::1]:8950",
        ] {
            assert!(fields(&with(ok), false).is_empty(), "{ok}");
        }
        for refused in [
            "http://proxy.example.com",
            "http://10.0.0.5:8950",
            "http://[fe80::1]",
            "http://localhost.evil.example",
        ] {
            assert_eq!(
                fields(&with(refused), false),
                ["custom_login_url", "custom_api_url"],
                "{refused}"
            );
        }
    }

    #[test]
    fn custom_urls_for_the_simulator_pass() {
        let form = DefenderForm {
            custom_login_url: "http://127.0.0.1:8950".into(),
            custom_api_url: "http://127.0.0.1:8950".into(),
            ..valid()
        };
        assert!(fields(&form, false).is_empty());
    }
}
