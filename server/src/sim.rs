//! Defender simulator: a faithful local stand-in for Entra ID token endpoints and the
//! Microsoft Defender for Endpoint REST API (see `../shared/defender-api.md` §11).
//!
//! One listener serves everything:
//! - `POST /{tenant}/oauth2/v2.0/token` and `POST /{tenant}/oauth2/token` (Entra, §2);
//!   `{tenant}` is the tenant GUID or its domain;
//! - `/api/...` and `/api/v1.0/...` (Defender API, §3–§4): machines (+ alerts,
//!   vulnerabilities, isolate/unisolate/runAntiVirusScan), alerts, vulnerabilities
//!   (+ machineReferences, machinesVulnerabilities), Software (+ machineReferences),
//!   advancedqueries/run, machineactions (+ cancel), the JSON export
//!   machines/SoftwareVulnerabilitiesByMachine (`pageSize`, `$skiptoken`); `/$count` after
//!   any OData collection;
//! - runtime control without auth: `GET /_sim/faults`, `POST /_sim/faults` (JSON body =
//!   [`Faults`], snake_case names, omitted fields = off), `GET /_sim/state` (counts) and
//!   `POST /_sim/actions` (a machine action taken in the Defender portal, JSON body =
//!   [`PortalAction`]; 201 + MachineAction, or the API's 400/404).
//!
//! ```text
//! curl -X POST localhost:8950/_sim/faults -H 'content-type: application/json' \
//!      -d '{"throttle_next":3,"throttle_retry_after_secs":2,"short_pages":true}'
//! curl -X POST localhost:8950/_sim/actions -H 'content-type: application/json' \
//!      -d '{"machine_id":"<40 hex>","type":"Isolate","pending_for_secs":259200}'
//! ```
//!
//! Data comes from a deterministic generator ([`SimConfig::seed`]): machine `i` is the same
//! for every machine count. Machines 0–9 are fixed fixtures tests can rely on: 0 Onboarded
//! Windows 11 (Active, with alerts), 1 Onboarded Ubuntu, 2 Onboarded Windows 10 Inactive
//! and ungrouped (rbacGroupId 0), 3 CanBeOnboarded, 4 Unsupported printer,
//! 5 InsufficientInfo, 6 Onboarded macOS, 7 stale duplicate of 0, 8 Onboarded Windows
//! Server 2022, 9 Onboarded Windows 7 (actions unsupported).
//!
//! Machines 10–15 are fixed too, for the traps of §9.19–9.21 (all Onboarded and Active, none
//! a potential duplicate; the primary Ethernet NIC always comes first in `ipAddresses`):
//! - 10 and 11: a cloned-VM pair, Windows Server 2022: two ids and two addresses, one
//!   `computerDnsName` (`tmpl-srv-clone`) and one primary MAC with VMware's OUI `005056`;
//! - 12: Windows 11 with a Cisco AnyConnect adapter (`Ethernet`, the MAC `00059A3C7A00`
//!   every AnyConnect client reports, `Up`, an address in 10.200.128.0/17) and a Teredo
//!   tunnel (`Tunnel`, null MAC);
//! - 13: Windows 10 with the same AnyConnect adapter, a RAS VPN (`Ppp`, null MAC), an ISATAP
//!   tunnel (`Tunnel`, MAC `000000000000`, `Down`) and a removed USB Wi-Fi dongle
//!   (`Wireless80211`, `NotPresent`); its `rbacGroupId` is the string `"12"`;
//! - 14: Ubuntu named `localhost`, with a docker0 bridge (`Ethernet`, 172.17.0.1, a locally
//!   administered MAC `0242…` of its own);
//! - 15: Windows 10 whose `lastIpAddress` is null while `ipAddresses` lists its NICs.
//!
//! After the fixtures, shares of machines repeat those traps: clone pairs of VMs, `localhost`
//! Linux hosts, AnyConnect (~5% of Windows clients), PPP and Teredo adapters, ISATAP on
//! servers, docker0 on ~35% of Linux hosts, null `lastIpAddress` on ~15% of discovered
//! devices and a string `rbacGroupId` on ~10%. The docs' other disagreeing types (§9.21) are
//! served by position: `cveSupportability` is an array on every tenth CVE; on alerts,
//! `relatedUser` is a `DOMAIN\user` string on 1 in 7, `mitreTechniques` one comma-separated
//! string on 1 in 9, and the timestamps lack their zone on 1 in 10.
//!
//! Action lifecycles are evaluated lazily from timestamps and [`ActionTimings`]. Faults can be
//! set in the config, by CLI flags, at runtime through [`SimControl::set_faults`] or over
//! HTTP. The simulator writes JSON with its own writers and never shares types with the
//! Defender client, so a misspelt field cannot pass unnoticed on both sides.

