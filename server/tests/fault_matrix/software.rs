//! Defender's software facts (Get software by id, one call per product) struck after a good
//! first sync: the run is Partial, never Failed; the facts the last good sync stored stand;
//! the inventory is untouched.

use server::sim::Faults;
use server::sim::PRODUCT_ROLES;

use crate::harness::{in_listing, Fixture, CLIENT};

/// Marks every stored product as read long ago, so a later read shows in `synced_at` even
/// within the same second.
async fn age_software(fx: &Fixture) {
    server::on_pool!(&fx.app.pool, |db| {
        sqlx::query("UPDATE software SET synced_at = '2000-01-01T00:00:00Z'")
            .execute(db)
            .await
            .unwrap();
    });
}

async fn software_rows(fx: &Fixture) -> Vec<(String, String)> {
    server::on_pool!(&fx.app.pool, |db| sqlx::query_as(
        "SELECT software_id, synced_at FROM software ORDER BY software_id"
    )
    .fetch_all(db)
    .await
    .unwrap())
}

/// Software.Read.All withdrawn: everything else syncs, the run is Partial naming the
/// permission, and the stored facts stay as they were.
#[tokio::test]
async fn software_permission_removed_between_two_syncs() {
    let fx = Fixture::synced().await;
    age_software(&fx).await;
    let before = software_rows(&fx).await;
    // One row per product the served machine-vulnerability rows name.
    let named: std::collections::BTreeSet<String> = fx
        .sim
        .control()
        .machine_vulnerabilities()
        .iter()
        .map(|r| {
            format!(
                "{}-_-{}",
                r["productVendor"].as_str().unwrap(),
                r["productName"].as_str().unwrap()
            )
            .to_lowercase()
        })
        .collect();
    assert_eq!(
        before.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
        named.into_iter().collect::<Vec<_>>()
    );
    let without: Vec<String> = PRODUCT_ROLES
        .iter()
        .filter(|r| **r != "Software.Read.All")
        .map(|r| (*r).to_owned())
        .collect();
    fx.sim.control().set_roles(CLIENT, Some(without));
    let run = fx
        .sync_is_partial(&["may not read software", "Software.Read.All"])
        .await;
    assert_eq!(
        run["missing_permissions"],
        serde_json::json!([{"source": "software", "permissions": ["Software.Read.All"]}]),
        "{run:#}"
    );
    assert_eq!(software_rows(&fx).await, before, "the last facts stand");
    assert_eq!(fx.rows().await, fx.before);
    let full: Vec<String> = PRODUCT_ROLES.iter().map(|r| (*r).to_owned()).collect();
    fx.sim.control().set_roles(CLIENT, Some(full));
    fx.sync_succeeds().await;
    let after = software_rows(&fx).await;
    assert_eq!(after.len(), before.len());
    assert!(
        after
            .iter()
            .zip(&before)
            .all(|(a, b)| a.0 == b.0 && a.1 > b.1),
        "read again once the permission is back"
    );
    let rows = fx.before;
    fx.end_with_rows(rows).await;
}

/// One product's answer fails through every retry: the products asked for before it (in id
/// order) are stored anew; it and those after it, which are then not asked for, keep their
/// last facts; the run is Partial naming how many and why.
#[tokio::test]
async fn one_products_facts_unreachable_keep_their_last_ones() {
    let fx = Fixture::synced().await;
    age_software(&fx).await;
    let before = software_rows(&fx).await;
    let at = before.len() / 2;
    let (struck, _) = before[at].clone();
    fx.inject(in_listing(
        &format!("Software/{struck}"),
        0,
        Faults {
            server_error_next: 50,
            ..Faults::default()
        },
    ));
    let run = fx
        .sync_is_partial(&[
            &format!("{} software products could not be read", before.len() - at),
            "500",
        ])
        .await;
    assert_eq!(run["missing_permissions"], serde_json::json!([]), "{run:#}");
    let after = software_rows(&fx).await;
    assert_eq!(after.len(), before.len());
    for ((id, at), (_, was)) in after.iter().zip(&before) {
        if *id >= struck {
            assert_eq!(at, was, "{id} keeps its last facts");
        } else {
            assert!(at > was, "{id} read anew");
        }
    }
    fx.recovers().await;
    let rows = fx.before;
    fx.end_with_rows(rows).await;
}
