//! Client behaviour against a scripted in-process HTTP mock: retries, refresh, paging guards.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::defender::*;

const SECRET: &str = "mock-secret-VALUE-never-printed";
const M1: &str = "1111111111111111111111111111111111111111";

mod containment;

#[derive(Clone)]
struct Canned {
    status: u16,
    body: String,
    retry_after: Option<&'static str>,
    location: Option<String>,
    delay: Duration,
}

fn ok(body: impl Into<String>) -> Canned {
    Canned {
        status: 200,
        body: body.into(),
        retry_after: None,
        location: None,
        delay: Duration::ZERO,
    }
}

fn status(status: u16, body: impl Into<String>) -> Canned {
    Canned { status, ..ok(body) }
}

#[derive(Default)]
struct Mock {
    scripts: Mutex<HashMap<String, VecDeque<Canned>>>,
    token_script: Mutex<VecDeque<Canned>>,
    tokens_issued: AtomicUsize,
    hits: Mutex<Vec<String>>,
    bodies: Mutex<Vec<String>>,
}

impl Mock {
    fn script(&self, key: &str, responses: Vec<Canned>) {
        self.scripts
            .lock()
            .unwrap()
            .entry(key.to_owned())
            .or_default()
            .extend(responses);
    }
    fn hits(&self, prefix: &str) -> usize {
        self.hits
            .lock()
            .unwrap()
            .iter()
            .filter(|h| h.starts_with(prefix))
            .count()
    }
}

fn jwt(roles: &[&str], n: usize) -> String {
    let payload = serde_json::json!({"aud": "https://api.securitycenter.microsoft.com", "n": n, "roles": roles});
    format!(
        "eyJ0eXAiOiJKV1QifQ.{}.sig",
        URL_SAFE_NO_PAD.encode(payload.to_string())
    )
}

async fn handle(
    State(mock): State<Arc<Mock>>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let key = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    if uri.path().ends_with("/oauth2/v2.0/token") {
        assert!(body.contains("client_credentials") && body.contains("%2F.default"));
        let scripted = mock.token_script.lock().unwrap().pop_front();
        if let Some(c) = scripted {
            return respond(c).await;
        }
        let n = mock.tokens_issued.fetch_add(1, Ordering::SeqCst) + 1;
        let token = jwt(&["Machine.Read.All", "Machine.Isolate"], n);
        return respond(ok(format!(
            r#"{{"token_type":"Bearer","expires_in":"3599","access_token":"{token}"}}"#
        )))
        .await;
    }
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(auth.starts_with("Bearer eyJ"), "bearer token missing");
    mock.hits.lock().unwrap().push(key.clone());
    mock.bodies.lock().unwrap().push(body);
    let canned = {
        let mut scripts = mock.scripts.lock().unwrap();
        scripts
            .get_mut(&key)
            .and_then(VecDeque::pop_front)
            .or_else(|| scripts.get_mut(uri.path()).and_then(VecDeque::pop_front))
    };
    match canned {
        Some(c) => respond(c).await,
        None => {
            respond(status(
                404,
                r#"{"error":{"code":"NotFound","message":"unscripted"}}"#,
            ))
            .await
        }
    }
}

async fn respond(c: Canned) -> Response {
    tokio::time::sleep(c.delay).await;
    let mut resp = (StatusCode::from_u16(c.status).unwrap(), c.body).into_response();
    resp.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    if let Some(after) = c.retry_after {
        resp.headers_mut()
            .insert("retry-after", after.parse().unwrap());
    }
    if let Some(location) = c.location {
        resp.headers_mut()
            .insert("location", location.parse().unwrap());
    }
    resp
}

async fn start(options: ClientOptions) -> (DefenderClient, Arc<Mock>, String) {
    start_as(options, "127.0.0.1").await
}

