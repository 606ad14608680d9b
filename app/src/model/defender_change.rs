//! Which changes of the Defender settings need the client secret entered again, and which only
//! an Administrator may make. The browser and the server apply the same rules; the server's
//! verdict is the one that counts.
//!
//! The stored secret may only ever be sent where it was entered for: whoever changes the
//! tenant, the app or a host without knowing the secret must not be able to make the server
//! send it (or the tokens it buys) somewhere else.

use serde::{Deserialize, Serialize};

use super::integration::{DefenderConfigView, DefenderForm};
use crate::error::FieldError;

/// Every value that decides whose credentials the secret is and which hosts receive it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefenderDestination {
    pub tenant_id: String,
    pub client_id: String,
    pub cloud: String,
    pub geo_api_host: String,
    pub custom_login_url: String,
    pub custom_api_url: String,
}

/// One value of a destination: its form field, its name in messages and the audit log, and
/// whether it names a host (those are for Administrators).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DestinationField {
    pub field: &'static str,
    pub label: &'static str,
    pub host: bool,
}

const fn field(field: &'static str, label: &'static str, host: bool) -> DestinationField {
    DestinationField { field, label, host }
}

/// In form order; [`DefenderDestination::values`] follows it.
pub const DESTINATION_FIELDS: [DestinationField; 6] = [
    field("tenant_id", "tenant ID", false),
    field("client_id", "client ID", false),
    field("cloud", "cloud", false),
    field("geo_api_host", "geo API host", true),
    field("custom_login_url", "custom login URL", true),
    field("custom_api_url", "custom API URL", true),
];

impl DefenderDestination {
    pub fn of_form(form: &DefenderForm) -> Self {
        Self {
            tenant_id: form.tenant_id.trim().to_owned(),
            client_id: form.client_id.trim().to_owned(),
            cloud: form.cloud.trim().to_owned(),
            geo_api_host: form.geo_api_host.trim().to_owned(),
            custom_login_url: form.custom_login_url.trim().to_owned(),
            custom_api_url: form.custom_api_url.trim().to_owned(),
        }
    }

    pub fn of_view(view: &DefenderConfigView) -> Self {
        Self {
            tenant_id: view.tenant_id.clone(),
            client_id: view.client_id.clone(),
            cloud: view.cloud.clone(),
            geo_api_host: view.geo_api_host.clone(),
            custom_login_url: view.custom_login_url.clone(),
            custom_api_url: view.custom_api_url.clone(),
        }
    }

    /// The values in the order of [`DESTINATION_FIELDS`].
    pub fn values(&self) -> [&str; 6] {
        [
            &self.tenant_id,
            &self.client_id,
            &self.cloud,
            &self.geo_api_host,
            &self.custom_login_url,
            &self.custom_api_url,
        ]
    }

    /// The fields whose values differ from `other`'s, each with the old and the new value.
    pub fn changes<'a>(&'a self, other: &'a Self) -> Vec<(DestinationField, &'a str, &'a str)> {
        DESTINATION_FIELDS
            .into_iter()
            .zip(self.values().into_iter().zip(other.values()))
            .filter(|(_, (old, new))| old != new)
            .map(|(f, (old, new))| (f, old, new))
            .collect()
    }
}

/// What is stored now, as far as a change is concerned.
#[derive(Clone, Copy, Debug)]
pub struct Stored<'a> {
    /// `None` when nothing is configured yet.
    pub destination: Option<&'a DefenderDestination>,
    pub secret_stored: bool,
}