mod actions;
mod admin;
mod alerts;
mod api;
mod catalog;
mod clock;
mod config;
mod dataset;
mod entra;
mod exports;
mod faults;
mod generator;
mod hunting;
mod jwt;
mod machines;
mod nmap;
mod odata;
mod paging;
mod portal;
mod rng;
mod row_changes;
mod software;
mod state;
mod throttle;
mod vulnerabilities;
mod wire;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{any, get, post};
use axum::Router;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use actions::ActionType;
pub use config::{
    ActionTimings, Cloud, RateLimits, SimApp, SimConfig, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET,
    DEMO_TENANT_DOMAIN, DEMO_TENANT_ID, PRODUCT_ROLES,
};
pub use faults::{Faults, ForcedOutcome, LostAnswerMode};
pub use portal::{ActionRefused, PortalAction};

use state::{lock, Sim};

/// Generates the data (CPU-heavy, so on a blocking thread), binds `listen` and serves.
pub async fn start(config: SimConfig, listen: SocketAddr) -> std::io::Result<RunningSim> {
    let tenant = config
        .apps
        .first()
        .map(|a| a.tenant_id.clone())
        .unwrap_or_default();
    let (seed, machines) = (config.seed, config.machines);
    let started = std::time::Instant::now();
    let mut data =
        tokio::task::spawn_blocking(move || generator::generate(seed, machines, &tenant))
            .await
            .map_err(std::io::Error::other)?;
    for (i, name) in &config.machine_names {
        data.renamed.insert(*i as u32, name.clone());
    }
    tracing::info!(
        machines = data.machines.len(),
        alerts = data.alerts.len(),
        rows = data.rows.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "simulator data generated"
    );
    let first_app = config
        .apps
        .first()
        .cloned()
        .unwrap_or_else(|| SimConfig::demo().apps[0].clone());
    let sim = Arc::new(Sim::new(config, data));
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let app = router(sim.clone());
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = rx.await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "simulator server stopped");
        }
    });
    Ok(RunningSim {
        base_url: format!("http://{addr}"),
        app: first_app,
        control: SimControl { sim },
        stop: Some(tx),
        task,
    })
}

fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(entra::token_v2))
        .route("/{tenant}/oauth2/token", post(entra::token_v1))
        .route(
            "/_sim/faults",
            get(admin::get_faults).post(admin::set_faults),
        )
        .route("/_sim/state", get(admin::state))
        .route("/_sim/actions", post(admin::create_action))
        .route("/api/{*rest}", any(api::handle))
        .with_state(sim)
}

/// A running simulator; dropping it leaves the server running until the runtime ends.
pub struct RunningSim {
    base_url: String,
    app: SimApp,
    control: SimControl,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RunningSim {
    /// e.g. `http://127.0.0.1:41234`; serves both login (`/{tenant}/oauth2/...`) and `/api/...`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The first configured app.
    pub fn app(&self) -> &SimApp {
        &self.app
    }

    pub fn control(&self) -> SimControl {
        self.control.clone()
    }

    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        // Idle keep-alive connections could hold graceful shutdown open; don't wait forever.
        if tokio::time::timeout(Duration::from_secs(2), &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}

/// One `ipAddresses` entry of a machine, as served (§5.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdapterInfo {
    pub ip_address: String,
    /// Null for loopback, PPP and Teredo adapters.
    pub mac_address: Option<String>,
    /// `type`: `Ethernet`, `Wireless80211`, `Ppp`, `Tunnel`, `SoftwareLoopback`.
    pub adapter_type: String,
    /// `operationalStatus`: `Up`, `Down`, `NotPresent`.
    pub operational_status: String,
}

/// Read accessor result for one machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineInfo {
    pub id: String,
    pub computer_dns_name: Option<String>,
    /// As served in `osPlatform` (null for most discovered devices).
    pub os_platform: Option<String>,
    pub onboarding_status: String,
    pub health_status: String,
    pub is_potential_duplication: bool,
    /// As served in `lastIpAddress` (null on fixture 15 and some discovered devices).
    pub last_ip_address: Option<String>,
    /// The primary NIC's MAC (the one a LAN scan sees), whether or not `ipAddresses` lists
    /// it.
    pub mac_address: String,
    /// `ipAddresses` as served, the primary Ethernet first.
    pub adapters: Vec<AdapterInfo>,
    pub rbac_group_id: i64,
    /// `rbacGroupName` as served: `None` for a machine in no group (id 0).
    pub rbac_group_name: Option<String>,
    /// `machineTags` as served.
    pub machine_tags: Vec<String>,
    /// `rbacGroupId` is served as a numeric string instead of a number (§9.21).
    pub rbac_group_id_is_string: bool,
    /// For a stale re-image duplicate (`isPotentialDuplication`): its live twin's id.
    pub duplicate_of: Option<String>,
    /// For a cloned VM: the id of the machine it shares its name and primary MAC with.
    pub clone_of: Option<String>,
}

