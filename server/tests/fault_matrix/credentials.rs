//! Credentials and permissions that change between two syncs (defender-api.md §2.4, §2.5):
//! each run signs in afresh, so the next run meets the change. Without a token or the machine
//! permission the run fails before it touches any row; without an optional permission it is
//! Partial. Either way the integration page and Test Connection say what to fix.
//! `inventory_sync::a_fault_mid_sync_leaves_the_previous_data_intact` and
//! `integrations_defender::a_failing_sync_puts_the_integration_in_error_with_the_reason`
//! cover a revoked secret at the first sync; these follow a good sync.

use serde_json::Value;
use server::sim::{Faults, SimApp, PRODUCT_ROLES};

use crate::harness::{defender_form, Fixture, CLIENT, NEW_CLIENT, NEW_SECRET, TENANT};

/// SQL that is true where `column`'s JSON says `{"<part>": {"unknown": true}}`, on either
/// backend (the stored risk is JSON text on both).
fn json_true(pool: &server::db::Pool, column: &str, part: &str) -> String {
    match pool {
        server::db::Pool::Sqlite(_) => format!("json_extract({column}, '$.{part}.unknown') = 1"),
        server::db::Pool::Postgres(_) => {
            format!("({column} -> '{part}' ->> 'unknown') = 'true'")
        }
    }
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or(&Value::Null)
}

