//! Hostile uploads over HTTP: nmap reports to Endpoints > Import and sensor batches to the
//! ingest endpoint that are too big, entity bombs, DTDs, not XML or JSON, or in the wrong
//! encoding. Each gets a clear error and writes nothing (counted before and after).
//!
//! Already covered, and not repeated: the same files at the parser
//! (`discovery::nmap_xml::tests`, `discovery::text_guard` tests); over HTTP, a bad MAC, plain
//! text and a small internal DTD (`endpoints_view.rs`), a bad sensor MAC and a missing or
//! wrong token (`ingest_sensor.rs`); a truncated file through the CLI (`cli_import.rs`).

use serde_json::Value;

use crate::support::TestApp;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/nmap");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

/// Rows an import could have written: endpoints, and its audit entry.
async fn written(app: &TestApp) -> (i64, i64, String) {
    let endpoints: i64 = server::on_pool!(&app.pool, |db| sqlx::query_scalar(
        "SELECT COUNT(*) FROM endpoint"
    )
    .fetch_one(db)
    .await
    .unwrap());
    let audit: i64 = server::on_pool!(&app.pool, |db| sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log"
    )
    .fetch_one(db)
    .await
    .unwrap());
    // Updated rows change their last sighting even when the count stays.
    let seen: String = server::on_pool!(&app.pool, |db| sqlx::query_scalar(
        "SELECT COALESCE(MAX(last_seen), '') || COUNT(*) FROM endpoint"
    )
    .fetch_one(db)
    .await
    .unwrap());
    (endpoints, audit, seen)
}

async fn upload(
    app: &TestApp,
    client: &reqwest::Client,
    field: &str,
    body: Vec<u8>,
) -> (u16, String) {
    let part = reqwest::multipart::Part::bytes(body).file_name("scan.xml");
    let res = client
        .post(app.url("/api/endpoints/import"))
        .multipart(reqwest::multipart::Form::new().part(field.to_owned(), part))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The `error` of a JSON answer.
fn message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no error message in {body:?}"))
}

#[tokio::test]
async fn hostile_nmap_uploads_are_refused_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let (status, body) = upload(&app, &admin, "file", fixture("lab-sT.xml")).await;
    assert_eq!(status, 200, "{body}");
    let before = written(&app).await;
    assert!(before.0 > 0);

    let xxe = b"<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<nmaprun><host><hostnames><hostname name=\"&xxe;\"/></hostnames></host></nmaprun>".to_vec();
    let mut binary = b"\x89PNG\r\n\x1a\n".to_vec();
    binary.extend_from_slice(&[0u8; 64]);
    let mut bad_bytes = fixture("lab-sT.xml");
    let at = bad_bytes.len() / 2;
    bad_bytes.splice(at..at, [0xC3, 0x28, 0xFF]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "billion laughs",
            fixture("hostile-billion-laughs.xml"),
            "internal DTD subset",
        ),
        ("external entity", xxe, "internal DTD subset"),
        (
            "external DTD",
            fixture("hostile-external-dtd.xml"),
            "external DTD is refused",
        ),
        ("truncated", fixture("hostile-truncated.xml"), "truncated"),
        (
            "UTF-16 with a BOM",
            fixture("hostile-utf16-bom.xml"),
            "UTF-16",
        ),
        (
            "UTF-16 without a BOM",
            fixture("hostile-utf16le-no-bom.xml"),
            "UTF-16",
        ),
        ("Latin-1", fixture("hostile-latin1.xml"), "Latin-1"),
        ("broken UTF-8", bad_bytes, "not valid UTF-8"),
        ("binary", binary, "binary"),
        ("empty", Vec::new(), "Choose an nmap XML file"),
    ];
    for (what, body, expected) in cases {
        let (status, answer) = upload(&app, &admin, "file", body).await;
        assert_eq!(status, 400, "{what}: {answer}");
        let text = message(&answer);
        assert!(
            text.contains(expected),
            "{what}: {text:?} lacks {expected:?}"
        );
        assert!(!text.contains("root:"), "{what}: a file was read: {text}");
        assert_eq!(written(&app).await, before, "{what} wrote something");
    }

    // The file under another field name is no file at all.
    let (status, answer) = upload(&app, &admin, "upload", fixture("lab-sT.xml")).await;
    assert_eq!(status, 400, "{answer}");
    assert!(message(&answer).contains("Choose an nmap XML file"));

    // One byte over the limit: refused while reading, before any parsing.
    let huge = vec![b' '; server::web::import::MAX_UPLOAD_BYTES + 1];
    let (status, answer) = upload(&app, &admin, "file", huge).await;
    assert_eq!(status, 413, "{answer}");
    assert!(message(&answer).contains("could not be read"), "{answer}");
    assert_eq!(
        written(&app).await,
        before,
        "the oversized file wrote something"
    );
    app.stop().await;
}

#[tokio::test]
async fn hostile_sensor_batches_are_refused_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let (_, token) = server::endpoints::create_api_token(&app.pool, "uploads", "admin")
        .await
        .unwrap();
    let post = |body: Vec<u8>| {
        reqwest::Client::new()
            .post(app.url("/api/ingest/sensor"))
            .bearer_auth(&token)
            .body(body)
            .send()
    };
    let good =
        r#"{"sensor": "s", "observations": [{"mac": "02:00:00:00:00:01", "hostname": "café"}]}"#;
    assert_eq!(post(good.as_bytes().to_vec()).await.unwrap().status(), 200);
    let before = written(&app).await;

    let utf16: Vec<u8> = good.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let mut utf16_bom = vec![0xFF, 0xFE];
    utf16_bom.extend_from_slice(&utf16);
    let latin1: Vec<u8> = good
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let many = format!(
        r#"{{"sensor": "s", "observations": [{}]}}"#,
        vec![r#"{"ip": "192.0.2.1"}"#; 10_001].join(",")
    );
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("UTF-16 without a BOM", utf16, "UTF-16"),
        ("UTF-16 with a BOM", utf16_bom, "UTF-16"),
        ("Latin-1", latin1, "Latin-1"),
        (
            "not JSON",
            b"<sensor/>".to_vec(),
            "not a valid sensor report",
        ),
        (
            "nested 100,000 deep",
            deep.into_bytes(),
            "not a valid sensor report",
        ),
        (
            "too many observations",
            many.into_bytes(),
            "more than 10000 observations",
        ),
        (
            "an unknown field",
            br#"{"sensor": "s", "observations": [], "admin": true}"#.to_vec(),
            "unknown field",
        ),
        ("empty", Vec::new(), "empty"),
    ];
    for (what, body, expected) in cases {
        let res = post(body).await.unwrap();
        let status = res.status();
        let answer = res.text().await.unwrap();
        assert_eq!(status, 400, "{what}: {answer}");
        let text = message(&answer);
        assert!(
            text.contains(expected),
            "{what}: {text:?} lacks {expected:?}"
        );
        assert_eq!(written(&app).await, before, "{what} wrote something");
    }

    let huge = vec![b' '; server::discovery::Limits::SENSOR_JSON.max_bytes + 1];
    let res = post(huge).await.unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(
        written(&app).await,
        before,
        "the oversized body wrote something"
    );
    app.stop().await;
}
