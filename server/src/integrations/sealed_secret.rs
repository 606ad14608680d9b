//! The Defender client secret at rest, sealed bound to where it may be sent.
//!
//! The associated data of the seal names the tenant, the client id, and the login and API
//! base URLs the settings resolve to (normalised by the URL parser: lower-case scheme and
//! host, no default port). A stored secret therefore opens only for the settings it was
//! entered with: change a host in the settings JSON by any route, even an edit of the
//! database, and it no longer opens, so it is never sent there.

use crate::defender::DefenderError;
use crate::secret_box::{SealError, SecretBox};

use super::defender_settings::StoredDefenderSettings;
use super::DEFENDER_SECRET_PURPOSE;

/// Why a stored secret was not opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("the stored Defender settings name no usable hosts ({0})")]
    Settings(DefenderError),
    #[error(
        "the stored client secret does not open for these settings (it was entered for other \
         hosts, tenant or client, the key file changed, or the value was altered)"
    )]
    Sealed(#[from] SealError),
}

/// The associated data binding a secret to `settings`' tenant, client and hosts.
pub fn binding(settings: &StoredDefenderSettings) -> Result<String, DefenderError> {
    let endpoints = settings.endpoints()?;
    // A JSON array keeps the parts apart whatever they contain.
    Ok(serde_json::json!([
        DEFENDER_SECRET_PURPOSE,
        "bound-v1",
        settings.tenant_id.to_ascii_lowercase(),
        settings.client_id.to_ascii_lowercase(),
        endpoints.login_base.as_str(),
        endpoints.api_base.as_str(),
    ])
    .to_string())
}

/// Seals `secret` for use with `settings` only.
pub fn seal(
    secrets: &SecretBox,
    secret: &str,
    settings: &StoredDefenderSettings,
) -> Result<String, DefenderError> {
    Ok(secrets.seal(secret, &binding(settings)?))
}

/// Opens a secret sealed by [`seal`] for these very settings.
pub fn open(
    secrets: &SecretBox,
    sealed: &str,
    settings: &StoredDefenderSettings,
) -> Result<String, OpenError> {
    let aad = binding(settings).map_err(OpenError::Settings)?;
    Ok(secrets.open(sealed, &aad)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> StoredDefenderSettings {
        StoredDefenderSettings {
            tenant_id: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d".into(),
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            cloud: "commercial".into(),
            custom_login_url: "http://127.0.0.1:8950".into(),
            custom_api_url: "http://127.0.0.1:8950".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_secret_opens_only_for_its_own_tenant_client_and_hosts() {
        let secrets = SecretBox::new(&[3; 32]);
        let sealed = seal(&secrets, "the~secret", &settings()).unwrap();
        assert_eq!(open(&secrets, &sealed, &settings()).unwrap(), "the~secret");
        let elsewhere = [
            StoredDefenderSettings {
                tenant_id: "contoso.onmicrosoft.com".into(),
                ..settings()
            },
            StoredDefenderSettings {
                client_id: "21111111-2222-3333-4444-555555555555".into(),
                ..settings()
            },
            StoredDefenderSettings {
                custom_login_url: "http://127.0.0.1:8951".into(),
                ..settings()
            },
            StoredDefenderSettings {
                custom_api_url: "https://api.proxy.example".into(),
                ..settings()
            },
            // Microsoft's own hosts are other hosts too.
            StoredDefenderSettings {
                custom_login_url: String::new(),
                custom_api_url: String::new(),
                ..settings()
            },
        ];
        for other in elsewhere {
            assert!(
                matches!(
                    open(&secrets, &sealed, &other),
                    Err(OpenError::Sealed(SealError::Open))
                ),
                "{other:?}"
            );
        }
        // The purpose alone (how secrets were sealed before) no longer opens it.
        assert!(secrets.open(&sealed, DEFENDER_SECRET_PURPOSE).is_err());
    }

    #[test]
    fn the_geo_host_is_bound_too() {
        let secrets = SecretBox::new(&[3; 32]);
        let microsoft = StoredDefenderSettings {
            custom_login_url: String::new(),
            custom_api_url: String::new(),
            ..settings()
        };
        let sealed = seal(&secrets, "s", &microsoft).unwrap();
        let geo = StoredDefenderSettings {
            geo_api_host: "api-eu.securitycenter.microsoft.com".into(),
            ..microsoft.clone()
        };
        assert!(open(&secrets, &sealed, &geo).is_err());
        assert!(open(&secrets, &sealed, &microsoft).is_ok());
    }

    #[test]
    fn spellings_of_the_same_hosts_are_the_same_binding() {
        let loud = StoredDefenderSettings {
            tenant_id: settings().tenant_id.to_ascii_uppercase(),
            custom_login_url: "HTTP://127.0.0.1:8950/".into(),
            ..settings()
        };
        assert_eq!(binding(&loud).unwrap(), binding(&settings()).unwrap());
    }

    #[test]
    fn unusable_settings_open_nothing() {
        let secrets = SecretBox::new(&[3; 32]);
        let sealed = seal(&secrets, "s", &settings()).unwrap();
        let tampered = StoredDefenderSettings {
            custom_login_url: "https://169.254.169.254".into(),
            ..settings()
        };
        assert!(matches!(
            open(&secrets, &sealed, &tampered),
            Err(OpenError::Settings(_))
        ));
    }
}
