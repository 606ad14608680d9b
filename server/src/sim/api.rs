//! The Defender REST API surface (defender-api.md §3–§4): routing of `/api/...` and
//! `/api/v1.0/...`, bearer-token and role checks (§2.4), fault injection, throttling and the
//! per-endpoint handlers.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;
use tokio::sync::oneshot;

use super::actions::{self, ActionType, Source, Submission, Submitted};
use super::alerts;
use super::catalog::PRODUCTS;
use super::clock::{self, SEC};
use super::config::Cloud;
use super::entra::{cloud_audiences, in_cloud, is_mde_audience};
use super::exports;
use super::faults::{self, take, Faults, ForcedOutcome, LostAnswerMode, DEFAULT_HANG_MS};
use super::hunting;
use super::jwt::{self, Claims};
use super::machines;
use super::odata::{parse_query, Query, Spec, Val};
use super::paging;
use super::software;
use super::state::{alert_now, lock, Sim, HUNTING_QUERIES_KEPT};
use super::throttle::Bucket;
use super::vulnerabilities;
use super::wire::{self, ApiError, Hold, Lost, Reply};

/// `$top` ceilings (§3.3).
const MAX_TOP: usize = 10_000;
const MAX_TOP_VULNERABILITIES: usize = 8_000;

const READ_MACHINES: &[&str] = &["Machine.Read.All", "Machine.ReadWrite.All"];
const READ_ALERTS: &[&str] = &["Alert.Read.All", "Alert.ReadWrite.All"];
const READ_VULNS: &[&str] = &["Vulnerability.Read.All"];
const READ_SOFTWARE: &[&str] = &["Software.Read.All"];
const HUNT: &[&str] = &["AdvancedQuery.Read.All"];
const ISOLATE: &[&str] = &["Machine.Isolate"];
const SCAN: &[&str] = &["Machine.Scan"];
/// Any machine-action role may cancel (§2.4).
const CANCEL: &[&str] = &[
    "Machine.Isolate",
    "Machine.Scan",
    "Machine.CollectForensics",
    "Machine.RestrictExecution",
    "Machine.StopAndQuarantine",
    "Machine.Offboard",
    "Machine.LiveResponse",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ep {
    Machines,
    Machine(String),
    MachineAlerts(String),
    MachineVulns(String),
    Act(String, ActionType),
    Alerts,
    Alert(String),
    Vulns,
    Vuln(String),
    VulnRefs(String),
    MachinesVulns,
    Export,
    ExportChanges,
    SoftwareList,
    Software(String),
    SoftwareRefs(String),
    Hunt,
    Actions,
    Action(String),
    Cancel(String),
}

impl Ep {
    fn roles(&self) -> &'static [&'static str] {
        match self {
            Ep::Machines | Ep::Machine(_) | Ep::Actions | Ep::Action(_) => READ_MACHINES,
            Ep::MachineAlerts(_) | Ep::Alerts | Ep::Alert(_) => READ_ALERTS,
            Ep::MachineVulns(_)
            | Ep::Vulns
            | Ep::Vuln(_)
            | Ep::VulnRefs(_)
            | Ep::MachinesVulns
            | Ep::Export
            | Ep::ExportChanges => READ_VULNS,
            Ep::SoftwareList | Ep::Software(_) | Ep::SoftwareRefs(_) => READ_SOFTWARE,
            Ep::Hunt => HUNT,
            Ep::Act(_, ActionType::RunAntiVirusScan) => SCAN,
            Ep::Act(_, _) => ISOLATE,
            Ep::Cancel(_) => CANCEL,
        }
    }

    /// Server page size without `$top`: the configured one (real: 10,000), but at most 8,000
    /// on `/api/vulnerabilities`, whose `$top` ceiling that is (§3.3, §3.4).
    fn page_size(&self, configured: usize) -> usize {
        match self {
            Ep::Vulns => configured.min(MAX_TOP_VULNERABILITIES),
            _ => configured,
        }
    }

    /// OData collections (the targets of the listing faults).
    fn is_collection(&self) -> bool {
        matches!(
            self,
            Ep::Machines
                | Ep::MachineAlerts(_)
                | Ep::MachineVulns(_)
                | Ep::Alerts
                | Ep::Vulns
                | Ep::VulnRefs(_)
                | Ep::MachinesVulns
                | Ep::Export
                | Ep::ExportChanges
                | Ep::SoftwareList
                | Ep::SoftwareRefs(_)
                | Ep::Actions
        )
    }

    fn bucket(&self) -> Bucket {
        match self {
            Ep::Machines => Bucket::ListMachines,
            Ep::Machine(_) => Bucket::GetMachine,
            Ep::MachineAlerts(_) | Ep::Alerts | Ep::Alert(_) => Bucket::Alerts,
            Ep::MachineVulns(_) => Bucket::MachineVulnerabilities,
            Ep::Vulns | Ep::Vuln(_) | Ep::VulnRefs(_) => Bucket::Vulnerabilities,
            Ep::MachinesVulns => Bucket::MachinesVulnerabilities,
            Ep::Export => Bucket::Export,
            Ep::ExportChanges => Bucket::ExportChanges,
            Ep::SoftwareList | Ep::Software(_) | Ep::SoftwareRefs(_) => Bucket::Software,
            Ep::Hunt => Bucket::Hunting,
            Ep::Actions | Ep::Action(_) => Bucket::MachineActions,
            Ep::Act(_, _) | Ep::Cancel(_) => Bucket::SubmitAction,
        }
    }
}