/// As [`start`], with the mock's URLs naming `host` (which must reach 127.0.0.1).
async fn start_as(options: ClientOptions, host: &str) -> (DefenderClient, Arc<Mock>, String) {
    let mock = Arc::new(Mock::default());
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(Arc::clone(&mock));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let base = format!("http://{host}:{port}");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let settings = DefenderSettings::new(
        "tenant-1",
        "client-1",
        SECRET,
        Endpoints::custom(&base, &base).unwrap(),
    );
    (DefenderClient::new(settings, options).unwrap(), mock, base)
}

fn machine(id: &str) -> String {
    format!(
        r#"{{"id":"{id}","computerDnsName":"m-{id}","osPlatform":null,"onboardingStatus":"Onboarded"}}"#
    )
}

fn page(ids: &[&str], next: Option<&str>) -> String {
    let items: Vec<String> = ids.iter().map(|id| machine(id)).collect();
    let next = next
        .map(|n| format!(r#","@odata.nextLink":"{n}""#))
        .unwrap_or_default();
    format!(
        r#"{{"@odata.context":"x/api/$metadata#Machines","value":[{}]{next}}}"#,
        items.join(",")
    )
}

async fn drain<T>(mut pager: Pager<T>) -> (Vec<String>, Option<StopReason>)
where
    T: serde::de::DeserializeOwned + model::Identified,
{
    let mut ids = Vec::new();
    while let Some(items) = pager.next_page().await.unwrap() {
        ids.extend(items.iter().map(|i| i.id().to_owned()));
    }
    (ids, pager.stop_reason())
}

#[tokio::test]
async fn pages_follow_next_link_and_dedupe() {
    let (client, mock, base) = start(ClientOptions::for_tests()).await;
    mock.script(
        "/api/machines",
        vec![ok(page(
            &["a", "b"],
            Some(&format!("{base}/api/machines?$skip=2")),
        ))],
    );
    mock.script(
        "/api/machines?$skip=2",
        vec![ok(page(
            &["b", "c"],
            Some(&format!("{base}/api/machines?$skip=4")),
        ))],
    );
    mock.script("/api/machines?$skip=4", vec![ok(page(&["d"], None))]);
    let mut pager = client.machines();
    let mut pages = Vec::new();
    while let Some(items) = pager.next_page().await.unwrap() {
        pages.push(items.into_iter().map(|m| m.id).collect::<Vec<_>>());
    }
    assert_eq!(pages, [vec!["a", "b"], vec!["c"], vec!["d"]]);
    assert_eq!(pager.stop_reason(), Some(StopReason::Exhausted));
    assert_eq!(
        pager.stats(),
        PagingStats {
            pages: 3,
            raw_items: 5,
            items: 4,
            duplicates: 1,
            skipped: 0,
        }
    );
    assert_eq!(client.metrics().token_requests, 1, "token reused");
}

#[tokio::test]
async fn next_link_loops_stop_with_a_guard() {
    let (client, mock, base) = start(ClientOptions::for_tests()).await;
    // Repeated link.
    let again = format!("{base}/api/alerts?$skip=1");
    let alert = |id: &str| format!(r#"{{"value":[{{"id":"{id}"}}],"@odata.nextLink":"{again}"}}"#);
    mock.script("/api/alerts", vec![ok(alert("x"))]);
    mock.script("/api/alerts?$skip=1", vec![ok(alert("y"))]);
    let (ids, stop) = drain(client.alerts()).await;
    assert_eq!(ids, ["x", "y"]);
    assert_eq!(stop, Some(StopReason::RepeatedLink));

    // Only already-seen ids, with ever-new links (the malformed-$filter bug, §3.4).
    mock.script(
        "/api/machines",
        vec![ok(page(&[M1], Some(&format!("{base}/api/machines?=1"))))],
    );
    mock.script(
        "/api/machines?=1",
        vec![ok(page(&[M1], Some(&format!("{base}/api/machines?=2"))))],
    );
    let (ids, stop) = drain(client.machines()).await;
    assert_eq!(ids, [M1]);
    assert_eq!(stop, Some(StopReason::NoProgress));

    // An empty page that still has a nextLink.
    mock.script(
        "/api/vulnerabilities",
        vec![ok(format!(
            r#"{{"value":[],"@odata.nextLink":"{base}/api/vulnerabilities?$skip=9"}}"#
        ))],
    );
    let (ids, stop) = drain(client.vulnerabilities()).await;
    assert!(ids.is_empty());
    assert_eq!(stop, Some(StopReason::EmptyPageWithLink));

    // A nextLink that is not a URL, or that leaves the API host.
    mock.script(
        "/api/machineactions",
        vec![ok(
            r#"{"value":[{"id":"a1"}],"@odata.nextLink":"::not a url"}"#,
        )],
    );
    let (ids, stop) = drain(client.machine_actions(None)).await;
    assert_eq!((ids.len(), stop), (1, Some(StopReason::BadLink)));
    mock.script("/api/machineactions", vec![ok(r#"{"value":[{"id":"a1"}],"@odata.nextLink":"https://evil.example/api/machineactions?$skip=1"}"#)]);
    let (_, stop) = drain(client.machine_actions(None)).await;
    assert_eq!(stop, Some(StopReason::BadLink));
    assert_eq!(mock.hits("/api/machineactions?"), 0);
}

fn skipped(id: Option<&str>, field: &str, reason: &str) -> SkippedItem {
    SkippedItem {
        listing: "machines".into(),
        id: id.map(str::to_owned),
        machine_id: None,
        field: field.into(),
        reason: reason.into(),
    }
}

#[tokio::test]
async fn undecodable_items_are_skipped_and_named_and_the_rest_is_used() {
    let (client, mock, base) = start(ClientOptions::for_tests()).await;
    let first = format!(
        r#"{{"value":[{},{{"id":"b","lastSeen":"2026-13-45T99:00:00Z"}},
        {{"id":"c","rbacGroupId":"12"}},{{"id":42,"computerDnsName":"numeric-id"}}],
        "@odata.nextLink":"{base}/api/machines?$skip=4"}}"#,
        machine("a")
    );
    // Only bad items, but with ids not seen before: the listing goes on past them.
    let second = format!(
        r#"{{"value":[{{"id":"e","rbacGroupId":"Engineering"}},
        {{"id":"f","ipAddresses":[{{"type":"Ethernet"}},{{"type":7}}]}}],
        "@odata.nextLink":"{base}/api/machines?$skip=6"}}"#
    );
    mock.script("/api/machines", vec![ok(first)]);
    mock.script("/api/machines?$skip=4", vec![ok(second)]);
    // "b" decodes this time (its data changed meanwhile): not a duplicate of its skipped
    // sighting.
    mock.script("/api/machines?$skip=6", vec![ok(page(&["d", "b"], None))]);

    let mut pager = client.machines();
    let mut pages = Vec::new();
    let mut groups = Vec::new();
    while let Some(items) = pager.next_page().await.unwrap() {
        pages.push(items.iter().map(|m| m.id.clone()).collect::<Vec<_>>());
        groups.extend(items.into_iter().map(|m| (m.id, m.rbac_group_id)));
    }
    assert_eq!(pages, [vec!["a", "c"], vec!["d", "b"]]);
    assert_eq!(groups[1], ("c".to_owned(), Some(12)));
    assert_eq!(
        pager.skipped(),
        [
            skipped(
                Some("b"),
                "lastSeen",
                r#"not a timestamp: "2026-13-45T99:00:00Z""#
            ),
            skipped(None, "id", "invalid type: integer `42`, expected a string"),
            skipped(
                Some("e"),
                "rbacGroupId",
                r#"invalid value: string "Engineering", expected a 64-bit integer or a numeric string"#
            ),
            skipped(
                Some("f"),
                "ipAddresses[1].type",
                "invalid type: integer `7`, expected a string"
            ),
        ]
    );
    assert_eq!(pager.stop_reason(), Some(StopReason::Exhausted));
    assert_eq!(
        pager.stats(),
        PagingStats {
            pages: 3,
            raw_items: 8,
            items: 4,
            duplicates: 0,
            skipped: 4,
        }
    );
    assert_eq!(pager.take_skipped().len(), 4);
    assert!(pager.skipped().is_empty());
    assert_eq!(
        client.metrics().retries,
        0,
        "a skipped item is not a transient failure"
    );
}

