//! OData envelope, headers, paging with and without `$top`, `$filter`, `$count`, 404s.

#[path = "support/sim.rs"]
mod support;

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::Value;
use server::sim::SimConfig;
use support::*;

#[tokio::test]
async fn pages_follow_next_links_without_top() {
    let s = start_small(23).await;
    let tok = token(&s).await;
    let url = format!("{}/api/machines", s.base_url());
    let first = get(&url, &tok).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(
        first.headers()["content-type"],
        "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8"
    );
    assert_eq!(first.headers()["odata-version"], "4.0");
    let page: Value = first.json().await.unwrap();
    assert_eq!(page["value"].as_array().unwrap().len(), 5);
    assert_eq!(
        page["@odata.context"],
        format!("{}/api/$metadata#Machines", s.base_url())
    );
    assert_eq!(page["@odata.nextLink"], format!("{url}?$skip=5"));

    let (items, pages) = collect(&url, &tok, 20).await;
    assert_eq!((items.len(), pages), (23, 5));
    let ids: HashSet<&str> = items.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 23);
    assert_eq!(s.control().machine_count(), 23);
    s.shutdown().await;
}

#[tokio::test]
async fn top_suppresses_next_link_and_is_capped() {
    let s = start_small(23).await;
    let tok = token(&s).await;
    let base = s.base_url();
    let v = get_json(&format!("{base}/api/machines?$top=7&$skip=20"), &tok).await;
    assert_eq!(v["value"].as_array().unwrap().len(), 3);
    assert!(v.get("@odata.nextLink").is_none());
    let v = get_json(&format!("{base}/api/machines?$top=10"), &tok).await;
    assert_eq!(v["value"].as_array().unwrap().len(), 10);
    assert!(v.get("@odata.nextLink").is_none());
    let r = get(&format!("{base}/api/machines?$top=10001"), &tok).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&r.json().await.unwrap()), "ODataError");
    let r = get(&format!("{base}/api/vulnerabilities?$top=8001"), &tok).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    s.shutdown().await;
}

#[tokio::test]
async fn filters_are_preserved_and_validated() {
    let s = start_small(40).await;
    let tok = token(&s).await;
    let base = s.base_url();
    let url = format!("{base}/api/machines?$filter=onboardingStatus%20eq%20'Onboarded'");
    let page = get_json(&url, &tok).await;
    let next = page["@odata.nextLink"].as_str().unwrap();
    assert!(
        next.contains("$filter=onboardingStatus%20eq%20'Onboarded'"),
        "{next}"
    );
    assert!(next.ends_with("&$skip=5"));
    let (items, _) = collect(&url, &tok, 20).await;
    assert!(!items.is_empty());
    assert!(items.iter().all(|m| m["onboardingStatus"] == "Onboarded"));
    let expected = s
        .control()
        .machines()
        .iter()
        .filter(|m| m.onboarding_status == "Onboarded")
        .count();
    assert_eq!(items.len(), expected);

    let both = format!(
        "{base}/api/machines?$filter=healthStatus eq 'Active' and (osPlatform eq 'Windows11' or startswith(computerDnsName,'lnx'))&$top=100"
    );
    let v = get_json(&both, &tok).await;
    for m in v["value"].as_array().unwrap() {
        assert_eq!(m["healthStatus"], "Active");
    }
    let sel = get_json(
        &format!("{base}/api/machines?$select=id,computerDnsName&$top=3"),
        &tok,
    )
    .await;
    for m in sel["value"].as_array().unwrap() {
        assert_eq!(m.as_object().unwrap().len(), 2, "{m}");
    }
    let r = get(&format!("{base}/api/machines?$filter=osBuild eq 1"), &tok).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&r.json().await.unwrap()), "ODataError");
    let r = get(&format!("{base}/api/alerts?$filter=status eq"), &tok).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let since = get_json(
        &format!("{base}/api/alerts?$filter=lastUpdateTime ge 2026-11-01T00:00:00Z&$top=10000"),
        &tok,
    )
    .await;
    assert!(since["value"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["lastUpdateTime"].as_str().unwrap() >= "2026-11-01"));
    s.shutdown().await;
}