fn decode(seg: &str) -> String {
    percent(seg).unwrap_or_else(|| seg.to_owned())
}

fn percent(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(s.get(i + 1..i + 3)?, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Maps method + path to an endpoint; the bool is the `$count` segment (§3.3).
fn route(method: &Method, path: &str) -> Option<(Ep, bool)> {
    let rest = path.strip_prefix("/api/")?;
    let rest = rest.strip_prefix("v1.0/").unwrap_or(rest);
    let mut segs: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let count = segs.last().is_some_and(|s| s == "$count");
    if count {
        segs.pop();
    }
    let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    let id = |i: usize| segs[i].clone();
    let get = *method == Method::GET;
    let post = *method == Method::POST;
    let ep = match l.as_slice() {
        ["machines"] if get => Ep::Machines,
        ["machines", "softwarevulnerabilitiesbymachine"] if get => Ep::Export,
        ["machines", "softwarevulnerabilitychangesbymachine"] if get => Ep::ExportChanges,
        ["machines", _] if get => Ep::Machine(id(1)),
        ["machines", _, "alerts"] if get => Ep::MachineAlerts(id(1)),
        ["machines", _, "vulnerabilities"] if get => Ep::MachineVulns(id(1)),
        ["machines", _, "isolate"] if post => Ep::Act(id(1), ActionType::Isolate),
        ["machines", _, "unisolate"] if post => Ep::Act(id(1), ActionType::Unisolate),
        ["machines", _, "runantivirusscan"] if post => Ep::Act(id(1), ActionType::RunAntiVirusScan),
        ["alerts"] if get => Ep::Alerts,
        ["alerts", _] if get => Ep::Alert(id(1)),
        ["vulnerabilities"] if get => Ep::Vulns,
        ["vulnerabilities", "machinesvulnerabilities"] if get => Ep::MachinesVulns,
        ["vulnerabilities", _] if get => Ep::Vuln(id(1)),
        ["vulnerabilities", _, "machinereferences"] if get => Ep::VulnRefs(id(1)),
        ["software"] if get => Ep::SoftwareList,
        ["software", _] if get => Ep::Software(id(1)),
        ["software", _, "machinereferences"] if get => Ep::SoftwareRefs(id(1)),
        ["advancedqueries", "run"] if post => Ep::Hunt,
        ["machineactions"] if get => Ep::Actions,
        ["machineactions", _] if get => Ep::Action(id(1)),
        ["machineactions", _, "cancel"] if post => Ep::Cancel(id(1)),
        _ => return None,
    };
    Some((ep, count))
}

/// Pages with more items than this are streamed in chunks instead of buffered.
const STREAM_ITEMS: usize = 500;
const CHUNK_BYTES: usize = 256 * 1024;

/// Where the response goes: sent once, either whole or as the head of a stream.
type Out = std::cell::RefCell<Option<oneshot::Sender<Response>>>;

/// Everything a handler needs about the request.
struct Ctx<'a> {
    sim: &'a Sim,
    out: &'a Out,
    /// `http://{Host}`: echoed in `@odata.context` and nextLinks (§11.28).
    base: String,
    path: String,
    raw_query: Option<String>,
    claims: Claims,
    body: Bytes,
    /// Whether the request faults apply to this call (`Faults::engage`).
    engaged: bool,
    /// Items per page without `$top` for this listing.
    page_size: usize,
}

impl Ctx<'_> {
    fn context(&self, set: &str) -> String {
        format!("{}/api/$metadata#{set}", self.base)
    }

    fn query(&self, fields: &'static [&'static str], max_top: usize) -> Result<Query, ApiError> {
        parse_query(self.raw_query.as_deref(), Spec { fields, max_top }).map_err(ApiError::odata)
    }

    fn requestor(&self) -> String {
        let apps = lock(&self.sim.apps);
        apps.iter()
            .find(|a| a.client_id == self.claims.appid)
            .map_or_else(|| self.claims.appid.clone(), |a| a.display_name.clone())
    }

    /// Whether the answer to this processed action POST is to be lost (§9.22); uses the
    /// fault up. Call it only once the action was recorded.
    fn lost_answer(&self) -> Option<Lost> {
        if !self.engaged {
            return None;
        }
        let mut f = lock(&self.sim.faults);
        if !take(&mut f.lost_answer_next) {
            return None;
        }
        Some(match f.lost_answer_mode {
            LostAnswerMode::GatewayTimeout => Lost::GatewayTimeout,
            LostAnswerMode::CutBody => Lost::CutBody,
            LostAnswerMode::Hang => Lost::Hold(std::time::Duration::from_millis(
                f.lost_answer_hang_ms.unwrap_or(DEFAULT_HANG_MS),
            )),
        })
    }

    /// Per-machine GETs, subject to the spurious-404 fault (§9.11).
    fn machine(&self, id: &str) -> Result<usize, ApiError> {
        if self.engaged && take(&mut lock(&self.sim.faults).spurious_not_found_next) {
            return Err(ApiError::not_found(format!("Machine {id} was not found")));
        }
        self.lookup(id)
    }

    fn lookup(&self, id: &str) -> Result<usize, ApiError> {
        self.sim
            .data
            .lookup(id)
            .ok_or_else(|| ApiError::not_found(format!("Machine {id} was not found")))
    }

    /// Filters, pages and writes a collection; `$count` returns the bare number.
    fn list(
        &self,
        q: &Query,
        count: bool,
        set: &str,
        candidates: Vec<u32>,
        field: &dyn Fn(u32, &str) -> Val,
        item: &dyn Fn(u32) -> Value,
    ) -> Reply {
        let mut matched: Vec<u32> = match &q.filter {
            Some(f) => candidates
                .into_iter()
                .filter(|c| f.eval(&|name| field(*c, name)))
                .collect(),
            None => candidates,
        };
        // A call the faults do not engage is paged by a fault-free copy.
        let mut clean = Faults::default();
        let mut armed = lock(&self.sim.faults);
        let faults: &mut Faults = if self.engaged { &mut armed } else { &mut clean };
        if let Some(limit) = faults.listing_limit {
            matched.truncate(limit);
        }
        if count {
            return Reply::ok(matched.len().to_string());
        }
        let url = format!("{}{}", self.base, self.path);
        let page = paging::select(matched.len(), q, self.page_size, &url, faults);
        if let Some(k) = faults.expire_tokens_after_pages.as_mut() {
            *k = k.saturating_sub(1);
            if *k == 0 {
                faults.expire_tokens_after_pages = None;
                let mut t = lock(&self.sim.tokens);
                t.expired_up_to = t.issued;
            }
        }
        drop(armed);
        let len = page.range.len();
        let items = matched[page.range]
            .iter()
            .map(|i| project(item(*i), q.select.as_deref()));
        self.page(&self.context(set), items, len, page.next_link)
    }

    /// Writes one page: whole, or streamed in chunks when big. A page a body fault will
    /// rewrite is always built whole.
    fn page(
        &self,
        context: &str,
        items: impl Iterator<Item = Value>,
        len: usize,
        next_link: Option<String>,
    ) -> Reply {
        let rewrites = self.engaged && lock(&self.sim.faults).rewrites_bodies();
        let stream = !rewrites && len > STREAM_ITEMS;
        if stream {
            if let Some(tx) = self.out.borrow_mut().take() {
                let (response, mut emit) = wire::streamed_response(StatusCode::OK);
                if tx.send(response).is_ok() {
                    wire::write_collection(
                        context,
                        items,
                        next_link.as_deref(),
                        CHUNK_BYTES,
                        &mut emit,
                    );
                }
                return Reply::streamed();
            }
        }
        Reply::ok(wire::collection(context, items, next_link.as_deref()))
    }
}