/// Cloneable handle to inspect and steer a running simulator.
#[derive(Clone)]
pub struct SimControl {
    sim: Arc<Sim>,
}

impl SimControl {
    pub fn set_faults(&self, f: Faults) {
        *lock(&self.sim.faults) = f;
    }

    /// Current faults, with one-shot counters showing what is still armed.
    pub fn faults(&self) -> Faults {
        lock(&self.sim.faults).clone()
    }

    pub fn add_app(&self, app: SimApp) {
        lock(&self.sim.apps).push(app);
    }

    /// Changes the roles of future tokens (issued tokens keep theirs, like Entra).
    pub fn set_roles(&self, client_id: &str, roles: Option<Vec<String>>) {
        for a in lock(&self.sim.apps)
            .iter_mut()
            .filter(|a| a.client_id == client_id)
        {
            a.roles = roles.clone();
        }
    }

    /// The secret still matches but is expired (AADSTS7000222).
    pub fn expire_secret(&self, client_id: &str) {
        for a in lock(&self.sim.apps)
            .iter_mut()
            .filter(|a| a.client_id == client_id)
        {
            a.secret_expired = true;
        }
    }

    /// The secret is no longer accepted at all (AADSTS7000215).
    pub fn revoke_secret(&self, client_id: &str) {
        lock(&self.sim.revoked).insert(client_id.to_owned());
    }

    /// Every token issued so far is rejected with 401 from now on.
    pub fn expire_issued_tokens(&self) {
        let mut t = lock(&self.sim.tokens);
        t.expired_up_to = t.issued;
    }

    pub fn tokens_issued(&self) -> u64 {
        lock(&self.sim.tokens).issued
    }

    /// The access tokens issued most recently (the last 64), oldest first,
    /// so a test can look for them where they must never appear.
    pub fn issued_access_tokens(&self) -> Vec<String> {
        lock(&self.sim.tokens).recent.iter().cloned().collect()
    }

    pub fn machine_count(&self) -> usize {
        self.sim.data.machines.len()
    }

    pub fn alert_count(&self) -> usize {
        self.sim.data.alerts.len()
    }

    /// Changes alert `index` as an analyst would in the portal: its status becomes `status`
    /// (`New`, `InProgress`, `Resolved`) and its `lastUpdateTime` now. Returns the alert's id,
    /// or `None` for an unknown index or status.
    pub fn update_alert(&self, index: usize, status: &str) -> Option<String> {
        let alert = self.sim.data.alerts.get(index)?;
        let status = alerts::STATUS.iter().position(|s| *s == status)?;
        lock(&self.sim.alert_updates).insert(
            u32::try_from(index).ok()?,
            state::AlertUpdate {
                status: u8::try_from(status).ok()?,
                at: clock::now(),
            },
        );
        Some(alert.id())
    }

    /// `/api/alerts` as served now, one JSON object per alert (evidence not expanded).
    pub fn alerts(&self) -> Vec<serde_json::Value> {
        let d = &self.sim.data;
        let updates = lock(&self.sim.alert_updates).clone();
        d.alerts
            .iter()
            .enumerate()
            .map(|(k, a)| {
                let update = u32::try_from(k).ok().and_then(|k| updates.get(&k));
                let a = state::alert_now(a, update);
                let mut scratch = (String::new(), None);
                a.json(&d.alert_on(&a, &mut scratch), false)
            })
            .collect()
    }

    /// CVEs listed by `/api/vulnerabilities` (those exposing at least one machine).
    pub fn vulnerability_count(&self) -> usize {
        self.sim.data.exposed_cves.len()
    }

    /// Rows of `/api/vulnerabilities/machinesVulnerabilities`.
    pub fn machine_vulnerability_count(&self) -> usize {
        self.live_rows().len()
    }

    fn live_rows(&self) -> Vec<(u32, u32)> {
        lock(&self.sim.row_changes).live(&self.sim.data)
    }

