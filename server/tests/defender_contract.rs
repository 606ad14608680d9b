//! Contract tests: the Defender client against the in-process simulator (`server::sim`), every
//! call, every fault the simulator offers, the AADSTS errors, roles and the action lifecycle.

use std::time::{Duration, Instant};

use server::defender::model::{MachineActionStatus, MachineActionType};
use server::defender::{
    AadError, ClientOptions, DefenderClient, DefenderError, DefenderSettings, Endpoints, Feature,
    IsolationType, Pager, ScanType, StopReason,
};
use server::sim::{self, Faults, ForcedOutcome, RunningSim, SimConfig};

const MACHINES: usize = 23;

async fn start_sim(machines: usize) -> RunningSim {
    sim::start(
        SimConfig::for_tests(machines),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .expect("simulator starts")
}

fn endpoints(sim: &RunningSim) -> Endpoints {
    Endpoints::custom(sim.base_url(), sim.base_url()).unwrap()
}

fn client_with(
    sim: &RunningSim,
    tenant: &str,
    client_id: &str,
    secret: &str,
    options: ClientOptions,
) -> DefenderClient {
    let settings = DefenderSettings::new(tenant, client_id, secret, endpoints(sim));
    DefenderClient::new(settings, options).unwrap()
}

fn client(sim: &RunningSim) -> DefenderClient {
    client_opts(sim, ClientOptions::for_tests())
}

fn client_opts(sim: &RunningSim, options: ClientOptions) -> DefenderClient {
    let app = sim.app();
    client_with(
        sim,
        &app.tenant_id,
        &app.client_id,
        &app.client_secret,
        options,
    )
}

async fn setup() -> (RunningSim, DefenderClient) {
    let sim = start_sim(MACHINES).await;
    let client = client(&sim);
    (sim, client)
}

fn faults(f: impl FnOnce(&mut Faults)) -> Faults {
    let mut all = Faults::default();
    f(&mut all);
    all
}

/// Drains a pager; returns the ids and why it stopped.
async fn drain<T>(mut pager: Pager<T>) -> Result<(Vec<String>, StopReason, usize), DefenderError>
where
    T: serde::de::DeserializeOwned + server::defender::model::Identified,
{
    let mut ids = Vec::new();
    let started = Instant::now();
    while let Some(page) = pager.next_page().await? {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "paging must terminate"
        );
        ids.extend(page.iter().map(|i| i.id().to_owned()));
    }
    let dupes = pager.stats().duplicates;
    Ok((ids, pager.stop_reason().expect("stopped"), dupes))
}

fn unique(ids: &[String]) -> bool {
    let set: std::collections::HashSet<&String> = ids.iter().collect();
    set.len() == ids.len()
}

// ---------------------------------------------------------------------------------------
// Every call
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn lists_every_collection_to_the_end() {
    let (sim, client) = setup().await;
    let ctl = sim.control();

    let (ids, stop, _) = drain(client.machines()).await.unwrap();
    assert_eq!(stop, StopReason::Exhausted);
    assert_eq!(ids, ctl.machine_ids(), "every machine, in order, once");

    let (alerts, stop, _) = drain(client.alerts()).await.unwrap();
    assert_eq!(
        (alerts.len(), stop),
        (ctl.alert_count(), StopReason::Exhausted)
    );
    assert!(unique(&alerts));

    let (vulns, stop, _) = drain(client.vulnerabilities()).await.unwrap();
    assert_eq!(
        (vulns.len(), stop),
        (ctl.vulnerability_count(), StopReason::Exhausted)
    );

    let mut rows = client.machines_vulnerabilities();
    let mut count = 0;
    let mut first_row = None;
    while let Some(page) = rows.next_page().await.unwrap() {
        assert!(page.len() <= 5, "server page size is 5");
        count += page.len();
        first_row = first_row.or_else(|| page.into_iter().next());
    }
    assert_eq!(count, ctl.machine_vulnerability_count());

    let row = first_row.expect("the generator creates vulnerable machines");
    let machine_id = row.machine_id.clone().unwrap();
    let per_machine = client
        .machine_vulnerabilities(&machine_id)
        .unwrap()
        .collect_all()
        .await;
    let per_machine = per_machine.unwrap();
    assert!(per_machine
        .iter()
        .any(|v| Some(&v.id) == row.cve_id.as_ref()));

    let software_id = format!(
        "{}-_-{}",
        row.product_vendor.as_deref().unwrap(),
        row.product_name.as_deref().unwrap()
    )
    .to_lowercase();
    let software = client.software(&software_id).await.unwrap();
    assert_eq!(software.id, software_id);
    let (refs, _, _) = drain(client.software_machines(&software_id)).await.unwrap();
    assert!(refs.contains(&machine_id));

    let machine = client.machine(&machine_id).await.unwrap();
    assert_eq!(machine.id, machine_id);

    let (actions, stop, _) = drain(client.machine_actions(None)).await.unwrap();
    assert!(actions.is_empty());
    assert_eq!(stop, StopReason::Exhausted);

    let m = client.metrics();
    assert_eq!(m.token_requests, 1, "one token for the whole run");
    assert!(m.api_calls >= 15);
}