/// Keeps only the `$select`ed properties of an item.
fn project(v: Value, select: Option<&[String]>) -> Value {
    match (select, v) {
        (Some(fields), Value::Object(o)) => Value::Object(
            o.into_iter()
                .filter(|(k, _)| fields.iter().any(|f| f.eq_ignore_ascii_case(k)))
                .collect(),
        ),
        (_, v) => v,
    }
}

#[tracing::instrument(skip_all, fields(method = %method, path = %uri.path()))]
pub async fn handle(
    State(sim): State<Arc<Sim>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (engaged, delay) = {
        let mut f = lock(&sim.faults);
        let engaged = f.engage(uri.path());
        (engaged, if engaged { f.delay_ms } else { 0 })
    };
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    // Big pages are CPU work; keep it off the async workers. The blocking task sends the
    // response (or the head of a streamed page) through `tx` and may keep writing chunks.
    let (tx, rx) = oneshot::channel::<Response>();
    tokio::task::spawn_blocking(move || {
        let out: Out = std::cell::RefCell::new(Some(tx));
        let request = Request {
            method: &method,
            uri: &uri,
            headers: &headers,
            body,
            engaged,
        };
        let response = match dispatch(&sim, &out, request) {
            Ok(reply) if reply.streamed => return,
            Ok(reply) => finish(&sim, reply, engaged),
            Err(e) => e.into_response(),
        };
        let pending = out.borrow_mut().take();
        if let Some(tx) = pending {
            let _ = tx.send(response);
        }
    });
    let response = match rx.await {
        Ok(mut r) => {
            // The hanging lost answer (§9.22): the action exists, the reply comes too late.
            if let Some(Hold(d)) = r.extensions_mut().remove::<Hold>() {
                tokio::time::sleep(d).await;
            }
            r
        }
        Err(_) => {
            tracing::error!("API handler panicked");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "An error has occurred",
            )
            .into_response()
        }
    };
    tracing::debug!(status = %response.status(), "api call");
    response
}