    fn row_key(&self, machine_id: &str, cve_id: &str) -> Option<(u32, u32)> {
        let d = &self.sim.data;
        let machine = u32::try_from(d.machine_index(machine_id)?).ok()?;
        let cve = *d.cve_by_id.get(&cve_id.to_ascii_uppercase())?;
        Some((machine, cve))
    }

    /// Defender finds the machine's vulnerability fixed (the software was updated): its
    /// rows leave the listings and the change feed says `Fixed`. False if it had no such row.
    pub fn fix_vulnerability(&self, machine_id: &str, cve_id: &str) -> bool {
        let Some((machine, cve)) = self.row_key(machine_id, cve_id) else {
            return false;
        };
        lock(&self.sim.row_changes).fix(&self.sim.data, machine, cve, clock::now())
    }

    /// Defender finds the vulnerability on the machine: a row joins the listings and the
    /// change feed says `New`. False if the row was there already.
    pub fn find_vulnerability(&self, machine_id: &str, cve_id: &str) -> bool {
        let Some((machine, cve)) = self.row_key(machine_id, cve_id) else {
            return false;
        };
        lock(&self.sim.row_changes).find(&self.sim.data, machine, cve, clock::now())
    }

    /// `/api/vulnerabilities` as served: one JSON object per CVE exposing a machine.
    pub fn vulnerabilities(&self) -> Vec<serde_json::Value> {
        let d = &self.sim.data;
        d.exposed_cves
            .iter()
            .map(|&c| d.cves[c as usize].json(d.exposed(c as usize)))
            .collect()
    }

    /// `/api/vulnerabilities/machinesVulnerabilities` as served, one JSON object per row.
    pub fn machine_vulnerabilities(&self) -> Vec<serde_json::Value> {
        let d = &self.sim.data;
        self.live_rows()
            .into_iter()
            .map(|(m, c)| {
                let machine_id = d.machines[m as usize].id_hex();
                d.row_of(m, c, &machine_id).json()
            })
            .collect()
    }

    /// The latest report's `DeviceNetworkInfo` rows of a machine, as advanced hunting serves
    /// them (without the `hunting_bad_row` fault); empty for a machine hunting does not know.
    pub fn network_adapters(&self, machine_id: &str) -> Vec<serde_json::Value> {
        let d = &self.sim.data;
        d.machine_index(machine_id)
            .map_or_else(Vec::new, |i| hunting::network_adapters_of(d, i))
    }

    /// A machine's identity attributes as a console should keep them from `DeviceInfo`: of
    /// each, the latest non-empty value (DeviceType, Model, Vendor, OSArchitecture, JoinType).
    pub fn device_info(&self, machine_id: &str) -> Option<serde_json::Value> {
        let d = &self.sim.data;
        hunting::device_info_of(d, d.machine_index(machine_id)?)
    }

    /// Advanced hunting's result-row cap from now on.
    pub fn set_hunting_max_rows(&self, max_rows: usize) {
        lock(&self.sim.hunting).max_rows = max_rows;
    }

    /// Every advanced-hunting query asked so far, in order.
    pub fn hunting_queries(&self) -> Vec<String> {
        lock(&self.sim.hunting).queries.clone()
    }

    /// Advanced-hunting calls that reached the query engine (past authentication, throttling
    /// and the CPU-quota fault), answered or refused; counted from the query log, so it stops
    /// at the log's bound (`HUNTING_QUERIES_KEPT`, far above what a test asks).
    pub fn hunting_calls(&self) -> u64 {
        lock(&self.sim.hunting).queries.len() as u64
    }

    /// The machine whose row the `hunting_bad_row` fault spoils.
    pub fn hunting_bad_row_machine(&self) -> Option<String> {
        let d = &self.sim.data;
        hunting::first_onboarded(d).map(|i| d.machines[i].id_hex())
    }

    /// `/api/Software/{id}` as served, for every product some machine runs.
    pub fn software(&self) -> Vec<serde_json::Value> {
        let d = &self.sim.data;
        catalog::PRODUCTS
            .iter()
            .enumerate()
            .filter(|(p, _)| d.machines.iter().any(|m| m.software & (1 << p) != 0))
            .map(|(p, product)| software::json(product, &d.software[p]))
            .collect()
    }

    /// The machines `/api/Software/{id}/machineReferences` lists, in its order; `None` for a
    /// product Defender does not know.
    pub fn machines_running(&self, software_id: &str) -> Option<Vec<String>> {
        let d = &self.sim.data;
        let p = d.software_index(software_id)?;
        Some(
            d.machines
                .iter()
                .filter(|m| m.software & (1 << p) != 0)
                .map(|m| m.id_hex())
                .collect(),
        )
    }