#[tokio::test]
async fn skipped_items_carry_the_machine_id_of_alerts() {
    let (client, mock, _) = start(ClientOptions::for_tests()).await;
    mock.script(
        "/api/alerts",
        vec![ok(format!(
            r#"{{"value":[{{"id":"da1","machineId":"{M1}","incidentId":1.126093E6}},
            {{"id":"da2","machineId":"{M1}","incidentId":"1126093"}}]}}"#
        ))],
    );
    let mut pager = client.alerts();
    let alerts = pager.next_page().await.unwrap().unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].incident_id, Some(1_126_093));
    let [skip] = pager.skipped() else {
        panic!("one skipped alert: {:?}", pager.skipped())
    };
    assert_eq!(
        (
            skip.listing.as_str(),
            skip.id.as_deref(),
            skip.machine_id.as_deref()
        ),
        ("alerts", Some("da1"), Some(M1))
    );
    assert_eq!(skip.field, "incidentId");
    assert_eq!(
        skip.reason,
        "invalid type: floating point `1126093.0`, expected a 64-bit integer or a numeric string"
    );
}

#[tokio::test]
async fn pages_of_only_bad_items_without_ids_stop_the_listing_as_partial() {
    let (client, mock, base) = start(ClientOptions::for_tests()).await;
    mock.script(
        "/api/machines",
        vec![ok(format!(
            r#"{{"value":[1,"two",{{"id":3}}],"@odata.nextLink":"{base}/api/machines?$skip=3"}}"#
        ))],
    );
    let mut pager = client.machines();
    assert!(pager.next_page().await.unwrap().is_none());
    let stop = pager.stop_reason().unwrap();
    assert_eq!(stop, StopReason::NoProgress);
    assert!(
        stop.is_guard(),
        "the caller must treat the listing as partial"
    );
    assert_eq!(
        pager
            .skipped()
            .iter()
            .map(|s| s.field.as_str())
            .collect::<Vec<_>>(),
        ["", "", "id"]
    );
    assert!(pager.skipped().iter().all(|s| s.id.is_none()));
    assert_eq!(
        (
            pager.stats().raw_items,
            pager.stats().skipped,
            pager.stats().items
        ),
        (3, 3, 0)
    );
    assert_eq!(mock.hits("/api/machines?$skip=3"), 0);

    // The same undecodable item on ever-new links (the malformed-nextLink loop of §3.4).
    let bad = r#"{"id":"x","incidentId":"24H2"}"#;
    mock.script(
        "/api/alerts",
        vec![ok(format!(
            r#"{{"value":[{bad}],"@odata.nextLink":"{base}/api/alerts?=1"}}"#
        ))],
    );
    mock.script(
        "/api/alerts?=1",
        vec![ok(format!(
            r#"{{"value":[{bad}],"@odata.nextLink":"{base}/api/alerts?=2"}}"#
        ))],
    );
    let mut pager = client.alerts();
    assert!(pager.next_page().await.unwrap().is_none());
    assert_eq!(pager.stop_reason(), Some(StopReason::NoProgress));
    assert_eq!(
        pager.skipped().len(),
        1,
        "a repeated skipped item is named once"
    );
    assert_eq!(pager.skipped()[0].id.as_deref(), Some("x"));
    assert_eq!(
        (
            pager.stats().pages,
            pager.stats().skipped,
            pager.stats().duplicates
        ),
        (2, 1, 1)
    );
    assert_eq!(mock.hits("/api/alerts?=2"), 0);
}