/// Applies the body faults (wrong shape, wrong types, truncation) to successful bodies, and
/// loses the answer of a processed action when the fault said so.
fn finish(sim: &Sim, reply: Reply, engaged: bool) -> Response {
    let mut body = reply.body;
    if engaged {
        faults::rewrite_body(&mut lock(&sim.faults), &mut body);
    }
    match reply.lost {
        None => wire::json_response(reply.status, body),
        Some(Lost::GatewayTimeout) => wire::gateway_timeout(),
        Some(Lost::CutBody) => {
            faults::cut_in_half(&mut body);
            wire::json_response(reply.status, body)
        }
        Some(Lost::Hold(d)) => {
            let mut r = wire::json_response(reply.status, body);
            r.extensions_mut().insert(Hold(d));
            r
        }
    }
}

/// One API request as `dispatch` needs it.
struct Request<'a> {
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    body: Bytes,
    /// Whether the request faults apply (`Faults::engage`).
    engaged: bool,
}

fn authenticate(sim: &Sim, headers: &HeaderMap) -> Result<Claims, ApiError> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(token) = auth
        .strip_prefix("Bearer ")
        .or_else(|| auth.strip_prefix("bearer "))
    else {
        return Err(ApiError::unauthorized(
            "Authorization header is missing or is not a bearer token",
        ));
    };
    let claims = jwt::verify(&sim.key, token.trim())
        .ok_or_else(|| ApiError::unauthorized("Authorization token is invalid"))?;
    let now = (clock::now() / SEC) as i64;
    let bulk_expired = claims.serial() <= lock(&sim.tokens).expired_up_to;
    if now >= claims.exp || bulk_expired {
        return Err(ApiError::unauthorized("The access token has expired"));
    }
    if claims.nbf > now + 300 {
        return Err(ApiError::unauthorized("The access token is not yet valid"));
    }
    if !lock(&sim.apps).iter().any(|a| a.tenant_id == claims.tid) {
        return Err(ApiError::unauthorized(
            "The access token was issued for another tenant",
        ));
    }
    Ok(claims)
}

fn dispatch(sim: &Sim, out: &Out, request: Request<'_>) -> Result<Reply, ApiError> {
    let Request {
        method,
        uri,
        headers,
        body,
        engaged,
    } = request;
    let claims = authenticate(sim, headers)?;
    let (ep, count) = route(method, uri.path()).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!(
                "No HTTP resource was found that matches the request URI '{}'",
                uri.path()
            ),
        )
    })?;
    if !is_mde_audience(&claims.aud) {
        return Err(ApiError::forbidden(format!(
            "The access token audience '{}' is not valid for this API",
            claims.aud
        )));
    }
    // A Defender audience of another cloud: this service cannot validate the token at all.
    let cloud = sim.tenant_cloud(&claims.tid);
    if !in_cloud(cloud, &claims.aud) {
        return Err(ApiError::unauthorized(&format!(
            "The access token audience '{}' belongs to another cloud; tenant {} is in the {} \
             cloud, whose audience is '{}'",
            claims.aud,
            claims.tid,
            cloud.name(),
            cloud_audiences(cloud)[0]
        )));
    }
    let have = claims.roles.clone().unwrap_or_default();
    let required = ep.roles();
    if !required.iter().any(|r| have.iter().any(|h| h == r)) {
        return Err(ApiError::forbidden(format!(
            "Missing application roles. API required roles: {}, application roles: {}.",
            required.join(","),
            have.join(",")
        )));
    }
    if engaged {
        storm_faults(sim, &ep, count)?;
    }
    sim.throttle_check(&claims, ep.bucket())?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let ctx = Ctx {
        sim,
        out,
        base: format!("http://{host}"),
        path: uri.path().to_owned(),
        raw_query: uri.query().map(str::to_owned),
        claims,
        body,
        engaged,
        page_size: ep.page_size(sim.config.page_size),
    };
    serve(&ctx, ep, count)
}

fn storm_faults(sim: &Sim, ep: &Ep, count: bool) -> Result<(), ApiError> {
    let mut f = lock(&sim.faults);
    if take(&mut f.throttle_next) {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "API calls quota exceeded! maximum allowed 100 per 00:01:00",
        );
        e.retry_after = f.throttle_retry_after_secs;
        return Err(e);
    }
    if take(&mut f.server_error_next) {
        return Err(if f.server_error_status == 503 {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "The service is temporarily unavailable",
            )
        } else {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "An error has occurred",
            )
        });
    }
    if ep.is_collection() && !count && take(&mut f.collection_not_found_next) {
        return Err(ApiError::not_found("The requested resource was not found"));
    }
    if *ep == Ep::Hunt && take(&mut f.hunting_cpu_quota_next) {
        // Advanced hunting's CPU budget (§3.7, §4.14); the body says which quota.
        let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "429", "Exceeded the allowed CPU resources for advanced hunting queries per 01:00:00. Try again later.");
        e.retry_after = Some(60);
        return Err(e);
    }
    Ok(())
}

impl Sim {
    /// The cloud of a tenant's first app (commercial when unknown).
    fn tenant_cloud(&self, tenant_id: &str) -> Cloud {
        lock(&self.apps)
            .iter()
            .find(|a| a.tenant_id == tenant_id)
            .map_or(Cloud::Commercial, |a| a.cloud)
    }