/// The admin's way out of a dead secret: a new app registration, saved on the page.
async fn switch_to_a_new_app(fx: &Fixture) {
    fx.sim.control().add_app(SimApp::full_access(
        TENANT,
        None,
        NEW_CLIENT,
        NEW_SECRET,
        "EA fault matrix (new secret)",
    ));
    let res = fx
        .app
        .call(
            &fx.admin,
            "integrations/defender/save",
            &defender_form(&fx.sim, NEW_CLIENT, NEW_SECRET),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

#[tokio::test]
async fn client_secret_revoked_between_two_syncs() {
    let fx = Fixture::synced().await;
    fx.sim.control().revoke_secret(CLIENT);
    fx.sync_fails_visibly(&["secret"]).await;
    let report = fx.test_connection(CLIENT).await;
    let token = check(&report, "Token obtained");
    assert_eq!(token["passed"], false, "{report:#}");
    assert!(
        token["fix"].as_str().unwrap().contains("Value"),
        "{report:#}"
    );
    switch_to_a_new_app(&fx).await;
    fx.sync_succeeds().await;
    let before = fx.before;
    fx.end_with_rows(before).await;
}

#[tokio::test]
async fn client_secret_expired_between_two_syncs() {
    let fx = Fixture::synced().await;
    fx.sim.control().expire_secret(CLIENT);
    fx.sync_fails_visibly(&["expired"]).await;
    let report = fx.test_connection(CLIENT).await;
    let token = check(&report, "Token obtained");
    assert_eq!(token["passed"], false, "{report:#}");
    assert!(
        token["fix"].as_str().unwrap().contains("expired"),
        "{report:#}"
    );
    switch_to_a_new_app(&fx).await;
    fx.sync_succeeds().await;
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// Vulnerability.Read.All withdrawn (partial consent is normal, §9.24): machines and alerts
/// still sync, the run is Partial and names the missing permission, the vulnerability rows the
/// last good sync left stay, and every Defender machine's Exposure Risk Level reads Unknown
/// (never None) until the permission is back.
#[tokio::test]
async fn vulnerability_permission_removed_between_two_syncs() {
    let fx = Fixture::synced().await;
    let without: Vec<String> = PRODUCT_ROLES
        .iter()
        .filter(|r| **r != "Vulnerability.Read.All")
        .map(|r| (*r).to_owned())
        .collect();
    fx.sim.control().set_roles(CLIENT, Some(without));
    let run = fx
        .sync_is_partial(&["may not read vulnerabilities", "Vulnerability.Read.All"])
        .await;
    assert_eq!(
        run["missing_permissions"],
        serde_json::json!([
            {"source": "vulnerabilities", "permissions": ["Vulnerability.Read.All"]},
            {"source": "machine vulnerabilities", "permissions": ["Vulnerability.Read.All"]},
        ]),
        "{run:#}"
    );
    assert_eq!(
        run["machines_seen"],
        crate::harness::MACHINES as i64,
        "{run:#}"
    );
    assert_eq!(
        fx.rows().await,
        fx.before,
        "nothing lost, nothing marked gone"
    );
    let unknown = |flag: &str| {
        format!(
            "SELECT COUNT(*) FROM endpoint e JOIN endpoint_assessment a USING (endpoint_id) \
             WHERE e.defender_machine_id IS NOT NULL AND {}",
            json_true(&fx.app.pool, "a.defender_risk", flag)
        )
    };
    let defender: i64 = server::on_pool!(&fx.app.pool, |db| sqlx::query_scalar(
        "SELECT COUNT(*) FROM endpoint_assessment WHERE defender_risk IS NOT NULL",
    )
    .fetch_one(db)
    .await
    .unwrap());
    let exposure_unknown: i64 =
        server::on_pool!(&fx.app.pool, |db| sqlx::query_scalar(&unknown("exposure"))
            .fetch_one(db)
            .await
            .unwrap());
    let alerts_unknown: i64 =
        server::on_pool!(&fx.app.pool, |db| sqlx::query_scalar(&unknown("alert"))
            .fetch_one(db)
            .await
            .unwrap());
    assert!(defender > 0);
    assert_eq!(
        exposure_unknown, defender,
        "every Exposure Risk Level is Unknown"
    );
    assert_eq!(alerts_unknown, 0, "alerts were readable");

    let report = fx.test_connection(CLIENT).await;
    let permissions = check(&report, "Permissions");
    assert_eq!(permissions["passed"], false, "{report:#}");
    assert!(
        permissions["detail"]
            .as_str()
            .unwrap()
            .contains("Vulnerability.Read.All"),
        "{report:#}"
    );
    let full: Vec<String> = PRODUCT_ROLES.iter().map(|r| (*r).to_owned()).collect();
    fx.sim.control().set_roles(CLIENT, Some(full));
    fx.sync_succeeds().await;
    let exposure_unknown: i64 =
        server::on_pool!(&fx.app.pool, |db| sqlx::query_scalar(&unknown("exposure"))
            .fetch_one(db)
            .await
            .unwrap());
    assert_eq!(
        exposure_unknown, 0,
        "known again once the permission is back"
    );
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// Alert.Read.All withdrawn: machines and vulnerabilities still sync, the run is Partial naming
/// the permission, the stored alerts stay, and the Alert Risk Level reads Unknown.
#[tokio::test]
async fn alert_permission_removed_between_two_syncs() {
    let fx = Fixture::synced().await;
    let without: Vec<String> = PRODUCT_ROLES
        .iter()
        .filter(|r| **r != "Alert.Read.All")
        .map(|r| (*r).to_owned())
        .collect();
    fx.sim.control().set_roles(CLIENT, Some(without));
    let run = fx
        .sync_is_partial(&["may not read alerts", "Alert.Read.All"])
        .await;
    assert_eq!(
        run["missing_permissions"],
        serde_json::json!([{"source": "alerts", "permissions": ["Alert.Read.All", "Alert.ReadWrite.All"]}]),
        "{run:#}"
    );
    assert_eq!(fx.rows().await, fx.before);
    let (known, unknown): (i64, i64) = server::on_pool!(&fx.app.pool, |db| {
        sqlx::query_as(&format!(
            "SELECT COUNT(*) FILTER (WHERE {}), COUNT(*) FILTER (WHERE {}) \
             FROM endpoint_assessment WHERE defender_risk IS NOT NULL",
            json_true(&fx.app.pool, "defender_risk", "exposure"),
            json_true(&fx.app.pool, "defender_risk", "alert"),
        ))
        .fetch_one(db)
        .await
        .unwrap()
    });
    let defender: i64 = server::on_pool!(&fx.app.pool, |db| sqlx::query_scalar(
        "SELECT COUNT(*) FROM endpoint_assessment WHERE defender_risk IS NOT NULL",
    )
    .fetch_one(db)
    .await
    .unwrap());
    assert_eq!((known, unknown), (0, defender));
    let full: Vec<String> = PRODUCT_ROLES.iter().map(|r| (*r).to_owned()).collect();
    fx.sim.control().set_roles(CLIENT, Some(full));
    fx.sync_succeeds().await;
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// Admin consent withdrawn entirely: tokens come without roles and every call is 403.
#[tokio::test]
async fn every_permission_removed_between_two_syncs() {
    let fx = Fixture::synced().await;
    fx.sim.control().set_roles(CLIENT, None);
    fx.sync_fails_visibly(&["machines", "Machine.Read.All"])
        .await;
    let full: Vec<String> = PRODUCT_ROLES.iter().map(|r| (*r).to_owned()).collect();
    fx.sim.control().set_roles(CLIENT, Some(full));
    fx.sync_succeeds().await;
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// A token for another resource (microsoft-365-docs#9246): the API answers 403 without a
/// missing role. The run fails naming the audience, and Test Connection must not send the
/// admin to add a permission the app already has.
#[tokio::test]
async fn wrong_audience() {
    let fx = Fixture::synced().await;
    fx.inject(Faults {
        token_audience: Some("https://graph.microsoft.com".into()),
        ..Faults::default()
    });
    fx.sync_fails_visibly(&["machines", "403", "audience"])
        .await;
    let report = fx.test_connection(CLIENT).await;
    let api = check(&report, "API reachable");
    assert_eq!(api["passed"], false, "{report:#}");
    assert!(
        api["detail"].as_str().unwrap().contains("audience"),
        "{report:#}"
    );
    let fix = api["fix"].as_str().unwrap();
    assert!(!fix.contains("Machine.Read.All"), "misleading fix: {fix}");
    fx.recovers().await;
    let before = fx.before;
    fx.end_with_rows(before).await;
}