#[tokio::test]
async fn the_pager_holds_a_bounded_number_of_skipped_items() {
    let (client, mock, _) = start(ClientOptions::for_tests()).await;
    let total = MAX_SKIPPED_HELD + 5;
    let items: Vec<String> = (0..total)
        .map(|i| format!(r#"{{"id":"m{i}","lastSeen":"soon"}}"#))
        .collect();
    let body = format!(r#"{{"value":[{},{}]}}"#, items.join(","), machine("ok"));
    mock.script("/api/machines", vec![ok(body)]);
    let mut pager = client.machines();
    let page = pager.next_page().await.unwrap().unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(pager.skipped().len(), MAX_SKIPPED_HELD);
    assert_eq!(pager.skipped()[0].id.as_deref(), Some("m0"));
    assert_eq!(pager.stats().skipped, total);
    assert_eq!(pager.stats().raw_items, total + 1);
}

#[tokio::test]
async fn the_simulators_numeric_ids_are_skipped_and_stop_the_listing_as_partial() {
    let sim = crate::sim::start(
        crate::sim::SimConfig::for_tests(23),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    // The second machines page comes with every `id` a JSON number (§9.15 the other way).
    sim.control().set_faults(crate::sim::Faults {
        scope: Some("machines".into()),
        start_after_calls: 1,
        wrong_types_next: 1,
        ..crate::sim::Faults::default()
    });
    let app = sim.app();
    let settings = DefenderSettings::new(
        &app.tenant_id,
        &app.client_id,
        &app.client_secret,
        Endpoints::custom(sim.base_url(), sim.base_url()).unwrap(),
    );
    let client = DefenderClient::new(settings, ClientOptions::for_tests()).unwrap();
    let mut pager = client.machines();
    let mut handed = 0;
    while let Some(page) = pager.next_page().await.unwrap() {
        handed += page.len();
    }
    assert_eq!(handed, 5, "the first page of five");
    assert_eq!(pager.stop_reason(), Some(StopReason::NoProgress));
    assert_eq!(pager.skipped().len(), 5);
    assert!(pager
        .skipped()
        .iter()
        .all(|s| s.id.is_none() && s.field == "id" && s.listing == "machines"));
    assert_eq!(
        pager.stats(),
        PagingStats {
            pages: 2,
            raw_items: 10,
            items: 5,
            duplicates: 0,
            skipped: 5,
        }
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn page_envelope_rules_are_unchanged() {
    let options = ClientOptions::for_tests();
    let attempts = options.max_retries as usize + 1;
    let (client, mock, _) = start(options).await;
    // JSON of another shape: an error of the page, retried like a cut body.
    let other_shape = ok(r#"{"@odata.context":"c","items":[{"id":"a"}]}"#);
    mock.script("/api/machines", vec![other_shape; attempts]);
    let err = client.machines().next_page().await.unwrap_err();
    assert!(
        matches!(&err, DefenderError::Decode { what, detail } if what == "machines" && detail.contains("missing field `value`")),
        "{err:?}"
    );
    assert_eq!(mock.hits("/api/machines"), attempts);

    // A truncated body: retried, then Decode.
    let truncated = ok(format!(r#"{{"value":[{},{{"id":"b","compu"#, machine("a")));
    mock.script("/api/alerts", vec![truncated; attempts]);
    let err = client.alerts().next_page().await.unwrap_err();
    assert!(matches!(err, DefenderError::Decode { .. }), "{err:?}");
    mock.script(
        "/api/vulnerabilities",
        vec![
            ok(r#"{"value":[{"id":"CVE-1","#),
            ok(r#"{"value":[{"id":"CVE-1"}]}"#),
        ],
    );
    let (ids, stop) = drain(client.vulnerabilities()).await;
    assert_eq!(
        (ids, stop),
        (vec!["CVE-1".to_owned()], Some(StopReason::Exhausted))
    );

    // `null` is an empty last page.
    mock.script("/api/machineactions", vec![ok(r#"{"value":null}"#)]);
    let mut pager = client.machine_actions(None);
    assert!(pager.next_page().await.unwrap().is_none());
    assert_eq!(pager.stop_reason(), Some(StopReason::Exhausted));
    assert_eq!(pager.stats().raw_items, 0);
}

#[tokio::test]
async fn page_cap_stops_paging() {
    let options = ClientOptions {
        page_cap: 3,
        ..ClientOptions::for_tests()
    };
    let (client, mock, base) = start(options).await;
    for i in 0..10 {
        let key = if i == 0 {
            "/api/alerts".to_owned()
        } else {
            format!("/api/alerts?$skip={i}")
        };
        let body = format!(
            r#"{{"value":[{{"id":"a{i}"}}],"@odata.nextLink":"{base}/api/alerts?$skip={}"}}"#,
            i + 1
        );
        mock.script(&key, vec![ok(body)]);
    }
    let (ids, stop) = drain(client.alerts()).await;
    assert_eq!(ids.len(), 3);
    assert_eq!(stop, Some(StopReason::PageCap));
}

#[tokio::test]
async fn machines_collection_404_is_an_empty_inventory() {
    let (client, mock, _) = start(ClientOptions::for_tests()).await;
    let (ids, stop) = drain(client.machines()).await;
    assert!(ids.is_empty());
    assert_eq!(stop, Some(StopReason::EmptyCollection));
    // But a 404 on a single machine is an error, after asking once more (§9.11).
    let err = client.machine(M1).await.unwrap_err();
    assert!(matches!(err, DefenderError::NotFound { .. }), "{err:?}");
    assert_eq!(mock.hits(&format!("/api/machines/{M1}")), 2);
}

#[tokio::test]
async fn a_401_refreshes_the_token_exactly_once() {
    let (client, mock, _) = start(ClientOptions::for_tests()).await;
    let unauthorized = status(
        401,
        r#"{"error":{"code":"Unauthorized","message":"expired"}}"#,
    );
    mock.script(
        &format!("/api/machines/{M1}"),
        vec![unauthorized.clone(), ok(machine(M1))],
    );
    assert_eq!(client.machine(M1).await.unwrap().id, M1);
    let m = client.metrics();
    assert_eq!(
        (m.token_requests, m.token_refreshes_after_401, m.api_calls),
        (2, 1, 2)
    );

    mock.script(
        &format!("/api/machines/{M1}"),
        vec![unauthorized.clone(), unauthorized.clone(), ok(machine(M1))],
    );
    let err = client.machine(M1).await.unwrap_err();
    assert!(matches!(err, DefenderError::Unauthorized), "{err:?}");
    assert_eq!(
        client.metrics().token_requests,
        3,
        "one refresh per call, no more"
    );
}

#[tokio::test]
async fn throttling_honours_retry_after_and_gives_up_eventually() {
    let (client, mock, _) = start(ClientOptions::for_tests()).await;
    let throttled = Canned {
        retry_after: Some("1"),
        ..status(
            429,
            r#"{"error":{"code":"TooManyRequests","message":"API calls quota exceeded! maximum allowed 100 per 00:01:00"}}"#,
        )
    };
    let no_header = status(429, r#"{"error":{"code":"429","message":"quota"}}"#);
    mock.script(
        "/api/Software/a-_-b",
        vec![throttled.clone(), no_header, ok(r#"{"id":"a-_-b"}"#)],
    );
    assert_eq!(client.software("a-_-b").await.unwrap().id, "a-_-b");
    let m = client.metrics();
    assert_eq!(m.throttled_responses, 2);
    assert_eq!(m.retries, 2);
    // Retry-After 1 s is capped at 50 ms in test options; fallback is 10 ms.
    assert!(m.retry_after_wait >= Duration::from_millis(60), "{m:?}");
    assert!(m.throttle_wait() >= m.retry_after_wait);

    mock.script("/api/Software/c-_-d", vec![throttled; 10]);
    let err = client.software("c-_-d").await.unwrap_err();
    assert!(
        matches!(err, DefenderError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(1)),
        "{err:?}"
    );
    assert_eq!(
        mock.hits("/api/Software/c-_-d"),
        7,
        "1 + max_throttle_retries"
    );
}

#[tokio::test]
async fn server_errors_timeouts_and_truncated_bodies_are_retried() {
    let options = ClientOptions {
        request_timeout: Duration::from_millis(150),
        ..ClientOptions::for_tests()
    };
    let (client, mock, _) = start(options).await;
    let boom = status(
        500,
        r#"{"error":{"code":"InternalServerError","message":"boom"}}"#,
    );
    let slow = Canned {
        delay: Duration::from_millis(400),
        ..ok(machine(M1))
    };
    let truncated = ok(r#"{"id":"1111111111111111111111111111111111111111","computerDnsNa"#);
    mock.script(
        &format!("/api/machines/{M1}"),
        vec![boom.clone(), status(503, "unavailable"), ok(machine(M1))],
    );
    assert!(client.machine(M1).await.is_ok());
    assert_eq!(client.metrics().retries, 2);

    mock.script(
        &format!("/api/machines/{M1}"),
        vec![slow.clone(), truncated.clone(), ok(machine(M1))],
    );
    assert!(client.machine(M1).await.is_ok());

    mock.script(&format!("/api/machines/{M1}"), vec![boom; 4]);
    let err = client.machine(M1).await.unwrap_err();
    assert!(
        matches!(err, DefenderError::Rejected { status: 500, .. }),
        "{err:?}"
    );
    mock.script(&format!("/api/machines/{M1}"), vec![slow; 4]);
    assert!(matches!(
        client.machine(M1).await.unwrap_err(),
        DefenderError::Timeout
    ));
    mock.script(&format!("/api/machines/{M1}"), vec![truncated; 4]);
    assert!(matches!(
        client.machine(M1).await.unwrap_err(),
        DefenderError::Decode { .. }
    ));
}

#[tokio::test]
async fn retry_after_on_a_503_is_honoured() {
    let (client, mock, _) = start(ClientOptions::for_tests()).await;
    let busy = Canned {
        retry_after: Some("1"),
        ..status(503, "busy")
    };
    mock.script(&format!("/api/machines/{M1}"), vec![busy, ok(machine(M1))]);
    let started = std::time::Instant::now();
    client.machine(M1).await.unwrap();
    // Retry-After (1 s) capped at 50 ms in test options, above the 5 ms first backoff.
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert_eq!(client.metrics().retries, 1);
}

#[tokio::test]
async fn api_errors_map_to_defender_errors() {
    let (client, mock, _) = start(ClientOptions::for_tests()).await;
    mock.script(
        "/api/alerts",
        vec![status(403, r#"{"error":{"code":"Forbidden","message":"Missing application roles. API required roles: Alert.Read.All,Alert.ReadWrite.All, application roles: Machine.Read.All,Machine.Isolate.","target":"t"}}"#)],
    );
    let err = client.alerts().next_page().await.unwrap_err();
    assert_eq!(
        err.missing_permissions(),
        ["Alert.Read.All", "Alert.ReadWrite.All"]
    );
    mock.script(
        &format!("/api/machines/{M1}/isolate"),
        vec![status(400, r#"{"error":{"code":"ActiveRequestAlreadyExists","message":"Action is already in progress","target":"t"}}"#)],
    );
    let err = client
        .isolate(M1, "c", IsolationType::Full)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DefenderError::AlreadyPending { .. }),
        "{err:?}"
    );
    assert_eq!(client.metrics().retries, 0, "4xx are not retried");
    assert!(client
        .isolate("eng-ws-17", "c", IsolationType::Full)
        .await
        .is_err());
}

#[tokio::test]
async fn actions_send_pascal_case_bodies() {
    let (client, mock, _) = start(ClientOptions::for_tests()).await;
    let action = |t: &str| {
        status(
            201,
            format!(
                r#"{{"id":"act-{t}","type":"{t}","status":"Pending","machineId":"{M1}","lastUpdateTimeUtc":"2026-01-04T10:20:01Z"}}"#
            ),
        )
    };
    mock.script(
        &format!("/api/machines/{M1}/isolate"),
        vec![action("Isolate")],
    );
    mock.script(
        &format!("/api/machines/{M1}/unisolate"),
        vec![action("Unisolate")],
    );
    mock.script(
        &format!("/api/machines/{M1}/runAntiVirusScan"),
        vec![action("RunAntiVirusScan")],
    );
    mock.script(
        "/api/machineactions/act-Isolate/cancel",
        vec![ok(r#"{"id":"act-Isolate","status":"Cancelled"}"#)],
    );
    mock.script(
        "/api/advancedqueries/run",
        vec![ok(
            r#"{"Schema":[{"Name":"N","Type":"Int64"}],"Results":[{"N":1}]}"#,
        )],
    );
    let a = client
        .isolate(M1, "why", IsolationType::Selective)
        .await
        .unwrap();
    assert_eq!(a.action_type, Some(model::MachineActionType::Isolate));
    client.release_from_isolation(M1, "done").await.unwrap();
    client
        .run_antivirus_scan(M1, "scan", ScanType::Full)
        .await
        .unwrap();
    assert!(client
        .cancel_machine_action("act-Isolate", "stop")
        .await
        .unwrap()
        .is_terminal());
    assert_eq!(
        client
            .advanced_hunting("DeviceInfo | count")
            .await
            .unwrap()
            .results
            .len(),
        1
    );
    let bodies = mock.bodies.lock().unwrap().clone();
    assert_eq!(
        bodies,
        [
            r#"{"Comment":"why","IsolationType":"Selective"}"#,
            r#"{"Comment":"done"}"#,
            r#"{"Comment":"scan","ScanType":"Full"}"#,
            r#"{"Comment":"stop"}"#,
            r#"{"Query":"DeviceInfo | count"}"#,
        ]
    );
}

#[tokio::test]
async fn token_errors_roles_and_secret_hygiene() {
    let (client, mock, _) = start(ClientOptions::for_tests()).await;
    assert_eq!(
        client.granted_roles().await.unwrap(),
        ["Machine.Read.All", "Machine.Isolate"]
    );
    let access = client.feature_access().await.unwrap();
    assert!(access
        .iter()
        .any(|a| a.feature == Feature::IsolateRelease && a.granted));
    assert!(access
        .iter()
        .any(|a| a.feature == Feature::Alerts && !a.granted));

    let (client, mock2, _) = start(ClientOptions::for_tests()).await;
    drop(mock);
    mock2.token_script.lock().unwrap().push_back(status(
        401,
        r#"{"error":"invalid_client","error_description":"AADSTS7000222: expired","error_codes":[7000222]}"#,
    ));
    let err = client.machine(M1).await.unwrap_err();
    assert!(
        matches!(
            err,
            DefenderError::TokenRejected {
                kind: AadError::ExpiredSecret,
                ..
            }
        ),
        "{err:?}"
    );
    let shown = format!("{err} {err:?} {client:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(
        !shown.contains("eyJ0eXAiOiJKV1QifQ"),
        "token leaked: {shown}"
    );
}

#[tokio::test]
async fn budget_is_shared_across_clones() {
    let budget = BudgetLimits::unlimited().with(
        Family::Software,
        vec![Window {
            max_calls: 2,
            period: Duration::from_millis(150),
        }],
    );
    let (client, mock, _) = start(ClientOptions {
        budget,
        ..ClientOptions::for_tests()
    })
    .await;
    mock.script("/api/Software/s", vec![ok(r#"{"id":"s"}"#); 3]);
    let clone = client.clone();
    let started = std::time::Instant::now();
    client.software("s").await.unwrap();
    clone.software("s").await.unwrap();
    client.software("s").await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert!(
        client.metrics().budget_wait > Duration::ZERO,
        "{:?}",
        client.metrics()
    );
}