    fn throttle_check(&self, claims: &Claims, bucket: Bucket) -> Result<(), ApiError> {
        let limits = self.config.rate_limits;
        lock(&self.throttle)
            .admit(&claims.appid, &claims.tid, bucket, &limits, Instant::now())
            .map_err(|r| {
                let code = if bucket == Bucket::Hunting {
                    "429"
                } else {
                    "TooManyRequests"
                };
                let mut e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    code,
                    format!(
                        "API calls quota exceeded! maximum allowed {} per {}",
                        r.limit, r.window
                    ),
                );
                e.retry_after = Some(r.retry_after_secs);
                e
            })
    }
}

fn serve(ctx: &Ctx<'_>, ep: Ep, count: bool) -> Result<Reply, ApiError> {
    let sim = ctx.sim;
    let d = &sim.data;
    let all = |n: usize| (0..n as u32).collect::<Vec<u32>>();
    let machine_field = |i: u32, f: &str| -> Val {
        if f == "computerDnsName" {
            return d.name(i as usize).map_or(Val::Null, Val::Str);
        }
        d.machines[i as usize].field(None, f)
    };
    let machine_json = |i: u32| d.machine_json(i as usize);
    // Alerts as they stand now: generated, then changed in the portal.
    let updates = lock(&sim.alert_updates).clone();
    let alert = |k: u32| alert_now(&d.alerts[k as usize], updates.get(&k));
    let alert_json = |expand: bool| {
        move |k: u32| {
            let a = alert(k);
            let mut scratch = (String::new(), None);
            a.json(&d.alert_on(&a, &mut scratch), expand)
        }
    };
    let alert_field = |k: u32, f: &str| alert(k).field(f);
    let cve_json = |c: u32| d.cves[c as usize].json(d.exposed(c as usize));
    let cve_field = |c: u32, f: &str| d.cves[c as usize].field(f);
    let machine_ref = |i: u32| {
        let m = &d.machines[i as usize];
        software::machine_ref(
            &m.id_hex(),
            d.name(i as usize).as_deref(),
            m.reported_platform(),
            m.rbac_group(),
        )
    };
    let ref_field = |i: u32, f: &str| machine_field(i, f);

    match ep {
        Ep::Machines => {
            let q = ctx.query(machines::FILTER_FIELDS, MAX_TOP)?;
            if d.machines.is_empty() {
                // "404 if there are no recent machines" (§4.1).
                return Err(ApiError::not_found("No machines found"));
            }
            Ok(ctx.list(
                &q,
                count,
                "Machines",
                all(d.machines.len()),
                &machine_field,
                &machine_json,
            ))
        }
        Ep::Machine(id) => {
            let i = ctx.machine(&id)?;
            Ok(Reply::entity(
                StatusCode::OK,
                ctx.context("Machines/$entity"),
                machine_json(i as u32),
            ))
        }
        Ep::MachineAlerts(id) => {
            let i = ctx.machine(&id)?;
            let q = ctx.query(alerts::FILTER_FIELDS, MAX_TOP)?;
            let ids = d.alerts_by_machine.get(i).to_vec();
            Ok(ctx.list(
                &q,
                count,
                "Alerts",
                ids,
                &alert_field,
                &alert_json(q.expand_evidence),
            ))
        }
        Ep::MachineVulns(id) => {
            let i = ctx.machine(&id)?;
            let q = ctx.query(vulnerabilities::FILTER_FIELDS, MAX_TOP_VULNERABILITIES)?;
            let mut cves: Vec<u32> = d
                .rows_by_machine
                .get(i)
                .iter()
                .map(|r| d.rows[*r as usize].1)
                .collect();
            cves.sort_unstable();
            cves.dedup();
            let set = "Collection(Analytics.Contracts.PublicAPI.PublicVulnerabilityDto)";
            Ok(ctx.list(&q, count, set, cves, &cve_field, &cve_json))
        }
        Ep::Act(id, kind) => submit(ctx, &id, kind),
        Ep::Alerts => {
            let q = ctx.query(alerts::FILTER_FIELDS, MAX_TOP)?;
            Ok(ctx.list(
                &q,
                count,
                "Alerts",
                all(d.alerts.len()),
                &alert_field,
                &alert_json(q.expand_evidence),
            ))
        }
        Ep::Alert(id) => {
            let q = ctx.query(alerts::FILTER_FIELDS, MAX_TOP)?;
            let k = d
                .alerts
                .iter()
                .position(|a| a.id() == id)
                .ok_or_else(|| ApiError::not_found(format!("Alert {id} was not found")))?;
            Ok(Reply::entity(
                StatusCode::OK,
                ctx.context("Alerts/$entity"),
                alert_json(q.expand_evidence)(k as u32),
            ))
        }
        Ep::Vulns => {
            let q = ctx.query(vulnerabilities::FILTER_FIELDS, MAX_TOP_VULNERABILITIES)?;
            Ok(ctx.list(
                &q,
                count,
                "Vulnerabilities",
                d.exposed_cves.clone(),
                &cve_field,
                &cve_json,
            ))
        }
        Ep::Vuln(cve) => {
            let c = cve_index(ctx, &cve)?;
            Ok(Reply::entity(
                StatusCode::OK,
                ctx.context("Vulnerabilities/$entity"),
                cve_json(c),
            ))
        }
        Ep::VulnRefs(cve) => {
            let c = cve_index(ctx, &cve)?;
            let q = ctx.query(machines::FILTER_FIELDS, MAX_TOP)?;
            let ms: Vec<u32> = d
                .rows_by_cve
                .get(c as usize)
                .iter()
                .map(|r| d.rows[*r as usize].0)
                .collect();
            Ok(ctx.list(&q, count, "MachineReferences", ms, &ref_field, &machine_ref))
        }
        Ep::MachinesVulns => {
            let q = ctx.query(vulnerabilities::ROW_FILTER_FIELDS, MAX_TOP)?;
            let live = live_rows(sim);
            let at = |r: u32| live.as_ref().map_or(d.rows[r as usize], |l| l[r as usize]);
            // The hex machine id is only built when the filter looks at it (1M rows).
            let row_field = |r: u32, f: &str| {
                let (m, c) = at(r);
                let mid = match f {
                    "id" | "machineId" => d.machines[m as usize].id_hex(),
                    _ => String::new(),
                };
                d.row_of(m, c, &mid).field(f)
            };
            let row_json = |r: u32| {
                let (m, c) = at(r);
                let mid = d.machines[m as usize].id_hex();
                d.row_of(m, c, &mid).json()
            };
            let rows = live.as_ref().map_or(d.rows.len(), Vec::len);
            Ok(ctx.list(
                &q,
                count,
                "MachineVulnerabilities",
                all(rows),
                &row_field,
                &row_json,
            ))
        }
        Ep::Export => export(ctx),
        Ep::ExportChanges => export_changes(ctx),
        Ep::SoftwareList => {
            let q = ctx.query(&["id", "name", "vendor"], MAX_TOP)?;
            let installed: Vec<u32> = (0..PRODUCTS.len() as u32)
                .filter(|p| d.machines.iter().any(|m| m.software & (1 << p) != 0))
                .collect();
            let sw_json = |p: u32| software::json(&PRODUCTS[p as usize], &d.software[p as usize]);
            let sw_field = |p: u32, f: &str| {
                sw_json(p)
                    .get(f)
                    .and_then(Value::as_str)
                    .map_or(Val::Null, |s| Val::Str(s.to_owned()))
            };
            Ok(ctx.list(&q, count, "Software", installed, &sw_field, &sw_json))
        }
        Ep::Software(id) => {
            let p = d
                .software_index(&id)
                .ok_or_else(|| ApiError::not_found(format!("Software {id} was not found")))?;
            Ok(Reply::entity(
                StatusCode::OK,
                ctx.context("Software/$entity"),
                software::json(&PRODUCTS[p], &d.software[p]),
            ))
        }
        Ep::SoftwareRefs(id) => {
            let p = d
                .software_index(&id)
                .ok_or_else(|| ApiError::not_found(format!("Software {id} was not found")))?;
            let q = ctx.query(machines::FILTER_FIELDS, MAX_TOP)?;
            let ms: Vec<u32> = (0..d.machines.len() as u32)
                .filter(|i| d.machines[*i as usize].software & (1 << p) != 0)
                .collect();
            Ok(ctx.list(&q, count, "MachineReferences", ms, &ref_field, &machine_ref))
        }
        Ep::Hunt => {
            let mut clean = Faults::default();
            let mut armed = lock(&sim.faults);
            let faults: &mut Faults = if ctx.engaged { &mut armed } else { &mut clean };
            let max_rows = {
                let mut log = lock(&sim.hunting);
                if log.queries.len() < HUNTING_QUERIES_KEPT {
                    let body: Value = serde_json::from_slice(&ctx.body).unwrap_or(Value::Null);
                    log.queries
                        .push(body["Query"].as_str().unwrap_or_default().to_owned());
                }
                log.max_rows
            };
            let v = hunting::run(d, faults, max_rows, &ctx.body)?;
            Ok(Reply::ok(v.to_string()))
        }
        Ep::Actions => {
            let q = ctx.query(actions::FILTER_FIELDS, MAX_TOP)?;
            // A snapshot, so a slow reader of a streamed page cannot block new actions.
            let snapshot = lock(&sim.actions).actions.clone();
            let now = clock::now();
            let t = &sim.config.action_timings;
            let field = |i: u32, f: &str| snapshot[i as usize].field(f, now, t);
            let item = |i: u32| snapshot[i as usize].json(now, t);
            Ok(ctx.list(
                &q,
                count,
                "MachineActions",
                all(snapshot.len()),
                &field,
                &item,
            ))
        }
        Ep::Action(id) => {
            let mut store = lock(&sim.actions);
            store.status_reads += 1;
            let a = store
                .get(&id)
                .ok_or_else(|| ApiError::not_found(format!("Machine action {id} was not found")))?;
            let v = a.json(clock::now(), &sim.config.action_timings);
            Ok(Reply::entity(
                StatusCode::OK,
                ctx.context("MachineActions/$entity"),
                v,
            ))
        }
        Ep::Cancel(id) => {
            let req = actions::parse_body(ActionType::Unisolate, &ctx.body)
                .map_err(|(c, m)| ApiError::bad(c, m))?;
            let now = clock::now();
            let t = &sim.config.action_timings;
            let requestor = ctx.requestor();
            let mut store = lock(&sim.actions);
            let cancelled = match store.cancel(&id, &requestor, &req.comment, now, t) {
                None => {
                    return Err(ApiError::not_found(format!(
                        "Machine action {id} was not found"
                    )))
                }
                Some(Err((c, m))) => return Err(ApiError::bad(c, m)),
                Some(Ok(i)) => store.actions[i].json(now, t),
            };
            drop(store);
            let context = ctx.context("MachineActions/$entity");
            Ok(Reply::entity(StatusCode::OK, context, cancelled).losing(ctx.lost_answer()))
        }
    }
}