/// The problems with making `form` the configuration (or testing it) on top of `stored`:
/// a host changed by someone who may not choose hosts, and a changed destination without
/// the secret entered again. `validate_defender_form` checks the values themselves.
pub fn check_defender_change(
    stored: Stored<'_>,
    form: &DefenderForm,
    may_choose_hosts: bool,
) -> Vec<FieldError> {
    let nothing = DefenderDestination::default();
    let before = stored.destination.unwrap_or(&nothing);
    let after = DefenderDestination::of_form(form);
    let changes = before.changes(&after);
    let mut errors = Vec::new();
    if !may_choose_hosts {
        for (f, _, _) in changes.iter().filter(|(f, _, _)| f.host) {
            errors.push(FieldError {
                field: f.field.into(),
                message: format!("Only an Administrator can change the {}.", f.label),
            });
        }
    }
    let keeps_stored_secret = stored.secret_stored && form.client_secret.is_empty();
    if keeps_stored_secret && stored.destination.is_some() && !changes.is_empty() {
        let labels: Vec<&str> = changes.iter().map(|(f, _, _)| f.label).collect();
        errors.push(FieldError {
            field: "client_secret".into(),
            message: format!(
                "Enter the client secret again: the {} changed, and the stored secret is only \
                 ever sent where it was entered for.",
                labels.join(", ")
            ),
        });
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored_destination() -> DefenderDestination {
        DefenderDestination {
            tenant_id: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d".into(),
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            cloud: "commercial".into(),
            custom_login_url: "http://127.0.0.1:8950".into(),
            custom_api_url: "http://127.0.0.1:8950".into(),
            ..Default::default()
        }
    }

    fn form_like(d: &DefenderDestination, secret: &str) -> DefenderForm {
        DefenderForm {
            tenant_id: d.tenant_id.clone(),
            client_id: d.client_id.clone(),
            client_secret: secret.into(),
            cloud: d.cloud.clone(),
            geo_api_host: d.geo_api_host.clone(),
            custom_login_url: d.custom_login_url.clone(),
            custom_api_url: d.custom_api_url.clone(),
            enabled: true,
            import_groups: String::new(),
        }
    }

    fn fields(stored: Stored<'_>, form: &DefenderForm, admin: bool) -> Vec<String> {
        check_defender_change(stored, form, admin)
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn every_destination_change_needs_the_secret_again() {
        let saved = stored_destination();
        let stored = Stored {
            destination: Some(&saved),
            secret_stored: true,
        };
        assert!(fields(stored, &form_like(&saved, ""), true).is_empty());
        for (i, f) in DESTINATION_FIELDS.iter().enumerate() {
            let mut form = form_like(&saved, "");
            let value = match i {
                0 => &mut form.tenant_id,
                1 => &mut form.client_id,
                2 => &mut form.cloud,
                3 => &mut form.geo_api_host,
                4 => &mut form.custom_login_url,
                _ => &mut form.custom_api_url,
            };
            value.push('x');
            let errors = check_defender_change(stored, &form, true);
            assert_eq!(errors.len(), 1, "{}", f.field);
            assert_eq!(errors[0].field, "client_secret");
            assert!(
                errors[0]
                    .message
                    .starts_with("Enter the client secret again")
                    && errors[0].message.contains(f.label),
                "{}",
                errors[0].message
            );
            form.client_secret = "a~new.secret".into();
            assert!(fields(stored, &form, true).is_empty(), "{}", f.field);
        }
    }

    #[test]
    fn hosts_are_for_administrators() {
        let saved = stored_destination();
        let stored = Stored {
            destination: Some(&saved),
            secret_stored: true,
        };
        let mut form = form_like(&saved, "a~new.secret");
        form.custom_login_url = "https://login.proxy.example".into();
        form.geo_api_host = "api-eu.securitycenter.microsoft.com".into();
        assert_eq!(
            fields(stored, &form, false),
            ["geo_api_host", "custom_login_url"]
        );
        assert!(fields(stored, &form, true).is_empty());
        // The other values stay an Operator's to change, with the secret.
        let mut form = form_like(&saved, "a~new.secret");
        form.tenant_id = "contoso.onmicrosoft.com".into();
        form.enabled = false;
        assert!(fields(stored, &form, false).is_empty());
        // With nothing stored, any host is a change.
        let nothing = Stored {
            destination: None,
            secret_stored: false,
        };
        assert_eq!(
            fields(nothing, &form_like(&saved, "s"), false),
            ["custom_login_url", "custom_api_url"]
        );
        let microsoft = DefenderDestination {
            custom_login_url: String::new(),
            custom_api_url: String::new(),
            ..saved.clone()
        };
        assert!(fields(nothing, &form_like(&microsoft, "s"), false).is_empty());
    }

    #[test]
    fn changes_carry_old_and_new_values() {
        let old = stored_destination();
        let new = DefenderDestination {
            custom_login_url: "https://x.example".into(),
            ..old.clone()
        };
        let changes = old.changes(&new);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].0.label, "custom login URL");
        assert_eq!(
            (changes[0].1, changes[0].2),
            ("http://127.0.0.1:8950", "https://x.example")
        );
    }
}