#[tokio::test]
async fn entity_count_host_echo_and_not_found() {
    let s = start_small(12).await;
    let tok = token(&s).await;
    let base = s.base_url();
    let m0 = s.control().machine(0).unwrap();
    let v = get_json(&format!("{base}/api/v1.0/machines/{}", m0.id), &tok).await;
    assert_eq!(v["id"], m0.id.as_str());
    assert!(v["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("#Machines/$entity"));

    let r = client()
        .get(format!("{base}/api/machines?$top=1"))
        .bearer_auth(&tok)
        .header("Host", "api-eu.securitycenter.microsoft.com")
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert!(v["@odata.context"]
        .as_str()
        .unwrap()
        .starts_with("http://api-eu.securitycenter.microsoft.com/api/"));

    let all = get_json(
        &format!("{base}/api/machines/{}/alerts?$top=10000", m0.id),
        &tok,
    )
    .await;
    let n = all["value"].as_array().unwrap().len();
    assert!(n >= 3);
    let count = get(
        &format!("{base}/api/machines/{}/alerts/$count", m0.id),
        &tok,
    )
    .await;
    assert_eq!(count.text().await.unwrap(), n.to_string());
    let active = get(
        &format!(
            "{base}/api/machines/{}/alerts/$count?$filter=status ne 'Resolved'",
            m0.id
        ),
        &tok,
    )
    .await;
    let active: usize = active.text().await.unwrap().parse().unwrap();
    assert!(active <= n);

    let missing = "0000000000000000000000000000000000000000";
    let r = get(&format!("{base}/api/machines/{missing}"), &tok).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let v: Value = r.json().await.unwrap();
    assert_eq!(error_code(&v), "ResourceNotFound");
    assert_eq!(
        v["error"]["message"],
        format!("Machine {missing} was not found")
    );
    assert!(v["error"]["target"].is_string());
    s.shutdown().await;
}

#[tokio::test]
async fn empty_tenant_answers_404_on_the_collection() {
    let s = start(SimConfig::for_tests(0)).await;
    let tok = token(&s).await;
    let r = get(&format!("{}/api/machines", s.base_url()), &tok).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    s.shutdown().await;
}

#[tokio::test]
async fn alerts_evidence_only_with_expand() {
    let s = start_small(20).await;
    let tok = token(&s).await;
    let base = s.base_url();
    let plain = get_json(&format!("{base}/api/alerts?$top=20"), &tok).await;
    let alerts = plain["value"].as_array().unwrap();
    assert!(alerts
        .iter()
        .all(|a| a["evidence"].as_array().unwrap().is_empty()));
    for a in alerts {
        assert_eq!(
            a["resolvedTime"].is_null(),
            a["status"] != "Resolved",
            "{a}"
        );
    }
    let expanded = get_json(&format!("{base}/api/alerts?$top=20&$expand=evidence"), &tok).await;
    assert!(expanded["value"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| !a["evidence"].as_array().unwrap().is_empty()));
    s.shutdown().await;
}

#[tokio::test]
async fn vulnerability_views_are_consistent() {
    let s = start_small(30).await;
    let tok = token(&s).await;
    let base = s.base_url();
    let m0 = s.control().machine(0).unwrap();
    let per_machine = get_json(
        &format!("{base}/api/machines/{}/vulnerabilities?$top=8000", m0.id),
        &tok,
    )
    .await;
    let mut cves: Vec<String> = per_machine["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect();
    cves.sort();
    assert!(!cves.is_empty());
    let rows = get_json(
        &format!("{base}/api/vulnerabilities/machinesVulnerabilities?$filter=machineId eq '{}'&$top=10000", m0.id),
        &tok,
    )
    .await;
    let mut row_cves: Vec<String> = rows["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["cveId"].as_str().unwrap().to_owned())
        .collect();
    row_cves.sort();
    row_cves.dedup();
    assert_eq!(cves, row_cves);
    let row = &rows["value"][0];
    assert!(row["id"].as_str().unwrap().starts_with(&format!(
        "{}-_-{}",
        m0.id,
        row["cveId"].as_str().unwrap()
    )));

    let cve = &cves[0];
    let v = get_json(&format!("{base}/api/vulnerabilities/{cve}"), &tok).await;
    let refs = get_json(
        &format!("{base}/api/vulnerabilities/{cve}/machineReferences?$top=10000"),
        &tok,
    )
    .await;
    assert_eq!(
        v["exposedMachines"].as_u64().unwrap() as usize,
        refs["value"].as_array().unwrap().len()
    );

    let product = format!(
        "{}-_-{}",
        row["productVendor"].as_str().unwrap(),
        row["productName"].as_str().unwrap()
    );
    let sw = get_json(&format!("{base}/api/Software/{product}"), &tok).await;
    assert_eq!(sw["id"], product.as_str());
    let sw_refs = get_json(
        &format!("{base}/api/Software/{product}/machineReferences?$top=10000"),
        &tok,
    )
    .await;
    assert!(sw_refs["value"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == m0.id.as_str()));
    let r = get(&format!("{base}/api/Software/nobody-_-nothing"), &tok).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let total = get(
        &format!("{base}/api/vulnerabilities/machinesVulnerabilities/$count"),
        &tok,
    )
    .await;
    assert_eq!(
        total.text().await.unwrap(),
        s.control().machine_vulnerability_count().to_string()
    );
    s.shutdown().await;
}

#[tokio::test]
async fn big_pages_are_streamed_intact() {
    let mut config = SimConfig::for_tests(1200);
    config.page_size = 1000;
    let s = start(config).await;
    let tok = token(&s).await;
    let url = format!("{}/api/machines", s.base_url());
    let r = get(&url, &tok).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["odata-version"], "4.0");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["value"].as_array().unwrap().len(), 1000);
    assert_eq!(v["@odata.nextLink"], format!("{url}?$skip=1000"));
    let (items, pages) = collect(&url, &tok, 5).await;
    assert_eq!((items.len(), pages), (1200, 2));
    let rows = get(
        &format!(
            "{}/api/vulnerabilities/machinesVulnerabilities?$top=5000",
            s.base_url()
        ),
        &tok,
    )
    .await;
    let rows: Value = rows.json().await.unwrap();
    assert_eq!(rows["value"].as_array().unwrap().len(), 5000);
    s.shutdown().await;
}

#[tokio::test]
async fn software_vulnerabilities_export_pages_with_skiptoken() {
    let s = start_small(15).await;
    let tok = token(&s).await;
    let url = format!(
        "{}/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=7",
        s.base_url()
    );
    let first = get_json(&url, &tok).await;
    let next = first["@odata.nextLink"].as_str().unwrap();
    assert!(next.contains("pageSize=7&$skiptoken="), "{next}");
    let row = &first["value"][0];
    assert!(row["rbacGroupId"].is_string());
    assert_eq!(row["lastSeenTimestamp"].as_str().unwrap().len(), 19);
    let (rows, pages) = collect(&url, &tok, 500).await;
    let total = s.control().machine_vulnerability_count();
    assert_eq!(rows.len(), total);
    assert_eq!(pages, total.div_ceil(7));
    let top = get_json(&format!("{url}&$top=3"), &tok).await;
    assert_eq!(top["value"].as_array().unwrap().len(), 3);
    assert!(top.get("@odata.nextLink").is_none());
    let bad = get(&format!("{url}&$skiptoken=nonsense"), &tok).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let too_big = format!(
        "{}/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=200001",
        s.base_url()
    );
    assert_eq!(get(&too_big, &tok).await.status(), StatusCode::BAD_REQUEST);
    s.shutdown().await;
}