/// The machine-vulnerability rows present now, when any changed since generation (`None`:
/// the generated rows, without copying a million of them).
fn live_rows(sim: &Sim) -> Option<Vec<(u32, u32)>> {
    let changes = lock(&sim.row_changes);
    (!changes.is_empty()).then(|| changes.live(&sim.data))
}

/// The export's query string: its parameters, case-insensitive, and `pageSize`.
struct ExportQuery {
    pairs: Vec<(String, String)>,
}

impl ExportQuery {
    fn parse(ctx: &Ctx<'_>) -> Result<Self, ApiError> {
        let pairs = serde_urlencoded::from_str(ctx.raw_query.as_deref().unwrap_or(""))
            .map_err(|e| ApiError::bad("InvalidInput", e.to_string()))?;
        Ok(Self { pairs })
    }

    fn param(&self, k: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.as_str())
    }

    fn number(&self, k: &str) -> Result<Option<usize>, ApiError> {
        self.param(k)
            .map(|v| v.trim().parse::<usize>())
            .transpose()
            .map_err(|_| ApiError::bad("InvalidInput", format!("Invalid value for {k}")))
    }

    fn page_size(&self) -> Result<usize, ApiError> {
        let page_size = self
            .number("pageSize")?
            .unwrap_or(exports::DEFAULT_PAGE_SIZE);
        if page_size == 0 || page_size > exports::MAX_PAGE_SIZE {
            return Err(ApiError::bad(
                "InvalidInput",
                format!("pageSize must be between 1 and {}", exports::MAX_PAGE_SIZE),
            ));
        }
        Ok(page_size)
    }

    fn start(&self, len: usize) -> Result<usize, ApiError> {
        Ok(match self.param("$skiptoken") {
            Some(t) => exports::parse_skiptoken(t)
                .ok_or_else(|| ApiError::bad("InvalidInput", "Invalid $skiptoken"))?,
            None => 0,
        }
        .min(len))
    }
}

