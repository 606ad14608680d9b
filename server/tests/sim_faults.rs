//! Fault injection over HTTP: throttling, 5xx, truncation, delays, token expiry mid-paging,
//! paging anomalies and advanced-hunting errors.

#[path = "support/sim.rs"]
mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use server::sim::{Faults, RateLimits, SimConfig};
use support::*;

#[tokio::test]
async fn rate_limit_window_gives_429_with_retry_after() {
    let mut config = SimConfig::for_tests(5);
    config.rate_limits = RateLimits {
        per_minute: 3,
        ..RateLimits::default()
    };
    let s = start(config).await;
    let tok = token(&s).await;
    let url = format!("{}/api/alerts", s.base_url());
    for _ in 0..3 {
        assert_eq!(get(&url, &tok).await.status(), StatusCode::OK);
    }
    // Another family has its own budget.
    assert_eq!(
        get(&format!("{}/api/machines", s.base_url()), &tok)
            .await
            .status(),
        StatusCode::OK
    );
    let r = get(&url, &tok).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let secs: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&secs));
    let v: Value = r.json().await.unwrap();
    assert_eq!(error_code(&v), "TooManyRequests");
    assert_eq!(
        v["error"]["message"],
        "API calls quota exceeded! maximum allowed 3 per 00:01:00"
    );
    assert!(v["error"]["target"].is_string());
    assert_eq!(
        get(&url, &tok).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    s.shutdown().await;
}

