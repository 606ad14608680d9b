//! Bearer-token enforcement of the simulated API: 401s and role-based 403s (§2.4).

#[path = "support/sim.rs"]
mod support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use server::sim::{Cloud, Faults, SimApp, SimConfig};
use support::*;

#[tokio::test]
async fn missing_garbled_and_forged_tokens_are_401() {
    let s = start_small(5).await;
    let url = format!("{}/api/machines", s.base_url());
    let r = client().get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&r.json().await.unwrap()), "Unauthorized");
    assert_eq!(
        get(&url, "garbage").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let tok = token(&s).await;
    let mut forged = tok.clone();
    let sig_start = tok.rfind('.').unwrap() + 1;
    forged.replace_range(
        sig_start..sig_start + 2,
        if &tok[sig_start..sig_start + 2] == "AA" {
            "BB"
        } else {
            "AA"
        },
    );
    assert_eq!(get(&url, &forged).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(get(&url, &tok).await.status(), StatusCode::OK);
    s.shutdown().await;
}

#[tokio::test]
async fn expired_token_is_401() {
    let mut config = SimConfig::for_tests(5);
    // exp is whole seconds after iat, so 2 s guarantees the first call is inside it.
    config.token_lifetime = Duration::from_secs(2);
    let s = start(config).await;
    let tok = token(&s).await;
    let url = format!("{}/api/machines", s.base_url());
    assert_eq!(get(&url, &tok).await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(get(&url, &tok).await.status(), StatusCode::UNAUTHORIZED);
    s.shutdown().await;
}

#[tokio::test]
async fn roles_are_enforced_separately_for_read_and_action() {
    let mut config = SimConfig::for_tests(8);
    let mut isolator = config.apps[0]
        .clone()
        .with_roles(Some(&["Machine.Isolate"]));
    isolator.client_id = "33333333-3333-4333-8333-333333333333".into();
    isolator.display_name = "Isolator".into();
    let mut reader = config.apps[0]
        .clone()
        .with_roles(Some(&["Machine.Read.All"]));
    reader.client_id = "44444444-4444-4444-8444-444444444444".into();
    config.apps.push(isolator.clone());
    config.apps.push(reader.clone());
    let s = start(config).await;
    let base = s.base_url();
    let m0 = s.control().machine(0).unwrap();

    let iso_tok = token_for(&s, &isolator.client_id, &isolator.client_secret).await;
    let r = get(&format!("{base}/api/machines"), &iso_tok).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["error"]["message"],
        "Missing application roles. API required roles: Machine.Read.All,Machine.ReadWrite.All, application roles: Machine.Isolate."
    );
    let (st, act) = post_json(
        &format!("{base}/api/machines/{}/isolate", m0.id),
        &iso_tok,
        comment("x"),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{act}");
    assert_eq!(act["requestor"], "Isolator");

    let read_tok = token_for(&s, &reader.client_id, &reader.client_secret).await;
    assert_eq!(
        get(&format!("{base}/api/machines"), &read_tok)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        get(&format!("{base}/api/alerts"), &read_tok).await.status(),
        StatusCode::FORBIDDEN
    );
    let (st, _) = post_json(
        &format!("{base}/api/machines/{}/runAntiVirusScan", m0.id),
        &read_tok,
        json!({"Comment": "x", "ScanType": "Quick"}),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // Roles changed at runtime apply to new tokens.
    s.control()
        .set_roles(&reader.client_id, Some(vec!["Alert.Read.All".into()]));
    let tok2 = token_for(&s, &reader.client_id, &reader.client_secret).await;
    assert_eq!(
        get(&format!("{base}/api/alerts"), &tok2).await.status(),
        StatusCode::OK
    );
    s.shutdown().await;
}

#[tokio::test]
async fn another_clouds_defender_audience_is_401_other_audiences_403() {
    let mut config = SimConfig::for_tests(5);
    let gcc_high = SimApp::full_access(
        "aaaaaaaa-0000-4000-8000-00000000000a",
        None,
        "bbbbbbbb-0000-4000-8000-00000000000a",
        "Gov~Secret-1",
        "gov app",
    )
    .in_cloud(Cloud::GccHigh);
    config.apps.push(gcc_high.clone());
    let s = start(config).await;
    let url = format!("{}/api/machines", s.base_url());
    let gov_token = |aud: &'static str| {
        let (base, app) = (s.base_url().to_owned(), gcc_high.clone());
        async move {
            let scope = format!("{aud}/.default");
            let r = token_v2(
                &base,
                &app.tenant_id,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &app.client_id),
                    ("client_secret", &app.client_secret),
                    ("scope", &scope),
                ],
            )
            .await;
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()["access_token"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let aim = |aud: &str| {
        s.control().set_faults(Faults {
            token_audience: Some(aud.to_owned()),
            ..Faults::default()
        })
    };
    // A commercial tenant holding a gov audience, and the other way round: 401.
    let cases = [
        ("https://api-gov.securitycenter.microsoft.us", false),
        ("https://api-gcc.securitycenter.microsoft.us", false),
        ("https://api.securitycenter.microsoft.com", true),
    ];
    for (aud, gov) in cases {
        aim(aud);
        let tok = if gov {
            gov_token("https://api-gov.securitycenter.microsoft.us").await
        } else {
            token(&s).await
        };
        let r = get(&url, &tok).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{aud}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(error_code(&v), "Unauthorized");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains(aud) && msg.contains("another cloud"), "{msg}");
        let cloud = if gov { "gcc-high" } else { "commercial" };
        assert!(msg.contains(&format!("in the {cloud} cloud")), "{msg}");
    }
    // A non-Defender audience keeps its 403.
    aim("https://graph.microsoft.us");
    let tok = gov_token("https://api-gov.securitycenter.microsoft.us").await;
    assert_eq!(get(&url, &tok).await.status(), StatusCode::FORBIDDEN);
    // Each cloud's own audience passes.
    s.control().set_faults(Faults::default());
    let tok = gov_token("https://api-gov.security.microsoft.us").await;
    assert_eq!(get(&url, &tok).await.status(), StatusCode::OK);
    assert_eq!(get(&url, &token(&s).await).await.status(), StatusCode::OK);
    s.shutdown().await;
}