/// `SoftwareVulnerabilityChangesByMachine` (§4.13, §9.25): the rows fixed or found since
/// `sinceTime`, which may be at most 14 days back. The feed is kept in 6-hour slices, so a
/// `sinceTime` is taken back to the start of its slice and the rows just before it come again:
/// a client must de-duplicate by id. Paged like the export.
fn export_changes(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let d = &ctx.sim.data;
    let query = ExportQuery::parse(ctx)?;
    let since = query
        .param("sinceTime")
        .ok_or_else(|| ApiError::bad("InvalidInput", "sinceTime is required"))?;
    let since = clock::parse_iso(since)
        .ok_or_else(|| ApiError::bad("InvalidInput", "Invalid value for sinceTime"))?;
    if since < clock::now() - 14 * 86_400 * SEC {
        return Err(ApiError::bad(
            "InvalidInput",
            "sinceTime must be within the last 14 days",
        ));
    }
    let slice = 6 * 3_600 * SEC;
    let from = since - since.rem_euclid(slice);
    let page_size = query.page_size()?;
    let events: Vec<_> = lock(&ctx.sim.row_changes)
        .events
        .iter()
        .filter(|e| e.at >= from)
        .copied()
        .collect();
    let start = query.start(events.len())?;
    let end = (start + page_size).min(events.len());
    let next_link = (end < events.len()).then(|| {
        format!(
            "{}{}?{}",
            ctx.base,
            ctx.path,
            serde_urlencoded::to_string([
                ("sinceTime", clock::iso0(since)),
                ("pageSize", page_size.to_string()),
                ("$skiptoken", exports::skiptoken(end)),
            ])
            .unwrap_or_default()
        )
    });
    let context =
        ctx.context("Collection(microsoft.windowsDefenderATP.api.AssetVulnerabilityChange)");
    let items = events[start..end]
        .iter()
        .map(|e| exports::change_json(d, e));
    Ok(ctx.page(&context, items, end - start, next_link))
}

/// `SoftwareVulnerabilitiesByMachine` (§4.13): `pageSize` + `$skiptoken`; `$top` disables
/// the nextLink like elsewhere.
fn export(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let d = &ctx.sim.data;
    let query = ExportQuery::parse(ctx)?;
    let page_size = query.page_size()?;
    let live = live_rows(ctx.sim);
    let rows = live.as_ref().map_or(d.rows.len(), Vec::len);
    let start = query.start(rows)?;
    let top = query.number("$top")?;
    let end = (start + top.unwrap_or(page_size).min(page_size)).min(rows);
    let next_link = (top.is_none() && end < rows).then(|| {
        format!(
            "{}{}?pageSize={page_size}&$skiptoken={}",
            ctx.base,
            ctx.path,
            exports::skiptoken(end)
        )
    });
    let context = ctx.context("Collection(microsoft.windowsDefenderATP.api.AssetVulnerability)");
    let items = (start..end).map(|r| match &live {
        Some(l) => exports::row_json_of(d, l[r].0, l[r].1),
        None => exports::row_json(d, r),
    });
    Ok(ctx.page(&context, items, end - start, next_link))
}

