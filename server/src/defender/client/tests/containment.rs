//! Where the client will not go and what it will not read: redirects, oversized answers,
//! literal and resolved metadata addresses.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use super::*;

/// A listener that only counts the connections made to it.
async fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (base, count)
}

fn redirect(status: u16, to: &str) -> Canned {
    Canned {
        location: Some(to.to_owned()),
        ..super::status(status, "moved")
    }
}

#[tokio::test]
async fn redirects_are_answers_never_followed() {
    let (elsewhere, connections) = counting_listener().await;
    let (client, mock, _) = start(ClientOptions::for_tests()).await;
    mock.script(
        "/api/machines/$count",
        vec![redirect(307, &format!("{elsewhere}/api/machines/$count"))],
    );
    let err = client.machine_count().await.unwrap_err();
    assert!(
        matches!(err, DefenderError::Rejected { status: 307, .. }),
        "{err:?}"
    );
    assert!(
        err.classified().contains("redirect"),
        "{}",
        err.classified()
    );

    // The token form, secret and all, is not re-posted to a 307's target either.
    let (client, mock, _) = start(ClientOptions::for_tests()).await;
    mock.token_script.lock().unwrap().push_back(redirect(
        307,
        &format!("{elsewhere}/tenant-1/oauth2/v2.0/token"),
    ));
    let err = client.granted_roles().await.unwrap_err();
    assert!(
        matches!(err, DefenderError::TokenRejected { status: 307, .. }),
        "{err:?}"
    );
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "nothing went elsewhere"
    );
}

#[tokio::test]
async fn an_answer_over_the_cap_is_refused_once_not_retried() {
    let options = ClientOptions {
        max_response_bytes: 4_096,
        max_token_response_bytes: 8_192,
        ..ClientOptions::for_tests()
    };
    let (client, mock, _) = start(options.clone()).await;
    let ids: Vec<String> = (0..200).map(|i| format!("{i:040}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    mock.script("/api/machines", vec![ok(page(&refs, None))]);
    let err = client.machines().next_page().await.unwrap_err();
    assert!(
        matches!(err, DefenderError::ResponseTooLarge { limit: 4_096, .. }),
        "{err:?}"
    );
    assert_eq!(
        mock.hits("/api/machines"),
        1,
        "the same answer is not asked for again"
    );
    // Within the cap, the same client reads pages as before.
    mock.script("/api/machines", vec![ok(page(&refs[..5], None))]);
    assert_eq!(
        client.machines().next_page().await.unwrap().unwrap().len(),
        5
    );

    let (client, mock, _) = start(options).await;
    let huge = format!(
        r#"{{"expires_in":3599,"access_token":"{}"}}"#,
        "x".repeat(20_000)
    );
    mock.token_script.lock().unwrap().push_back(ok(huge));
    let err = client.granted_roles().await.unwrap_err();
    assert!(
        matches!(err, DefenderError::ResponseTooLarge { limit: 8_192, .. }),
        "{err:?}"
    );
    assert_eq!(client.metrics().token_requests, 1);
}

#[tokio::test]
async fn an_oversized_error_body_is_judged_by_its_status() {
    let (client, mock, _) = start(ClientOptions::for_tests()).await;
    let body = format!(
        r#"{{"error":{{"code":"BadRequest","message":"{}"}}}}"#,
        "y".repeat(200_000)
    );
    mock.script("/api/machines/$count", vec![status(400, body)]);
    let err = client.machine_count().await.unwrap_err();
    assert!(
        matches!(err, DefenderError::Rejected { status: 400, ref message, .. } if message.is_empty()),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_literal_metadata_address_is_refused_before_any_request() {
    for base in [
        "http://169.254.169.254/",
        "https://[::ffff:169.254.169.254]/",
        "https://100.100.100.200/",
    ] {
        // Built by hand, past the checks `Endpoints::custom` makes, as a stored value might.
        let endpoints = Endpoints {
            login_base: url::Url::parse(base).unwrap(),
            api_base: url::Url::parse(base).unwrap(),
            audience: Cloud::Commercial.audience().into(),
            portal_host: Cloud::Commercial.portal_host().into(),
        };
        let settings = DefenderSettings::new("tenant-1", "client-1", SECRET, endpoints);
        let client = DefenderClient::new(settings, ClientOptions::for_tests()).unwrap();
        let started = Instant::now();
        let err = client.granted_roles().await.unwrap_err();
        assert!(
            matches!(err, DefenderError::RefusedDestination { .. }),
            "{base}: {err:?}"
        );
        assert!(
            started.elapsed() < Duration::from_millis(200),
            "no connect was tried"
        );
        assert_eq!(client.metrics().token_requests, 0, "{base}");
    }
}

#[tokio::test]
async fn names_resolving_to_metadata_addresses_are_refused_at_connect_time() {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let refused = HostOverrides::new([("localhost".to_owned(), vec![ip("169.254.169.254")])]);
    let (client, mock, _) = start_as(
        ClientOptions {
            hosts: refused,
            ..ClientOptions::for_tests()
        },
        "localhost",
    )
    .await;
    let started = Instant::now();
    let err = client.granted_roles().await.unwrap_err();
    assert!(
        matches!(err, DefenderError::RefusedDestination { ref host, .. } if host == "localhost"),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "not retried"
    );
    assert_eq!(mock.tokens_issued.load(Ordering::SeqCst), 0);

    // A rebinding answer mixing a metadata address with a reachable one: only the reachable
    // one is used.
    let mixed = HostOverrides::new([(
        "localhost".to_owned(),
        vec![ip("169.254.169.254"), ip("fe80::1"), ip("127.0.0.1")],
    )]);
    let (client, mock, _) = start_as(
        ClientOptions {
            hosts: mixed,
            ..ClientOptions::for_tests()
        },
        "localhost",
    )
    .await;
    assert!(client.granted_roles().await.is_ok());
    assert_eq!(mock.tokens_issued.load(Ordering::SeqCst), 1);
}
