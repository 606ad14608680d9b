//! Deep links into the Defender portal, built from ids only, never names (defender-api.md §8).

use url::Url;

use super::error::DefenderError;

/// True for a Defender machine id: exactly 40 hex characters (§5.1).
pub fn is_machine_id(id: &str) -> bool {
    id.len() == 40 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

pub(crate) fn check_machine_id(id: &str) -> Result<(), DefenderError> {
    if is_machine_id(id) {
        Ok(())
    } else {
        Err(DefenderError::InvalidArgument {
            what: "machine id",
            reason: "a Defender machine id is 40 hexadecimal characters (not a name or an \
                     Entra device id)"
                .into(),
        })
    }
}

/// Builds portal links for one tenant on one portal host (`security.microsoft.com`,
/// `security.microsoft.us`, `security.apps.mil`: see `Cloud::portal_host`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalLinks {
    host: String,
    tenant_id: String,
}

impl PortalLinks {
    pub fn new(portal_host: impl Into<String>, tenant_id: impl Into<String>) -> Self {
        Self {
            host: portal_host.into(),
            tenant_id: tenant_id.into(),
        }
    }

    fn base(&self, segments: &[&str]) -> Result<Url, DefenderError> {
        let mut url = Url::parse(&format!("https://{}/", self.host)).map_err(|e| {
            DefenderError::InvalidArgument {
                what: "portal host",
                reason: e.to_string(),
            }
        })?;
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        Ok(url)
    }

    fn with_tenant(&self, mut url: Url) -> Url {
        // `?tid=` opens the right tenant for multi-tenant and guest analysts (§8).
        if !self.tenant_id.is_empty() {
            url.query_pairs_mut().append_pair("tid", &self.tenant_id);
        }
        url
    }

    /// `https://{host}/machines/v2/{machineId}/overview?tid={tenantId}`.
    pub fn device_overview(&self, machine_id: &str) -> Result<Url, DefenderError> {
        check_machine_id(machine_id)?;
        let id = machine_id.to_ascii_lowercase();
        Ok(self.with_tenant(self.base(&["machines", "v2", &id, "overview"])?))
    }

    /// `https://{host}/machines/v2/{machineId}/vulnerabilities?tid={tenantId}`: the device
    /// page's vulnerabilities tab. §8 could not confirm the tab routes; the portal resolves
    /// this path to the tab today, and in the worst case lands on the device page.
    pub fn device_vulnerabilities(&self, machine_id: &str) -> Result<Url, DefenderError> {
        check_machine_id(machine_id)?;
        let id = machine_id.to_ascii_lowercase();
        Ok(self.with_tenant(self.base(&["machines", "v2", &id, "vulnerabilities"])?))
    }

    /// `https://{host}/machines/v2/{machineId}/alerts?tid={tenantId}`: the device page's
    /// alerts tab (same caveat as [`Self::device_vulnerabilities`]).
    pub fn device_alerts(&self, machine_id: &str) -> Result<Url, DefenderError> {
        check_machine_id(machine_id)?;
        let id = machine_id.to_ascii_lowercase();
        Ok(self.with_tenant(self.base(&["machines", "v2", &id, "alerts"])?))
    }

    /// `https://{host}/alerts/{alertId}?tid={tenantId}`.
    pub fn alert(&self, alert_id: &str) -> Result<Url, DefenderError> {
        if alert_id.is_empty()
            || !alert_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b))
        {
            return Err(DefenderError::InvalidArgument {
                what: "alert id",
                reason: "unexpected characters in an alert id".into(),
            });
        }
        Ok(self.with_tenant(self.base(&["alerts", alert_id])?))
    }

    /// `https://{host}/vulnerabilities/vulnerability/{cveId}/overview?tid={tenantId}`.
    pub fn cve(&self, cve_id: &str) -> Result<Url, DefenderError> {
        let valid = cve_id.len() > 4
            && cve_id[..4].eq_ignore_ascii_case("CVE-")
            && cve_id[4..].bytes().all(|b| b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(DefenderError::InvalidArgument {
                what: "CVE id",
                reason: "expected CVE-YYYY-NNNN".into(),
            });
        }
        let id = cve_id.to_ascii_uppercase();
        Ok(self.with_tenant(self.base(&["vulnerabilities", "vulnerability", &id, "overview"])?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "2b7e41c09d5a3f86e1c04b9a7d2e58f31c6a0b94";
    const TID: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

    #[test]
    fn device_alert_and_cve_links() {
        let links = PortalLinks::new("security.microsoft.com", TID);
        assert_eq!(
            links.device_overview(ID).unwrap().as_str(),
            format!("https://security.microsoft.com/machines/v2/{ID}/overview?tid={TID}")
        );
        assert_eq!(
            links
                .alert("da638712004455667788_-1423377901")
                .unwrap()
                .as_str(),
            format!(
                "https://security.microsoft.com/alerts/da638712004455667788_-1423377901?tid={TID}"
            )
        );
        assert_eq!(
            links.cve("CVE-2031-10044").unwrap().as_str(),
            format!("https://security.microsoft.com/vulnerabilities/vulnerability/CVE-2031-10044/overview?tid={TID}")
        );
        let dod = PortalLinks::new("security.apps.mil", TID);
        assert!(dod
            .device_overview(&ID.to_uppercase())
            .unwrap()
            .as_str()
            .starts_with(&format!("https://security.apps.mil/machines/v2/{ID}/")));
    }

    #[test]
    fn links_are_never_built_from_names() {
        let links = PortalLinks::new("security.microsoft.com", TID);
        assert!(links
            .device_overview("eng-ws-17.corp.fabrikam.test")
            .is_err());
        assert!(links
            .device_overview("5e0c2f7a-1b3d-4c9e-8a6f-0d2b4c6e8f10")
            .is_err());
        assert!(links.device_overview(&ID[..39]).is_err());
        assert!(links.device_overview(&format!("{}g", &ID[..39])).is_err());
        assert!(links.alert("../x").is_err());
        assert!(links.cve("viewer").is_err());
        assert!(is_machine_id(ID));
    }
}