fn cve_index(ctx: &Ctx<'_>, cve: &str) -> Result<u32, ApiError> {
    ctx.sim
        .data
        .cve_by_id
        .get(&cve.to_ascii_uppercase())
        .copied()
        .ok_or_else(|| ApiError::not_found(format!("Vulnerability {cve} was not found")))
}

fn submit(ctx: &Ctx<'_>, id: &str, kind: ActionType) -> Result<Reply, ApiError> {
    let sim = ctx.sim;
    let i = ctx.lookup(id)?;
    let m = &sim.data.machines[i];
    let req = actions::parse_body(kind, &ctx.body).map_err(|(c, msg)| ApiError::bad(c, msg))?;
    actions::check_platform(&req, m).map_err(|(c, msg)| ApiError::bad(c, msg))?;
    if ctx.engaged && take(&mut lock(&sim.faults).platform_refusal_next) {
        return Err(ApiError::bad(
            "OsPlatformNotSupported",
            format!(
                "{} is not supported on this machine's OS platform",
                kind.name()
            ),
        ));
    }
    let (outcome, existing) = {
        let f = lock(&sim.faults);
        (
            f.action_outcome.unwrap_or(ForcedOutcome::Succeeded),
            f.duplicate_action_returns_existing,
        )
    };
    let requestor = ctx.requestor();
    let now = clock::now();
    let t = &sim.config.action_timings;
    let submission = Submission {
        req,
        machine: m,
        index: i as u32,
        name: sim.data.name(i),
        requestor: &requestor,
        outcome,
        source: Source::PublicApi,
        created: now,
        pending_until: None,
    };
    let mut store = lock(&sim.actions);
    let s = store
        .submit(submission, existing, now, t)
        .map_err(|(c, msg)| ApiError::bad(c, msg))?;
    let idx = match s {
        Submitted::Created(x) | Submitted::Existing(x) => x,
    };
    let action = store.actions[idx].json(now, t);
    drop(store);
    tracing::info!(machine = %m.id_hex(), kind = kind.name(), "machine action submitted");
    let context = ctx.context("MachineActions/$entity");
    Ok(Reply::entity(StatusCode::CREATED, context, action).losing(ctx.lost_answer()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let g = Method::GET;
        assert_eq!(route(&g, "/api/machines"), Some((Ep::Machines, false)));
        assert_eq!(
            route(&g, "/api/v1.0/machines/abc"),
            Some((Ep::Machine("abc".into()), false))
        );
        assert_eq!(
            route(&g, "/api/machines/abc/alerts/$count"),
            Some((Ep::MachineAlerts("abc".into()), true))
        );
        assert_eq!(
            route(&g, "/api/machines/abc/alerts/%24count").map(|r| r.1),
            Some(true)
        );
        assert_eq!(
            route(&g, "/api/vulnerabilities/machinesVulnerabilities"),
            Some((Ep::MachinesVulns, false))
        );
        assert_eq!(
            route(&g, "/api/Software/a-_-b/machineReferences"),
            Some((Ep::SoftwareRefs("a-_-b".into()), false))
        );
        assert_eq!(
            route(&Method::POST, "/api/machines/x/runAntiVirusScan"),
            Some((Ep::Act("x".into(), ActionType::RunAntiVirusScan), false))
        );
        assert_eq!(route(&g, "/api/machines/x/isolate"), None);
        assert_eq!(route(&g, "/api/nothing"), None);
        let export = route(&g, "/api/machines/SoftwareVulnerabilitiesByMachine");
        assert_eq!(export, Some((Ep::Export, false)));
    }

    #[test]
    fn vulnerabilities_pages_hold_at_most_8000() {
        assert_eq!(Ep::Vulns.page_size(10_000), 8_000);
        assert_eq!(Ep::Vulns.page_size(5), 5);
        for other in [Ep::Machines, Ep::Alerts, Ep::Actions, Ep::MachinesVulns] {
            assert_eq!(other.page_size(10_000), 10_000, "{other:?}");
        }
        let per_machine = Ep::MachineVulns("m".into());
        assert_eq!(per_machine.page_size(10_000), 10_000);
        // The chosen size is what paging serves and links on.
        let q = crate::sim::odata::parse_query(
            None,
            crate::sim::odata::Spec {
                fields: &[],
                max_top: 8_000,
            },
        )
        .unwrap();
        let page = paging::select(
            9_000,
            &q,
            Ep::Vulns.page_size(10_000),
            "u",
            &mut Faults::default(),
        );
        assert_eq!(page.range, 0..8_000);
        assert_eq!(page.next_link.as_deref(), Some("u?$skip=8000"));
    }
}
