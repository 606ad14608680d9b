//! `DefenderClient`: the typed calls of the Defender for Endpoint API used by the product.

use std::sync::Arc;

use serde::Serialize;
use url::Url;

use super::actions::{CommentBody, IsolateBody, IsolationType, QueryBody, ScanBody, ScanType};
use super::auth::TokenCache;
use super::budget::{Budget, Family};
use super::error::DefenderError;
use super::http::{ApiRequest, Core};
use super::metrics::{Metrics, MetricsSnapshot};
use super::model::{
    Alert, HuntingResult, Machine, MachineAction, MachineActionType, MachineRef,
    MachineVulnerability, MachineVulnerabilityChange, Software, Vulnerability,
};
use super::paging::Pager;
use super::permissions::{feature_access, FeatureAccess};
use super::portal::{check_machine_id, PortalLinks};
use super::resolver::GuardedResolver;
use super::settings::{ClientOptions, DefenderSettings};

/// A Defender API client for one tenant and app. Cheap to clone: clones share the token
/// cache, the call budget and the metrics (rate limits are per app + tenant, §3.6).
#[derive(Debug, Clone)]
pub struct DefenderClient {
    core: Arc<Core>,
}

impl DefenderClient {
    pub fn new(settings: DefenderSettings, options: ClientOptions) -> Result<Self, DefenderError> {
        let http = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .user_agent(concat!("endpoint-analytics/", env!("CARGO_PKG_VERSION")))
            // Defender and Entra answer where they are asked. A redirect would take the next
            // request (a 307 even the token form, with the secret) to a host nobody
            // configured, so it is an answer like any other, never followed.
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(GuardedResolver::new(options.hosts.clone()))
            .build()
            .map_err(|e| DefenderError::Transport(e.to_string()))?;
        let budget = Budget::new(options.budget.clone());
        Ok(Self {
            core: Arc::new(Core {
                http,
                settings,
                options,
                tokens: TokenCache::default(),
                budget,
                metrics: Metrics::default(),
            }),
        })
    }

    pub fn settings(&self) -> &DefenderSettings {
        &self.core.settings
    }

