//! A tenant as the view tests start from: the simulator's LAN scan uploaded, Microsoft Defender
//! enabled against the simulator, and its first sync finished.

use reqwest::Client;
use server::sim::RunningSim;

use super::TestApp;

/// The integration page's form for the simulator's app registration.
pub fn defender_form(sim: &RunningSim, enabled: bool) -> Vec<(&'static str, String)> {
    let app = sim.app();
    let mut f = vec![
        ("tenant_id", app.tenant_id.clone()),
        ("client_id", app.client_id.clone()),
        ("client_secret", app.client_secret.clone()),
        ("cloud", "commercial".to_owned()),
        ("custom_login_url", sim.base_url().to_owned()),
        ("custom_api_url", sim.base_url().to_owned()),
    ];
    if enabled {
        f.push(("enabled", "on".to_owned()));
    }
    f
}

/// POSTs an owned form to a server fn.
pub async fn post_form(
    app: &TestApp,
    client: &Client,
    endpoint: &str,
    form: &[(&str, String)],
) -> reqwest::Response {
    client
        .post(app.url(&format!("/api/{endpoint}")))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Uploads the simulator's LAN scan (with 8 devices Defender does not know), enables Defender
/// and waits for the first sync.
pub async fn scan_and_sync(app: &TestApp, sim: &RunningSim, admin: &Client) {
    let xml = sim.control().local_network_xml(8);
    let part = reqwest::multipart::Part::bytes(xml.into_bytes()).file_name("scan.xml");
    let res = admin
        .post(app.url("/api/endpoints/import"))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let res = post_form(
        app,
        admin,
        "integrations/defender/save",
        &defender_form(sim, true),
    )
    .await;
    assert_eq!(res.status(), 200);
    let config = app.wait_for_sync(admin).await;
    assert_eq!(config["last_sync_outcome"], "Succeeded", "{config:#}");
}