    /// Machine by position in the generated list (the `/api/machines` order).
    pub fn machine(&self, index: usize) -> Option<MachineInfo> {
        let d = &self.sim.data;
        let m = d.machines.get(index)?;
        let id_of = |j: Option<u32>| j.map(|j| d.machines[j as usize].id_hex());
        Some(MachineInfo {
            id: m.id_hex(),
            computer_dns_name: d.name(index),
            os_platform: m.reported_platform().map(str::to_owned),
            onboarding_status: machines::ONBOARDING[m.onboarding as usize].to_owned(),
            health_status: machines::HEALTH[m.health as usize].to_owned(),
            is_potential_duplication: m.duplicate,
            last_ip_address: m.last_ip(),
            mac_address: m.mac(),
            adapters: m
                .nics()
                .into_iter()
                .map(|n| AdapterInfo {
                    ip_address: n.ip,
                    mac_address: n.mac,
                    adapter_type: n.kind.to_owned(),
                    operational_status: n.status.to_owned(),
                })
                .collect(),
            rbac_group_id: m.rbac_group().0,
            rbac_group_name: m.rbac_group().1.map(str::to_owned),
            machine_tags: m.tags(),
            rbac_group_id_is_string: m.rbac_text,
            duplicate_of: id_of(m.twin_of),
            clone_of: id_of(m.clone_of),
        })
    }

    pub fn machines(&self) -> Vec<MachineInfo> {
        (0..self.machine_count())
            .filter_map(|i| self.machine(i))
            .collect()
    }

    /// Machine ids in `/api/machines` order.
    pub fn machine_ids(&self) -> Vec<String> {
        self.sim.data.machines.iter().map(|m| m.id_hex()).collect()
    }

    /// First machine matching a predicate, e.g. an Onboarded Linux device.
    pub fn find_machine(&self, pred: impl Fn(&MachineInfo) -> bool) -> Option<MachineInfo> {
        (0..self.machine_count())
            .filter_map(|i| self.machine(i))
            .find(|m| pred(m))
    }

    /// Isolation state derived from succeeded Isolate/Unisolate actions (§6).
    pub fn is_isolated(&self, machine_id: &str) -> Option<bool> {
        let i = self.sim.data.machine_index(machine_id)?;
        let t = &self.sim.config.action_timings;
        Some(lock(&self.sim.actions).isolated(i as u32, clock::now(), t))
    }

    /// Current status of a machine action (`Pending`, `InProgress`, `Succeeded`, ...).
    pub fn action_status(&self, action_id: &str) -> Option<String> {
        let t = &self.sim.config.action_timings;
        let store = lock(&self.sim.actions);
        store
            .get(action_id)
            .map(|a| a.state(clock::now(), t).0.name().to_owned())
    }

    /// Records a machine action as if an analyst took it in the Defender portal (§9.23), under
    /// the API's rules; returns the MachineAction as `GET /api/machineactions/{id}` serves it.
    ///
    /// ```ignore
    /// let a = ctl.create_portal_action(
    ///     PortalAction::new(&id, ActionType::Isolate).created_secs_ago(3600).pending_for_secs(259_200),
    /// )?;
    /// ```
    pub fn create_portal_action(
        &self,
        action: PortalAction,
    ) -> Result<serde_json::Value, ActionRefused> {
        portal::create(&self.sim, action).map_err(ActionRefused::from)
    }

    /// Every machine action, API and portal ones alike, including those whose answer a fault
    /// lost.
    pub fn action_count(&self) -> usize {
        lock(&self.sim.actions).actions.len()
    }

    /// How many single-action status reads the API has answered.
    pub fn action_status_reads(&self) -> u64 {
        lock(&self.sim.actions).status_reads
    }

    /// Same counts as `GET /_sim/state`.
    pub fn state(&self) -> serde_json::Value {
        admin::counts(&self.sim)
    }

    /// nmap-style XML of the LAN: visible simulated machines plus `extra_devices` unknown ones.
    pub fn local_network_xml(&self, extra_devices: usize) -> String {
        nmap::local_network_xml(&self.sim.data, self.sim.config.seed, extra_devices)
    }
}

/// The same XML without starting a server (used by the CLI's `write-network-xml`).
pub fn network_xml(seed: u64, machines: usize, extra_devices: usize) -> String {
    let data = generator::generate(seed, machines, DEMO_TENANT_ID);
    nmap::local_network_xml(&data, seed, extra_devices)
}