#[tokio::test]
async fn discovered_devices_decode_with_null_os_fields() {
    let sim = start_sim(60).await;
    let client = client(&sim);
    let all = client.machines().collect_all().await.unwrap();
    assert_eq!(all.len(), 60);
    let discovered: Vec<_> = all.iter().filter(|m| !m.is_onboarded()).collect();
    assert!(
        !discovered.is_empty(),
        "the simulator generates discovered devices"
    );
    assert!(discovered.iter().any(|m| m.os_platform.is_none()));
    assert!(all.iter().all(|m| server::defender::is_machine_id(&m.id)));
    assert!(all.iter().any(|m| !m.mac_addresses().is_empty()));
}

#[tokio::test]
async fn filters_are_sent_as_odata() {
    let (sim, client) = setup().await;
    let onboarded = client
        .machines_filtered(Some("onboardingStatus eq 'Onboarded'"))
        .collect_all()
        .await;
    let onboarded = onboarded.unwrap();
    let expected = sim
        .control()
        .machines()
        .iter()
        .filter(|m| m.onboarding_status == "Onboarded")
        .count();
    assert_eq!(onboarded.len(), expected);
    let err = client
        .machines_filtered(Some("nosuchfield eq 1"))
        .next_page()
        .await
        .unwrap_err();
    assert!(
        matches!(err, DefenderError::Rejected { status: 400, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn empty_tenant_machines_404_is_an_empty_inventory() {
    let sim = start_sim(0).await;
    let client = client(&sim);
    let (ids, stop, _) = drain(client.machines()).await.unwrap();
    assert!(ids.is_empty());
    assert_eq!(stop, StopReason::EmptyCollection);
    assert!(!stop.is_guard());
}

#[tokio::test]
async fn unknown_single_entities_are_not_found() {
    let (_sim, client) = setup().await;
    let err = client.machine(&"ab".repeat(20)).await.unwrap_err();
    assert!(matches!(err, DefenderError::NotFound { .. }), "{err:?}");
    let err = client
        .machine_action("00000000-0000-0000-0000-000000000000")
        .await
        .unwrap_err();
    assert!(matches!(err, DefenderError::NotFound { .. }), "{err:?}");
    let err = client.software("nobody-_-nothing").await.unwrap_err();
    assert!(matches!(err, DefenderError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn spurious_machine_404_is_asked_again() {
    let (sim, client) = setup().await;
    let id = sim.control().machine_ids()[0].clone();
    sim.control()
        .set_faults(faults(|f| f.spurious_not_found_next = 1));
    assert_eq!(client.machine(&id).await.unwrap().id, id);
}

#[tokio::test]
async fn advanced_hunting_and_its_faults() {
    let (sim, client) = setup().await;
    let r = client
        .advanced_hunting("DeviceInfo | take 3")
        .await
        .unwrap();
    assert!(!r.schema.is_empty());
    assert!(!r.results.is_empty() && r.results.len() <= 3);

    let err = client
        .advanced_hunting("NoSuchTable | take 1")
        .await
        .unwrap_err();
    assert!(
        matches!(err, DefenderError::Rejected { status: 400, .. }),
        "{err:?}"
    );

    sim.control()
        .set_faults(faults(|f| f.hunting_result_too_large = true));
    let err = client.advanced_hunting("DeviceInfo").await.unwrap_err();
    assert!(err.to_string().contains("allowed result size"), "{err}");

    sim.control()
        .set_faults(faults(|f| f.hunting_cpu_quota_next = 1));
    client
        .advanced_hunting("DeviceInfo | take 1")
        .await
        .unwrap();
    assert!(client.metrics().throttled_responses >= 1);
}

// ---------------------------------------------------------------------------------------
// Throttling, server errors, timeouts, bad bodies
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn throttle_storm_with_retry_after_is_waited_out() {
    let (sim, client) = setup().await;
    sim.control().set_faults(faults(|f| {
        f.throttle_next = 3;
        f.throttle_retry_after_secs = Some(1);
    }));
    let (ids, stop, _) = drain(client.machines()).await.unwrap();
    assert_eq!((ids.len(), stop), (MACHINES, StopReason::Exhausted));
    let m = client.metrics();
    assert_eq!(m.throttled_responses, 3);
    assert!(m.retries >= 3);
    assert!(m.retry_after_wait > Duration::ZERO, "{m:?}");
    assert!(m.throttle_wait() >= m.retry_after_wait);
}

#[tokio::test]
async fn throttle_storm_without_retry_after_uses_the_fallback() {
    let (sim, client) = setup().await;
    sim.control().set_faults(faults(|f| {
        f.throttle_next = 2;
        f.throttle_retry_after_secs = None;
    }));
    assert_eq!(
        client.alerts().collect_all().await.unwrap().len(),
        sim.control().alert_count()
    );
    assert_eq!(client.metrics().throttled_responses, 2);
}

#[tokio::test]
async fn endless_throttling_ends_as_rate_limited() {
    let (sim, client) = setup().await;
    sim.control().set_faults(faults(|f| {
        f.throttle_next = 50;
        f.throttle_retry_after_secs = Some(7);
    }));
    let err = client.machines().next_page().await.unwrap_err();
    assert!(
        matches!(err, DefenderError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(7)),
        "{err:?}"
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn client_budget_spaces_calls_before_the_server_throttles() {
    // A client-side window of 3 calls per 300 ms makes the fourth call wait for the window,
    // and the simulator never has to answer 429.
    let sim = start_sim(6).await;
    let budget = server::defender::BudgetLimits::unlimited().with(
        server::defender::Family::Machines,
        vec![server::defender::Window {
            max_calls: 3,
            period: Duration::from_millis(300),
        }],
    );
    let client = client_opts(
        &sim,
        ClientOptions {
            budget,
            ..ClientOptions::for_tests()
        },
    );
    let id = sim.control().machine_ids()[0].clone();
    let started = Instant::now();
    for _ in 0..4 {
        client.machine(&id).await.unwrap();
    }
    assert!(started.elapsed() >= Duration::from_millis(250));
    let m = client.metrics();
    assert!(m.budget_wait > Duration::ZERO);
    assert_eq!(m.throttled_responses, 0);
}

#[tokio::test]
async fn server_error_burst_is_retried_with_backoff() {
    let (sim, client) = setup().await;
    sim.control().set_faults(faults(|f| {
        f.server_error_next = 2;
        f.server_error_status = 503;
    }));
    let (ids, _, _) = drain(client.machines()).await.unwrap();
    assert_eq!(ids.len(), MACHINES);
    assert!(client.metrics().retries >= 2);

    sim.control()
        .set_faults(faults(|f| f.server_error_next = 50));
    let err = client.alerts().next_page().await.unwrap_err();
    assert!(
        matches!(err, DefenderError::Rejected { status: 500, .. }),
        "{err:?}"
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn slow_responses_past_the_timeout_become_timeout() {
    let sim = start_sim(MACHINES).await;
    let options = ClientOptions {
        request_timeout: Duration::from_millis(200),
        ..ClientOptions::for_tests()
    };
    let client = client_opts(&sim, options);
    client.granted_roles().await.unwrap();
    sim.control().set_faults(faults(|f| f.delay_ms = 600));
    let started = Instant::now();
    let err = client.machines().next_page().await.unwrap_err();
    assert!(matches!(err, DefenderError::Timeout), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        client.metrics().retries,
        3,
        "max_retries attempts after the first"
    );

    sim.control().set_faults(Faults::default());
    assert!(client.machines().next_page().await.unwrap().is_some());
}

#[tokio::test]
async fn truncated_json_is_retried_then_reported_as_decode() {
    let (sim, client) = setup().await;
    sim.control().set_faults(faults(|f| f.truncate_next = 2));
    let (ids, _, _) = drain(client.machines()).await.unwrap();
    assert_eq!(ids.len(), MACHINES);
    assert!(client.metrics().retries >= 2);

    sim.control().set_faults(faults(|f| f.truncate_next = 50));
    let err = client.alerts().next_page().await.unwrap_err();
    assert!(matches!(err, DefenderError::Decode { .. }), "{err:?}");
}

#[tokio::test]
async fn wrong_shape_pages_are_retried_then_reported_as_decode_never_an_early_end() {
    let (sim, client) = setup().await;
    // Without its `value` array (and nextLink), the second page must not end the listing.
    sim.control().set_faults(faults(|f| {
        f.start_after_calls = 1;
        f.wrong_shape_next = 1;
    }));
    let (ids, stop, _) = drain(client.machines()).await.unwrap();
    assert_eq!((ids.len(), stop), (MACHINES, StopReason::Exhausted));
    assert!(client.metrics().retries >= 1);

    sim.control().set_faults(faults(|f| {
        f.start_after_calls = 1;
        f.wrong_shape_next = 50;
    }));
    let mut pager = client.machines();
    assert!(pager.next_page().await.unwrap().is_some());
    let err = pager.next_page().await.unwrap_err();
    assert!(
        matches!(&err, DefenderError::Decode { detail, .. } if detail.contains("value")),
        "{err:?}"
    );
}

#[tokio::test]
async fn wrong_type_items_are_skipped_and_named_and_stop_the_listing_as_partial() {
    let (sim, client) = setup().await;
    sim.control()
        .set_faults(faults(|f| f.wrong_types_next = 50));
    let mut pager = client.alerts();
    assert!(pager.next_page().await.unwrap().is_none());
    assert_eq!(pager.stop_reason(), Some(StopReason::NoProgress));
    let skipped = pager.skipped();
    assert_eq!(skipped.len(), 5, "the first page, whole: {skipped:?}");
    for item in skipped {
        assert_eq!(
            (item.id.as_deref(), item.field.as_str()),
            (None, "id"),
            "{item:?}"
        );
        assert_eq!(item.listing, "alerts");
    }
}

// ---------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn token_expiry_mid_paging_refreshes_once_and_retries() {
    let (sim, client) = setup().await;
    sim.control()
        .set_faults(faults(|f| f.expire_tokens_after_pages = Some(2)));
    let (ids, stop, _) = drain(client.machines()).await.unwrap();
    assert_eq!((ids.len(), stop), (MACHINES, StopReason::Exhausted));
    let m = client.metrics();
    assert_eq!(m.token_refreshes_after_401, 1);
    assert_eq!(m.token_requests, 2);
    assert_eq!(sim.control().tokens_issued(), 2);
}

#[tokio::test]
async fn revoked_tokens_refresh_once_per_call() {
    let (sim, client) = setup().await;
    client.machines().next_page().await.unwrap();
    sim.control().expire_issued_tokens();
    client.alerts().next_page().await.unwrap();
    let m = client.metrics();
    assert_eq!((m.token_requests, m.token_refreshes_after_401), (2, 1));
}

#[tokio::test]
async fn short_lived_tokens_are_refreshed_before_expiry() {
    let mut config = SimConfig::for_tests(8);
    config.token_lifetime = Duration::from_secs(1);
    let sim = sim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let client = client(&sim);
    client.machines().next_page().await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    client.machines().next_page().await.unwrap();
    let m = client.metrics();
    assert_eq!(m.token_requests, 2, "refreshed at half-life");
    assert_eq!(
        m.token_refreshes_after_401, 0,
        "never sent an expired token"
    );
}

#[tokio::test]
async fn aadsts_errors_are_classified() {
    let sim = start_sim(4).await;
    let app = sim.app().clone();
    let opts = ClientOptions::for_tests;
    let cases: Vec<(&str, DefenderClient, AadError)> = vec![
        (
            "wrong secret",
            client_with(
                &sim,
                &app.tenant_id,
                &app.client_id,
                "the-secret-ID-not-value",
                opts(),
            ),
            AadError::WrongSecret,
        ),
        (
            "missing secret",
            client_with(&sim, &app.tenant_id, &app.client_id, "", opts()),
            AadError::MissingSecret,
        ),
        (
            "unknown app",
            client_with(
                &sim,
                &app.tenant_id,
                "11111111-2222-3333-4444-555555555555",
                "x",
                opts(),
            ),
            AadError::UnknownApplication,
        ),
        (
            "unknown tenant",
            client_with(
                &sim,
                "99999999-9999-4999-8999-999999999999",
                &app.client_id,
                "x",
                opts(),
            ),
            AadError::UnknownTenant,
        ),
        (
            "malformed tenant",
            client_with(&sim, "not a tenant", &app.client_id, "x", opts()),
            AadError::MalformedTenant,
        ),
    ];
    for (name, client, want) in cases {
        let err = client.machines().next_page().await.unwrap_err();
        match &err {
            DefenderError::TokenRejected { kind, .. } => assert_eq!(kind, &want, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
        let shown = format!("{err} {err:?} {client:?}");
        assert!(!shown.contains(&app.client_secret), "{name}: secret leaked");
    }

    let wrong = client_with(&sim, &app.tenant_id, &app.client_id, "wrong", opts());
    let err = wrong.machines().next_page().await.unwrap_err();
    assert!(err.to_string().contains("secret ID was pasted"), "{err}");

    // MDE not provisioned / audience typo: the resource principal is unknown (AADSTS500011).
    let mut e = endpoints(&sim);
    e.audience = "https://api.securitycenter.contoso.invalid".into();
    let settings = DefenderSettings::new(&app.tenant_id, &app.client_id, &app.client_secret, e);
    let c = DefenderClient::new(settings, opts()).unwrap();
    let err = c.machines().next_page().await.unwrap_err();
    assert!(
        matches!(
            err,
            DefenderError::TokenRejected {
                kind: AadError::NotProvisioned,
                ..
            }
        ),
        "{err:?}"
    );

    // Expired secret.
    sim.control().expire_secret(&app.client_id);
    let c = client(&sim);
    let err = c.machines().next_page().await.unwrap_err();
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
    assert!(!format!("{err:?}").contains(&app.client_secret));
}

#[tokio::test]
async fn revoked_secret_is_a_wrong_secret() {
    let (sim, _) = setup().await;
    sim.control().revoke_secret(&sim.app().client_id);
    let err = client(&sim).alerts().next_page().await.unwrap_err();
    assert!(
        matches!(
            err,
            DefenderError::TokenRejected {
                kind: AadError::WrongSecret,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn wrong_audience_token_is_refused_by_the_api() {
    let sim = start_sim(4).await;
    let app = sim.app().clone();
    let mut e = endpoints(&sim);
    e.audience = "https://graph.microsoft.com".into();
    let settings = DefenderSettings::new(&app.tenant_id, &app.client_id, &app.client_secret, e);
    let client = DefenderClient::new(settings, ClientOptions::for_tests()).unwrap();
    let err = client.machines().next_page().await.unwrap_err();
    let DefenderError::Forbidden {
        required, message, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(required.is_empty(), "not a missing-role 403");
    assert!(message.contains("audience"), "{message}");
}

#[tokio::test]
async fn clones_share_one_token() {
    let (sim, client) = setup().await;
    let id = sim.control().machine_ids()[0].clone();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (c, id) = (client.clone(), id.clone());
            tokio::spawn(async move { c.machine(&id).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let m = client.metrics();
    assert_eq!(
        (m.token_requests, m.api_calls),
        (1, 8),
        "one token fetched for eight callers"
    );
    assert_eq!(sim.control().tokens_issued(), 1);
}

// ---------------------------------------------------------------------------------------
// Roles and 403
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn full_roles_grant_every_product_feature_but_cancel_extras() {
    let (_sim, client) = setup().await;
    let roles = client.granted_roles().await.unwrap();
    assert!(roles.iter().any(|r| r == "Machine.Read.All"));
    let access = client.feature_access().await.unwrap();
    assert!(access.iter().all(|a| a.granted), "{access:?}");
}

#[tokio::test]
async fn partial_roles_are_reported_and_403_names_the_missing_permission() {
    let (sim, _) = setup().await;
    let app = sim.app().clone();
    sim.control()
        .set_roles(&app.client_id, Some(vec!["Machine.Isolate".into()]));
    let client = client(&sim);
    assert_eq!(client.granted_roles().await.unwrap(), ["Machine.Isolate"]);
    let access = client.feature_access().await.unwrap();
    let granted = |f: Feature| access.iter().find(|a| a.feature == f).unwrap().granted;
    assert!(granted(Feature::IsolateRelease));
    assert!(
        !granted(Feature::Inventory),
        "an action role does not imply read"
    );

    let err = client.machines().next_page().await.unwrap_err();
    let DefenderError::Forbidden {
        required, granted, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(
        required.iter().any(|r| r == "Machine.Read.All"),
        "{required:?}"
    );
    assert_eq!(granted, &["Machine.Isolate"]);
    assert!(err.to_string().contains("Machine.Read.All"), "{err}");
    assert_eq!(client.metrics().retries, 0, "403 is not retried");
}

#[tokio::test]
async fn no_consent_means_no_roles_and_403s() {
    let (sim, _) = setup().await;
    sim.control().set_roles(&sim.app().client_id, None);
    let client = client(&sim);
    assert!(client.granted_roles().await.unwrap().is_empty());
    assert!(client
        .feature_access()
        .await
        .unwrap()
        .iter()
        .all(|a| !a.granted));
    let err = client.alerts().next_page().await.unwrap_err();
    assert!(
        err.missing_permissions()
            .iter()
            .any(|p| p == "Alert.Read.All"),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Paging faults
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn next_link_loop_is_stopped() {
    let (sim, client) = setup().await;
    sim.control()
        .set_faults(faults(|f| f.next_link_loop = true));
    let (ids, stop, _) = drain(client.machines()).await.unwrap();
    assert!(stop.is_guard(), "{stop:?}");
    assert_eq!(ids.len(), 5, "the first page, once");
    assert!(client.metrics().api_calls <= 3);
}

#[tokio::test]
async fn malformed_next_link_is_stopped() {
    let (sim, client) = setup().await;
    sim.control()
        .set_faults(faults(|f| f.malformed_next_link = true));
    let (ids, stop, _) = drain(client.machines_filtered(Some("healthStatus ne 'Unknown'")))
        .await
        .unwrap();
    assert!(stop.is_guard(), "{stop:?}");
    assert!(unique(&ids));
    assert!(client.metrics().api_calls < 20);
}

#[tokio::test]
async fn short_pages_are_followed_to_the_end() {
    let (sim, client) = setup().await;
    sim.control().set_faults(faults(|f| f.short_pages = true));
    let mut pager = client.machines();
    let mut ids = Vec::new();
    while let Some(page) = pager.next_page().await.unwrap() {
        ids.extend(page.into_iter().map(|m| m.id));
    }
    assert_eq!(ids, sim.control().machine_ids());
    assert!(pager.stats().pages > MACHINES.div_ceil(5));
}

#[tokio::test]
async fn empty_page_mid_paging_stops_with_a_warning() {
    let (sim, client) = setup().await;
    sim.control()
        .set_faults(faults(|f| f.empty_page_at = Some(2)));
    let (ids, stop, _) = drain(client.machines()).await.unwrap();
    assert_eq!(stop, StopReason::EmptyPageWithLink);
    assert_eq!(ids.len(), 10, "the two pages before the empty one");
    assert!(stop.is_guard(), "callers learn the listing is partial");
}

#[tokio::test]
async fn unstable_paging_is_deduplicated() {
    let (sim, client) = setup().await;
    sim.control()
        .set_faults(faults(|f| f.unstable_paging = true));
    let (ids, stop, dupes) = drain(client.machines()).await.unwrap();
    assert_eq!(stop, StopReason::Exhausted);
    assert!(unique(&ids));
    assert!(dupes > 0);
    let mut want = sim.control().machine_ids();
    let mut got = ids;
    want.sort();
    got.sort();
    assert_eq!(got, want);
}

// ---------------------------------------------------------------------------------------
// Machine actions
// ---------------------------------------------------------------------------------------

fn action_target(sim: &RunningSim) -> String {
    sim.control()
        .find_machine(|m| {
            m.onboarding_status == "Onboarded"
                && m.health_status == "Active"
                && !m.is_potential_duplication
                && m.os_platform
                    .as_deref()
                    .is_some_and(|p| p.starts_with("Windows1"))
        })
        .expect("an onboarded, active Windows client")
        .id
}

async fn until_terminal(client: &DefenderClient, id: &str) -> MachineActionStatus {
    let started = Instant::now();
    loop {
        let a = client.machine_action(id).await.unwrap();
        if a.is_terminal() {
            return a.status.unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "action {id} never ended"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn isolate_release_and_scan_reach_terminal_states() {
    let (sim, client) = setup().await;
    let ctl = sim.control();
    let id = action_target(&sim);

    let a = client
        .isolate(&id, "contract test: isolate", IsolationType::Full)
        .await
        .unwrap();
    assert_eq!(a.action_type, Some(MachineActionType::Isolate));
    assert_eq!(a.status, Some(MachineActionStatus::Pending));
    assert_eq!(a.machine_id.as_deref(), Some(id.as_str()));

    let dup = client
        .isolate(&id, "again", IsolationType::Full)
        .await
        .unwrap_err();
    assert!(
        matches!(dup, DefenderError::AlreadyPending { .. }),
        "{dup:?}"
    );
    // §10: look the pending action up instead of failing.
    let open = client
        .open_action(&id, MachineActionType::Isolate)
        .await
        .unwrap();
    assert_eq!(open.map(|o| o.id), Some(a.id.clone()));
    let none = client
        .open_action(&id, MachineActionType::Unisolate)
        .await
        .unwrap();
    assert!(none.is_none());

    assert_eq!(
        until_terminal(&client, &a.id).await,
        MachineActionStatus::Succeeded
    );
    assert_eq!(ctl.is_isolated(&id), Some(true));

    let r = client
        .release_from_isolation(&id, "contract test: release")
        .await
        .unwrap();
    assert_eq!(r.action_type, Some(MachineActionType::Unisolate));
    assert_eq!(
        until_terminal(&client, &r.id).await,
        MachineActionStatus::Succeeded
    );
    assert_eq!(ctl.is_isolated(&id), Some(false));

    let s = client
        .run_antivirus_scan(&id, "contract test: scan", ScanType::Quick)
        .await
        .unwrap();
    assert_eq!(s.action_type, Some(MachineActionType::RunAntiVirusScan));
    assert_eq!(
        until_terminal(&client, &s.id).await,
        MachineActionStatus::Succeeded
    );

    let filter = format!("machineId eq '{id}'");
    let listed = client
        .machine_actions(Some(&filter))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed
        .iter()
        .all(|a| a.is_terminal() && a.last_update_date_time_utc.is_some()));
}

#[tokio::test]
async fn actions_can_fail_time_out_or_be_cancelled() {
    let (sim, client) = setup().await;
    let id = action_target(&sim);
    let ctl = sim.control();

    ctl.set_faults(faults(|f| f.action_outcome = Some(ForcedOutcome::Failed)));
    let a = client
        .run_antivirus_scan(&id, "fail", ScanType::Full)
        .await
        .unwrap();
    assert_eq!(
        until_terminal(&client, &a.id).await,
        MachineActionStatus::Failed
    );

    ctl.set_faults(faults(|f| f.action_outcome = Some(ForcedOutcome::TimeOut)));
    let a = client
        .run_antivirus_scan(&id, "timeout", ScanType::Quick)
        .await
        .unwrap();
    assert_eq!(
        until_terminal(&client, &a.id).await,
        MachineActionStatus::TimeOut
    );

    ctl.set_faults(faults(|f| {
        f.action_outcome = Some(ForcedOutcome::NeverTerminal)
    }));
    let a = client
        .isolate(&id, "cancel me", IsolationType::Full)
        .await
        .unwrap();
    let c = client
        .cancel_machine_action(&a.id, "contract test: cancel")
        .await
        .unwrap();
    assert_eq!(c.status, Some(MachineActionStatus::Cancelled));
    assert_eq!(
        until_terminal(&client, &a.id).await,
        MachineActionStatus::Cancelled
    );
    let err = client
        .cancel_machine_action(&a.id, "again")
        .await
        .unwrap_err();
    assert!(
        matches!(err, DefenderError::Rejected { status: 400, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn duplicate_action_may_return_the_pending_one() {
    let (sim, client) = setup().await;
    let id = action_target(&sim);
    sim.control().set_faults(faults(|f| {
        f.duplicate_action_returns_existing = true;
        f.action_outcome = Some(ForcedOutcome::NeverTerminal);
    }));
    let first = client
        .isolate(&id, "one", IsolationType::Full)
        .await
        .unwrap();
    let second = client
        .isolate(&id, "two", IsolationType::Full)
        .await
        .unwrap();
    assert_eq!(first.id, second.id);
}

#[tokio::test]
async fn platform_and_onboarding_rejections_are_typed() {
    let (sim, client) = setup().await;
    let discovered = sim
        .control()
        .find_machine(|m| m.onboarding_status != "Onboarded");
    if let Some(m) = discovered {
        let err = client
            .isolate(&m.id, "nope", IsolationType::Full)
            .await
            .unwrap_err();
        assert!(
            matches!(err, DefenderError::Rejected { status: 400, ref code, .. } if code == "OsPlatformNotSupported"),
            "{err:?}"
        );
    }
    let err = client
        .isolate("eng-ws-17", "by name", IsolationType::Full)
        .await
        .unwrap_err();
    assert!(matches!(err, DefenderError::InvalidArgument { .. }));
}

#[tokio::test]
async fn portal_links_use_the_machine_id() {
    let (sim, client) = setup().await;
    let id = sim.control().machine_ids()[0].clone();
    let link = client.portal_links().device_overview(&id).unwrap();
    assert_eq!(
        link.as_str(),
        format!(
            "https://security.microsoft.com/machines/v2/{id}/overview?tid={}",
            sim.app().tenant_id
        )
    );
}

/// A machine action is never resent by the client: after a 5xx (which a proxy may answer after
/// passing the request on) the call ends as `Unconfirmed` after one attempt, while a read is
/// retried as before (§9.22).
#[tokio::test]
async fn a_machine_action_is_sent_once_whatever_the_answer() {
    let (sim, client) = setup().await;
    let id = sim.control().machine(0).unwrap().id;
    sim.control()
        .set_faults(faults(|f| f.server_error_next = 1));
    let before = client.metrics().api_calls;
    let err = client
        .run_antivirus_scan(&id, "contract test: scan", ScanType::Quick)
        .await
        .unwrap_err();
    assert!(matches!(err, DefenderError::Unconfirmed { .. }), "{err:?}");
    assert!(err
        .to_string()
        .contains("may have received the runAntiVirusScan request"));
    assert_eq!(client.metrics().api_calls - before, 1, "one attempt only");
    sim.control()
        .set_faults(faults(|f| f.server_error_next = 1));
    let before = client.metrics().api_calls;
    client.machine(&id).await.unwrap();
    assert_eq!(client.metrics().api_calls - before, 2, "a read is retried");
}
