//! A failure in one listing at a time, on its second page: the listings before it were
//! already staged, yet the run applies nothing, names the listing, and leaves every table as
//! the last good sync did. 500s that outlast the client's retries are the fault.

use server::sim::Faults;

use crate::harness::{
    in_listing, Fixture, ALERT_LISTING, MACHINE_LISTING, MACHINE_VULNERABILITY_LISTING,
    VULNERABILITY_LISTING,
};

async fn a_dead_listing(listing: &str, named: &str) {
    let fx = Fixture::synced().await;
    fx.inject(in_listing(
        listing,
        1,
        Faults {
            server_error_next: 50,
            ..Faults::default()
        },
    ));
    let run = fx.sync_fails_visibly(&[named, "500"]).await;
    let error = run["error"].as_str().unwrap();
    assert!(error.starts_with(&format!("{named}:")), "{error}");
    fx.recovers().await;
    let before = fx.before;
    fx.end_with_rows(before).await;
}

#[tokio::test]
async fn fault_in_the_machine_listing() {
    a_dead_listing(MACHINE_LISTING, "machines").await;
}

#[tokio::test]
async fn fault_in_the_vulnerability_listing() {
    a_dead_listing(VULNERABILITY_LISTING, "vulnerabilities").await;
}

#[tokio::test]
async fn fault_in_the_machine_vulnerability_listing() {
    a_dead_listing(MACHINE_VULNERABILITY_LISTING, "machine vulnerabilities").await;
}

#[tokio::test]
async fn fault_in_the_alert_listing() {
    a_dead_listing(ALERT_LISTING, "alerts").await;
}