#[tokio::test]
async fn throttle_storm_and_server_errors_via_http_control() {
    let s = start_small(5).await;
    let tok = token(&s).await;
    let base = s.base_url();
    let url = format!("{base}/api/machines");
    set_faults_http(
        base,
        json!({"throttle_next": 1, "throttle_retry_after_secs": 7}),
    )
    .await;
    let r = get(&url, &tok).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "7");
    assert_eq!(get(&url, &tok).await.status(), StatusCode::OK);

    set_faults_http(base, json!({"throttle_next": 1})).await;
    let r = get(&url, &tok).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_none());

    set_faults_http(
        base,
        json!({"server_error_next": 2, "server_error_status": 503}),
    )
    .await;
    assert_eq!(
        get(&url, &tok).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let faults: Value = client()
        .get(format!("{base}/_sim/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(faults["server_error_next"], 1);
    assert_eq!(
        get(&url, &tok).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(get(&url, &tok).await.status(), StatusCode::OK);
    s.control().set_faults(Faults {
        server_error_next: 1,
        ..Faults::default()
    });
    let r = get(&url, &tok).await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(error_code(&r.json().await.unwrap()), "InternalServerError");

    let state: Value = client()
        .get(format!("{base}/_sim/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["machines"], 5);
    s.shutdown().await;
}

#[tokio::test]
async fn truncated_json_and_slow_responses() {
    let s = start_small(8).await;
    let tok = token(&s).await;
    let url = format!("{}/api/machines", s.base_url());
    s.control().set_faults(Faults {
        truncate_next: 1,
        ..Faults::default()
    });
    let text = get(&url, &tok).await.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err());
    assert!(serde_json::from_str::<Value>(&get(&url, &tok).await.text().await.unwrap()).is_ok());
    s.control().set_faults(Faults {
        delay_ms: 300,
        ..Faults::default()
    });
    let t0 = Instant::now();
    assert_eq!(get(&url, &tok).await.status(), StatusCode::OK);
    assert!(t0.elapsed() >= Duration::from_millis(300));
    s.shutdown().await;
}

#[tokio::test]
async fn token_expires_in_the_middle_of_paging() {
    let s = start_small(20).await;
    let tok = token(&s).await;
    let url = format!("{}/api/machines", s.base_url());
    s.control().set_faults(Faults {
        expire_tokens_after_pages: Some(2),
        ..Faults::default()
    });
    let p1 = get_json(&url, &tok).await;
    let p2 = get_json(p1["@odata.nextLink"].as_str().unwrap(), &tok).await;
    let next = p2["@odata.nextLink"].as_str().unwrap();
    assert_eq!(get(next, &tok).await.status(), StatusCode::UNAUTHORIZED);
    let fresh = token(&s).await;
    assert_eq!(get(next, &fresh).await.status(), StatusCode::OK);
    s.shutdown().await;
}

#[tokio::test]
async fn paging_anomalies() {
    let s = start_small(20).await;
    let tok = token(&s).await;
    let c = s.control();
    let url = format!("{}/api/machines", s.base_url());

    c.set_faults(Faults {
        next_link_loop: true,
        ..Faults::default()
    });
    let p = get_json(&format!("{url}?$skip=5"), &tok).await;
    assert_eq!(p["@odata.nextLink"], format!("{url}?$skip=5"));

    c.set_faults(Faults {
        malformed_next_link: true,
        ..Faults::default()
    });
    let p = get_json(
        &format!("{url}?$filter=onboardingStatus eq 'Onboarded'"),
        &tok,
    )
    .await;
    let next = p["@odata.nextLink"].as_str().unwrap();
    assert!(next.contains("?=onboardingStatus"), "{next}");
    // Never ends: even far past the end there is a nextLink and an empty page.
    let far = get_json(&format!("{url}?$skip=500"), &tok).await;
    assert!(far["value"].as_array().unwrap().is_empty());
    assert!(far["@odata.nextLink"].is_string());

    c.set_faults(Faults {
        short_pages: true,
        ..Faults::default()
    });
    let p = get_json(&url, &tok).await;
    assert_eq!(p["value"].as_array().unwrap().len(), 2);
    assert!(p["@odata.nextLink"].as_str().unwrap().ends_with("$skip=2"));

    c.set_faults(Faults {
        empty_page_at: Some(1),
        ..Faults::default()
    });
    let p = get_json(&format!("{url}?$skip=5"), &tok).await;
    assert!(p["value"].as_array().unwrap().is_empty());
    assert!(p["@odata.nextLink"].as_str().unwrap().ends_with("$skip=5"));
    let p = get_json(&format!("{url}?$skip=5"), &tok).await;
    assert_eq!(p["value"].as_array().unwrap().len(), 5);

    c.set_faults(Faults {
        unstable_paging: true,
        ..Faults::default()
    });
    let (items, _) = collect(&url, &tok, 50).await;
    let unique: HashSet<&str> = items.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(unique.len(), 20);
    assert!(items.len() > 20, "some items repeat across pages");

    c.set_faults(Faults {
        spurious_not_found_next: 1,
        ..Faults::default()
    });
    let m0 = c.machine(0).unwrap();
    let by_id = format!("{url}/{}", m0.id);
    assert_eq!(get(&by_id, &tok).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(get(&by_id, &tok).await.status(), StatusCode::OK);
    s.shutdown().await;
}

#[tokio::test]
async fn faults_can_target_one_listing_from_its_nth_call() {
    let s = start_small(20).await;
    let tok = token(&s).await;
    let base = s.base_url();
    set_faults_http(
        base,
        json!({"scope": "alerts", "start_after_calls": 1, "server_error_next": 1}),
    )
    .await;
    // Out of scope: served clean, and the countdown does not move.
    assert_eq!(
        get(&format!("{base}/api/machines"), &tok).await.status(),
        StatusCode::OK
    );
    assert_eq!(s.control().faults().start_after_calls, 1);
    let alerts = format!("{base}/api/v1.0/Alerts");
    assert_eq!(get(&alerts, &tok).await.status(), StatusCode::OK, "dormant");
    assert_eq!(
        get(&alerts, &tok).await.status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(get(&alerts, &tok).await.status(), StatusCode::OK);
    s.shutdown().await;
}

#[tokio::test]
async fn listing_faults_answer_404_wrong_shapes_and_short_listings() {
    let s = start_small(20).await;
    let tok = token(&s).await;
    let base = s.base_url();
    let url = format!("{base}/api/machines");

    set_faults_http(base, json!({"collection_not_found_next": 1})).await;
    let r = get(&format!("{url}?$skip=5"), &tok).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(&r.json().await.unwrap()), "ResourceNotFound");
    assert_eq!(get(&url, &tok).await.status(), StatusCode::OK);

    set_faults_http(base, json!({"wrong_shape_next": 1})).await;
    // Single entities are left alone and do not use the fault up.
    let one = get_json(
        &format!("{url}/{}", s.control().machine(0).unwrap().id),
        &tok,
    )
    .await;
    assert!(one["id"].is_string());
    let page = get_json(&url, &tok).await;
    assert!(page.get("value").is_none() && page.get("@odata.nextLink").is_none());
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
    assert!(page["@odata.context"].is_string());
    assert!(get_json(&url, &tok).await["value"].is_array());

    set_faults_http(base, json!({"wrong_types_next": 1})).await;
    let page = get_json(&url, &tok).await;
    assert!(page["value"][0]["id"].is_number(), "{page}");
    assert!(page["@odata.nextLink"].is_string());

    set_faults_http(base, json!({"listing_limit": 7})).await;
    let (items, pages) = collect(&url, &tok, 10).await;
    assert_eq!((items.len(), pages), (7, 2), "complete-looking, but short");
    let count = get(&format!("{url}/$count"), &tok)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(count, "7");
    s.shutdown().await;
}

#[tokio::test]
async fn tokens_for_the_wrong_audience_are_refused_by_the_api() {
    let s = start_small(5).await;
    set_faults_http(
        s.base_url(),
        json!({"token_audience": "https://graph.microsoft.com"}),
    )
    .await;
    let tok = token(&s).await;
    let payload = tok.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["aud"], "https://graph.microsoft.com");
    let r = get(&format!("{}/api/machines", s.base_url()), &tok).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"].as_str().unwrap().contains("audience"),
        "{v}"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn advanced_hunting_answers_and_faults() {
    let s = start_small(10).await;
    let tok = token(&s).await;
    let url = format!("{}/api/advancedqueries/run", s.base_url());
    let (st, v) = post_json(&url, &tok, json!({"Query": "DeviceInfo | take 2"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["Results"].as_array().unwrap().len(), 2);
    assert!(v["Schema"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["Name"].is_string() && c["Type"].is_string()));
    let (st, v) = post_json(&url, &tok, json!({"query": "DeviceInfo"})).await;
    assert_eq!(
        (st, error_code(&v)),
        (StatusCode::BAD_REQUEST, "InvalidRequestBody")
    );
    let (st, _) = post_json(&url, &tok, json!({"Query": ""})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    s.control().set_faults(Faults {
        hunting_result_too_large: true,
        ..Faults::default()
    });
    let (st, v) = post_json(&url, &tok, json!({"Query": "DeviceInfo"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("exceeded the allowed result size"));
    s.control().set_faults(Faults {
        hunting_cpu_quota_next: 1,
        ..Faults::default()
    });
    let r = client()
        .post(&url)
        .bearer_auth(&tok)
        .json(&json!({"Query": "DeviceInfo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_some());
    s.shutdown().await;
}

#[tokio::test]
async fn hunting_has_its_own_limit() {
    let mut config = SimConfig::for_tests(5);
    config.rate_limits = RateLimits {
        hunting_per_minute: 2,
        ..RateLimits::default()
    };
    let s = start(config).await;
    let tok = token(&s).await;
    let url = format!("{}/api/advancedqueries/run", s.base_url());
    for _ in 0..2 {
        assert_eq!(
            post_json(&url, &tok, json!({"Query": "DeviceInfo"}))
                .await
                .0,
            StatusCode::OK
        );
    }
    let (st, v) = post_json(&url, &tok, json!({"Query": "DeviceInfo"})).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        v["error"]["message"],
        "API calls quota exceeded! maximum allowed 2 per 00:01:00"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn network_xml_matches_the_machines() {
    let s = start_small(30).await;
    let xml = s.control().local_network_xml(8);
    assert_eq!(xml, s.control().local_network_xml(8));
    assert!(xml.contains("<nmaprun") && xml.ends_with("</nmaprun>\n"));
    let m0 = s.control().machine(0).unwrap();
    assert!(xml.contains(&format!(
        "addr=\"{}\" addrtype=\"ipv4\"",
        m0.last_ip_address.as_deref().unwrap()
    )));
    let mac: Vec<String> = m0
        .mac_address
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into())
        .collect();
    assert!(xml.contains(&mac.join(":")));
    assert_eq!(xml.matches("addr=\"10.200.").count(), 8);
    // The cloned pair: one MAC at two addresses; the VPN and docker adapters are not on the LAN.
    let c = s.control();
    let (ten, eleven) = (c.machine(10).unwrap(), c.machine(11).unwrap());
    let colon = |m: &str| {
        m.as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(":")
    };
    assert_eq!(xml.matches(&colon(&ten.mac_address)).count(), 2);
    for m in [&ten, &eleven] {
        let ip = m.last_ip_address.as_deref().unwrap();
        assert!(
            xml.contains(&format!("addr=\"{ip}\" addrtype=\"ipv4\"")),
            "{ip}"
        );
    }
    for m in [12, 13, 14] {
        for a in &c.machine(m).unwrap().adapters[2..] {
            assert!(
                !xml.contains(&format!("addr=\"{}\"", a.ip_address)),
                "{a:?}"
            );
        }
    }
    assert!(!xml.contains(&colon("00059A3C7A00")));
    s.shutdown().await;
}

#[tokio::test]
async fn undecodable_items_keep_their_ids_and_respect_the_scope() {
    let s = start_small(20).await;
    let tok = token(&s).await;
    let base = s.base_url();
    let c = s.control();
    set_faults_http(base, json!({"undecodable_item_next": 2, "scope": "alerts"})).await;
    let machines = get_json(&format!("{base}/api/machines"), &tok).await;
    assert!(machines["value"][0]["lastSeen"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert_eq!(c.faults().undecodable_item_next, 2, "out of scope");
    let p1 = get_json(&format!("{base}/api/alerts"), &tok).await;
    let first = &p1["value"][0];
    assert_eq!(first["alertCreationTime"], "yesterday");
    assert!(first["id"].as_str().unwrap().starts_with("da"));
    assert_ne!(p1["value"][1]["alertCreationTime"], "yesterday");
    assert_eq!(c.faults().undecodable_item_next, 1);
    let p2 = get_json(p1["@odata.nextLink"].as_str().unwrap(), &tok).await;
    assert_eq!(p2["value"][0]["alertCreationTime"], "yesterday");
    let p3 = get_json(p2["@odata.nextLink"].as_str().unwrap(), &tok).await;
    assert_ne!(p3["value"][0]["alertCreationTime"], "yesterday");
    assert_eq!(c.faults().undecodable_item_next, 0);

    let cases = [
        ("machines", "lastSeen", json!("yesterday")),
        ("vulnerabilities", "publishedOn", json!("yesterday")),
        (
            "vulnerabilities/machinesVulnerabilities",
            "productVersion",
            json!({"major": 1}),
        ),
    ];
    for (listing, field, spoilt) in cases {
        c.set_faults(Faults {
            undecodable_item_next: 1,
            ..Faults::default()
        });
        let page = get_json(&format!("{base}/api/{listing}"), &tok).await;
        assert_eq!(page["value"][0][field], spoilt, "{listing}");
        assert!(page["value"][0]["id"].is_string(), "{listing}");
        assert!(page["@odata.nextLink"].is_string(), "{listing}");
    }
    let m0 = c.machine(0).unwrap();
    let (st, _) = post_json(
        &format!("{base}/api/machines/{}/runAntiVirusScan", m0.id),
        &tok,
        json!({"Comment": "x", "ScanType": "Quick"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    c.set_faults(Faults {
        undecodable_item_next: 1,
        ..Faults::default()
    });
    let actions = get_json(&format!("{base}/api/machineactions"), &tok).await;
    assert_eq!(actions["value"][0]["creationDateTimeUtc"], "yesterday");
    assert!(actions["value"][0]["id"].is_string());
    s.shutdown().await;
}