    /// Counters for the sync journal: calls, retries, time spent throttled.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.core.metrics.snapshot()
    }

    /// Portal deep links for this tenant and cloud (§8).
    pub fn portal_links(&self) -> PortalLinks {
        let s = &self.core.settings;
        PortalLinks::new(s.endpoints.portal_host.clone(), s.tenant_id.clone())
    }

    fn url(&self, segments: &[&str]) -> Url {
        self.core.settings.endpoints.api_url(segments)
    }

    fn url_with_filter(&self, segments: &[&str], filter: Option<&str>) -> Url {
        let mut url = self.url(segments);
        if let Some(f) = filter.filter(|f| !f.trim().is_empty()) {
            url.query_pairs_mut().append_pair("$filter", f);
        }
        url
    }

    /// Application permissions in the current token's `roles` claim (§2.4); fetches a token
    /// if none is cached. An app without consent gets an empty list.
    #[tracing::instrument(skip_all)]
    pub async fn granted_roles(&self) -> Result<Vec<String>, DefenderError> {
        Ok(self.core.tokens.get(&self.core).await?.roles().to_vec())
    }

    /// For every feature, whether the granted roles allow it and which role is missing.
    #[tracing::instrument(skip_all)]
    pub async fn feature_access(&self) -> Result<Vec<FeatureAccess>, DefenderError> {
        Ok(feature_access(&self.granted_roles().await?))
    }

    /// `GET /api/machines` (§4.1), onboarded and discovered devices. A 404 on the collection
    /// means "no recent machines" and ends the listing empty.
    pub fn machines(&self) -> Pager<Machine> {
        self.machines_filtered(None)
    }

    /// `GET /api/machines?$filter=...`, e.g. `lastSeen gt 2026-01-01T00:00:00Z`.
    pub fn machines_filtered(&self, filter: Option<&str>) -> Pager<Machine> {
        let url = self.url_with_filter(&["machines"], filter);
        Pager::new(Arc::clone(&self.core), url, Family::Machines, "machines").empty_on_404()
    }

    /// `GET /api/machines/$count` (§3.3): the number of machines, as a bare JSON number.
    #[tracing::instrument(skip_all)]
    pub async fn machine_count(&self) -> Result<u64, DefenderError> {
        let url = self.url(&["machines", "$count"]);
        let req = ApiRequest::get(url, Family::Machines, "machine count");
        match self.core.send_json::<u64>(&req).await {
            // A 404 on the collection means "no recent machines" (§4.1).
            Err(DefenderError::NotFound { .. }) => Ok(0),
            other => other,
        }
    }

    /// `GET /api/machines/{id}` (§4.2); a 404 is asked once more before it is believed.
    #[tracing::instrument(skip_all, fields(machine_id = %machine_id))]
    pub async fn machine(&self, machine_id: &str) -> Result<Machine, DefenderError> {
        check_machine_id(machine_id)?;
        let url = self.url(&["machines", machine_id]);
        let req = ApiRequest::get(url, Family::Machines, "machine");
        match self.core.send_json(&req).await {
            Err(DefenderError::NotFound { .. }) => {
                // Intermittent 404s for devices that exist have been reported (§9.11).
                tracing::info!("404 for a machine id; asking once more");
                self.core.send_json(&req).await
            }
            other => other,
        }
    }

    /// `GET /api/alerts` (§4.3).
    pub fn alerts(&self) -> Pager<Alert> {
        self.alerts_filtered(None)
    }

    /// `GET /api/alerts?$filter=...`, e.g. `lastUpdateTime ge {watermark}`.
    pub fn alerts_filtered(&self, filter: Option<&str>) -> Pager<Alert> {
        let url = self.url_with_filter(&["alerts"], filter);
        Pager::new(Arc::clone(&self.core), url, Family::Alerts, "alerts")
    }

    /// `GET /api/vulnerabilities` (§4.10).
    pub fn vulnerabilities(&self) -> Pager<Vulnerability> {
        let url = self.url(&["vulnerabilities"]);
        Pager::new(
            Arc::clone(&self.core),
            url,
            Family::Vulnerabilities,
            "vulnerabilities",
        )
    }

    /// `GET /api/vulnerabilities/machinesVulnerabilities` (§4.12): the bulk source of
    /// per-device vulnerabilities.
    pub fn machines_vulnerabilities(&self) -> Pager<MachineVulnerability> {
        let url = self.url(&["vulnerabilities", "machinesVulnerabilities"]);
        Pager::new(
            Arc::clone(&self.core),
            url,
            Family::Vulnerabilities,
            "machinesVulnerabilities",
        )
    }

    /// `GET /api/machines/SoftwareVulnerabilityChangesByMachine?sinceTime=` (§4.13, §9.25):
    /// the machine-vulnerability rows found, fixed or updated since `since` (an ISO time at
    /// most 14 days back). Pages of 20,000 entries keep one page's memory small; the feed of
    /// an hour is usually far shorter.
    pub fn machine_vulnerability_changes(&self, since: &str) -> Pager<MachineVulnerabilityChange> {
        let mut url = self.url(&["machines", "SoftwareVulnerabilityChangesByMachine"]);
        url.query_pairs_mut()
            .append_pair("sinceTime", since)
            .append_pair("pageSize", "20000");
        Pager::new(
            Arc::clone(&self.core),
            url,
            Family::VulnerabilityExports,
            "vulnerability changes",
        )
    }

    /// `GET /api/machines/{id}/vulnerabilities` (§4.11): 50/min, so on-demand detail only.
    pub fn machine_vulnerabilities(
        &self,
        machine_id: &str,
    ) -> Result<Pager<Vulnerability>, DefenderError> {
        check_machine_id(machine_id)?;
        let url = self.url(&["machines", machine_id, "vulnerabilities"]);
        Ok(Pager::new(
            Arc::clone(&self.core),
            url,
            Family::MachineVulnerabilities,
            "machine vulnerabilities",
        ))
    }

    /// `GET /api/machineactions` (§4.4), optionally filtered, e.g.
    /// `machineId eq '{id}' and status eq 'Pending'`.
    pub fn machine_actions(&self, filter: Option<&str>) -> Pager<MachineAction> {
        let url = self.url_with_filter(&["machineactions"], filter);
        Pager::new(
            Arc::clone(&self.core),
            url,
            Family::MachineActions,
            "machine actions",
        )
    }

    /// `GET /api/machineactions/{id}` (§4.5): poll until terminal.
    #[tracing::instrument(skip_all, fields(action_id = %action_id))]
    pub async fn machine_action(&self, action_id: &str) -> Result<MachineAction, DefenderError> {
        let url = self.url(&["machineactions", action_id]);
        self.core
            .send_json(&ApiRequest::get(
                url,
                Family::MachineActions,
                "machine action",
            ))
            .await
    }

    /// The newest non-terminal action of `action_type` on a device, if any: what to show
    /// instead of failing after `DefenderError::AlreadyPending` (§6, §10).
    #[tracing::instrument(skip_all, fields(machine_id = %machine_id, %action_type))]
    pub async fn open_action(
        &self,
        machine_id: &str,
        action_type: MachineActionType,
    ) -> Result<Option<MachineAction>, DefenderError> {
        check_machine_id(machine_id)?;
        let filter = format!("machineId eq '{}'", machine_id.to_ascii_lowercase());
        let mut pager = self.machine_actions(Some(&filter));
        let mut newest: Option<MachineAction> = None;
        while let Some(page) = pager.next_page().await? {
            for action in page {
                let open =
                    action.action_type.as_ref() == Some(&action_type) && !action.is_terminal();
                let newer = newest
                    .as_ref()
                    .is_none_or(|n| action.creation_date_time_utc > n.creation_date_time_utc);
                if open && newer {
                    newest = Some(action);
                }
            }
        }
        Ok(newest)
    }

    async fn submit<B: Serialize>(
        &self,
        url: Url,
        body: &B,
        what: &'static str,
    ) -> Result<MachineAction, DefenderError> {
        let body = serde_json::to_value(body).map_err(|e| DefenderError::Decode {
            what: what.to_owned(),
            detail: e.to_string(),
        })?;
        self.core
            .send_json(&ApiRequest::post_once(
                url,
                &body,
                Family::ActionSubmit,
                what,
            ))
            .await
    }

    /// `POST /api/machines/{id}/isolate` (§4.6). A pending isolation answers
    /// `DefenderError::AlreadyPending`; look the pending action up instead of failing (§10).
    #[tracing::instrument(skip_all, fields(machine_id = %machine_id, ?isolation_type))]
    pub async fn isolate(
        &self,
        machine_id: &str,
        comment: &str,
        isolation_type: IsolationType,
    ) -> Result<MachineAction, DefenderError> {
        check_machine_id(machine_id)?;
        let url = self.url(&["machines", machine_id, "isolate"]);
        self.submit(
            url,
            &IsolateBody {
                comment,
                isolation_type,
            },
            "isolate",
        )
        .await
    }

    /// `POST /api/machines/{id}/unisolate` (§4.7).
    #[tracing::instrument(skip_all, fields(machine_id = %machine_id))]
    pub async fn release_from_isolation(
        &self,
        machine_id: &str,
        comment: &str,
    ) -> Result<MachineAction, DefenderError> {
        check_machine_id(machine_id)?;
        let url = self.url(&["machines", machine_id, "unisolate"]);
        self.submit(url, &CommentBody { comment }, "unisolate")
            .await
    }

    /// `POST /api/machines/{id}/runAntiVirusScan` (§4.8).
    #[tracing::instrument(skip_all, fields(machine_id = %machine_id, ?scan_type))]
    pub async fn run_antivirus_scan(
        &self,
        machine_id: &str,
        comment: &str,
        scan_type: ScanType,
    ) -> Result<MachineAction, DefenderError> {
        check_machine_id(machine_id)?;
        let url = self.url(&["machines", machine_id, "runAntiVirusScan"]);
        self.submit(url, &ScanBody { comment, scan_type }, "runAntiVirusScan")
            .await
    }

    /// `POST /api/machineactions/{id}/cancel` (§4.9).
    #[tracing::instrument(skip_all, fields(action_id = %action_id))]
    pub async fn cancel_machine_action(
        &self,
        action_id: &str,
        comment: &str,
    ) -> Result<MachineAction, DefenderError> {
        let url = self.url(&["machineactions", action_id, "cancel"]);
        self.submit(url, &CommentBody { comment }, "cancel machine action")
            .await
    }

    /// `POST /api/advancedqueries/run` (§4.14).
    #[tracing::instrument(skip_all)]
    pub async fn advanced_hunting(&self, query: &str) -> Result<HuntingResult, DefenderError> {
        let url = self.url(&["advancedqueries", "run"]);
        let body =
            serde_json::to_value(QueryBody { query }).map_err(|e| DefenderError::Decode {
                what: "hunting query".into(),
                detail: e.to_string(),
            })?;
        let req = ApiRequest::post(url, &body, Family::AdvancedHunting, "advanced hunting");
        self.core.send_json(&req).await
    }

    /// `GET /api/Software/{id}` (§4.15); `id` is `{vendor}-_-{product}`.
    #[tracing::instrument(skip_all, fields(software_id = %software_id))]
    pub async fn software(&self, software_id: &str) -> Result<Software, DefenderError> {
        let url = self.url(&["Software", software_id]);
        self.core
            .send_json(&ApiRequest::get(url, Family::Software, "software"))
            .await
    }

    /// `GET /api/Software/{id}/machineReferences` (§4.16).
    pub fn software_machines(&self, software_id: &str) -> Pager<MachineRef> {
        let url = self.url(&["Software", software_id, "machineReferences"]);
        Pager::new(
            Arc::clone(&self.core),
            url,
            Family::Software,
            "machineReferences",
        )
    }
}

#[cfg(test)]
mod tests;
