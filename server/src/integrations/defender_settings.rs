//! The Defender integration's stored settings (everything but the secret, as JSON in
//! `integration.settings`), and how they become a Defender client.

use std::str::FromStr;
use std::time::Duration;

use app::model::defender_change::{DefenderDestination, DESTINATION_FIELDS};
use app::model::integration::{import_group_list, DefenderForm};
use serde::{Deserialize, Serialize};

use crate::defender::{
    ClientOptions, Cloud, DefenderClient, DefenderError, DefenderSettings, Endpoints,
};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredDefenderSettings {
    pub tenant_id: String,
    pub client_id: String,
    pub cloud: String,
    #[serde(default)]
    pub geo_api_host: String,
    #[serde(default)]
    pub custom_login_url: String,
    #[serde(default)]
    pub custom_api_url: String,
    /// The device groups imported (as the endpoint list names them); empty for every group.
    /// Not part of where the secret goes: changing it keeps the sealed secret.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub import_groups: Vec<String>,
}

impl StoredDefenderSettings {
    pub fn from_form(form: &DefenderForm) -> Self {
        Self {
            tenant_id: form.tenant_id.trim().to_owned(),
            client_id: form.client_id.trim().to_owned(),
            cloud: form.cloud.clone(),
            geo_api_host: form.geo_api_host.trim().to_owned(),
            custom_login_url: form.custom_login_url.trim().to_owned(),
            custom_api_url: form.custom_api_url.trim().to_owned(),
            import_groups: import_group_list(&form.import_groups),
        }
    }

    pub fn parse(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain strings always serialise")
    }

    /// The values that decide where the secret goes, as the change rules compare them.
    pub fn destination(&self) -> DefenderDestination {
        DefenderDestination {
            tenant_id: self.tenant_id.clone(),
            client_id: self.client_id.clone(),
            cloud: self.cloud.clone(),
            geo_api_host: self.geo_api_host.clone(),
            custom_login_url: self.custom_login_url.clone(),
            custom_api_url: self.custom_api_url.clone(),
        }
    }

    /// Each value that differs in `other`, with both values, for the audit log:
    /// `custom login URL: "" -> "https://x"`. Values are quoted and escaped, so whatever a
    /// field holds reads as one value.
    pub fn changes_to(&self, other: &Self) -> Vec<String> {
        let (old, new) = (self.destination(), other.destination());
        let mut changes: Vec<String> = old
            .changes(&new)
            .into_iter()
            .map(|(f, before, after)| format!("{}: {before:?} -> {after:?}", f.label))
            .collect();
        if self.import_groups != other.import_groups {
            changes.push(format!(
                "import allow-list: {:?} -> {:?}",
                self.import_groups, other.import_groups
            ));
        }
        changes
    }

    /// The values that are set, for the audit line of a new configuration.
    pub fn described(&self) -> String {
        let d = self.destination();
        let mut set: Vec<String> = DESTINATION_FIELDS
            .iter()
            .zip(d.values())
            .filter(|(_, v)| !v.is_empty())
            .map(|(f, v)| format!("{} {v:?}", f.label))
            .collect();
        if !self.import_groups.is_empty() {
            set.push(format!("import allow-list {:?}", self.import_groups));
        }
        set.join(", ")
    }

    pub fn endpoints(&self) -> Result<Endpoints, DefenderError> {
        let cloud = Cloud::from_str(&self.cloud)?;
        if self.custom_login_url.is_empty() {
            let geo = Some(self.geo_api_host.as_str()).filter(|g| !g.is_empty());
            Endpoints::for_cloud(cloud, geo)
        } else {
            Endpoints::custom_for(cloud, &self.custom_login_url, &self.custom_api_url)
        }
    }

    pub fn client(
        &self,
        secret: String,
        options: ClientOptions,
    ) -> Result<DefenderClient, DefenderError> {
        let settings =
            DefenderSettings::new(&self.tenant_id, &self.client_id, secret, self.endpoints()?);
        DefenderClient::new(settings, options)
    }
}

/// Options for Test Connection: an admin is waiting, so fail fast rather than retry for long.
pub fn interactive_options(base: &ClientOptions) -> ClientOptions {
    ClientOptions {
        request_timeout: base.request_timeout.min(Duration::from_secs(20)),
        max_retries: base.max_retries.min(1),
        max_throttle_retries: 0,
        ..base.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> StoredDefenderSettings {
        StoredDefenderSettings {
            tenant_id: "contoso.onmicrosoft.com".into(),
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            cloud: "gcc-high".into(),
            ..Default::default()
        }
    }

    #[test]
    fn the_cloud_decides_the_hosts() {
        let e = stored().endpoints().unwrap();
        assert_eq!(e.login_base.as_str(), "https://login.microsoftonline.us/");
        assert_eq!(e.portal_host, "security.microsoft.us");
    }

    #[test]
    fn custom_urls_win_but_keep_the_cloud_portal() {
        let s = StoredDefenderSettings {
            custom_login_url: "http://127.0.0.1:8950".into(),
            custom_api_url: "http://127.0.0.1:8950".into(),
            ..stored()
        };
        let e = s.endpoints().unwrap();
        assert_eq!(e.api_base.as_str(), "http://127.0.0.1:8950/");
        assert_eq!(e.portal_host, "security.microsoft.us");
    }

    #[test]
    fn changes_show_old_and_new_values() {
        let other = StoredDefenderSettings {
            cloud: "commercial".into(),
            custom_login_url: "https://x".into(),
            ..stored()
        };
        assert_eq!(
            stored().changes_to(&other),
            [
                r#"cloud: "gcc-high" -> "commercial""#,
                r#"custom login URL: "" -> "https://x""#
            ]
        );
        assert!(stored().changes_to(&stored()).is_empty());
        let scoped = StoredDefenderSettings {
            import_groups: vec!["Servers".into()],
            ..stored()
        };
        assert_eq!(
            stored().changes_to(&scoped),
            [r#"import allow-list: [] -> ["Servers"]"#]
        );
        assert_eq!(
            stored().described(),
            r#"tenant ID "contoso.onmicrosoft.com", client ID "11111111-2222-3333-4444-555555555555", cloud "gcc-high""#
        );
    }

    #[test]
    fn json_round_trip_has_no_secret_field() {
        let json = stored().to_json();
        assert!(!json.contains("secret"));
        assert_eq!(StoredDefenderSettings::parse(&json).unwrap(), stored());
    }
}
