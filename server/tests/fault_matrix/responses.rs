//! Bad answers mid-sync: 5xx bursts, answers slower than the client's timeout, truncated
//! JSON, and valid JSON of the wrong shape or with wrong types.
//! `inventory_sync::a_fault_mid_sync_leaves_the_previous_data_intact` covers 5xx and
//! truncation that hit every listing from the first call; these strike mid-listing.

use std::time::Duration;

use server::sim::Faults;

use crate::harness::{
    in_listing, Fixture, ALERT_LISTING, MACHINE_LISTING, MACHINE_VULNERABILITY_LISTING,
    VULNERABILITY_LISTING,
};
use crate::support;

/// Two 500s on the fifth machines page: retried with backoff, the run succeeds.
#[tokio::test]
async fn server_error_burst_that_recovers() {
    let fx = Fixture::synced().await;
    fx.inject(in_listing(
        MACHINE_LISTING,
        4,
        Faults {
            server_error_next: 2,
            ..Faults::default()
        },
    ));
    let run = fx.sync_succeeds().await;
    assert_eq!(fx.faults().server_error_next, 0, "the burst hit the sync");
    assert_eq!(run["api_calls"], fx.clean_calls + 2, "{run:#}");
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// 503s that outlast every retry, from the second alerts page on: the run fails with the
/// status, the previous data stays, and the run after the outage succeeds.
#[tokio::test]
async fn server_error_burst_that_does_not_recover() {
    let fx = Fixture::synced().await;
    fx.inject(in_listing(
        ALERT_LISTING,
        1,
        Faults {
            server_error_next: 50,
            server_error_status: 503,
            ..Faults::default()
        },
    ));
    fx.sync_fails_visibly(&["alerts", "503"]).await;
    fx.recovers().await;
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// Answers slower than the client's request timeout from the fourth call of the
/// vulnerability listing on: every attempt times out, the run fails saying so.
#[tokio::test]
async fn slow_responses_past_the_client_timeout() {
    let mut tuning = support::tuning();
    // A short timeout keeps the case quick; the first sync's answers take milliseconds.
    tuning.client_options.request_timeout = Duration::from_millis(500);
    let fx = Fixture::synced_with(tuning, Faults::default()).await;
    fx.inject(in_listing(
        MACHINE_VULNERABILITY_LISTING,
        1,
        Faults {
            delay_ms: 1_200,
            ..Faults::default()
        },
    ));
    fx.sync_fails_visibly(&["machine vulnerabilities", "did not answer in time"])
        .await;
    fx.recovers().await;
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// One page cut in half: the client retries it and the run succeeds.
#[tokio::test]
async fn truncated_json_once() {
    let fx = Fixture::synced().await;
    fx.inject(in_listing(
        VULNERABILITY_LISTING,
        1,
        Faults {
            truncate_next: 1,
            ..Faults::default()
        },
    ));
    let run = fx.sync_succeeds().await;
    assert_eq!(fx.faults().truncate_next, 0);
    assert_eq!(run["api_calls"], fx.clean_calls + 1, "{run:#}");
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// Every page cut in half from the second vulnerability page on: the run fails as
/// undecodable and keeps the previous data.
#[tokio::test]
async fn truncated_json_every_time() {
    let fx = Fixture::synced().await;
    fx.inject(in_listing(
        VULNERABILITY_LISTING,
        1,
        Faults {
            truncate_next: 50,
            ..Faults::default()
        },
    ));
    fx.sync_fails_visibly(&["vulnerabilities", "could not decode"])
        .await;
    fx.recovers().await;
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// Valid JSON of the wrong shape (no `value` array, no nextLink) on the second page of the
/// machine-vulnerability rows. Read as an empty last page, it would end the listing early
/// and the sync would replace every row with the first page's few; it must fail instead.
#[tokio::test]
async fn malformed_json_wrong_shape() {
    let fx = Fixture::synced().await;
    fx.inject(in_listing(
        MACHINE_VULNERABILITY_LISTING,
        1,
        Faults {
            wrong_shape_next: 50,
            ..Faults::default()
        },
    ));
    fx.sync_fails_visibly(&["machine vulnerabilities", "could not decode", "value"])
        .await;
    fx.recovers().await;
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// The same wrong shape once: the retry gets a good page and the run succeeds whole.
#[tokio::test]
async fn malformed_json_wrong_shape_once() {
    let fx = Fixture::synced().await;
    fx.inject(in_listing(
        MACHINE_VULNERABILITY_LISTING,
        1,
        Faults {
            wrong_shape_next: 1,
            ..Faults::default()
        },
    ));
    let run = fx.sync_succeeds().await;
    assert_eq!(fx.faults().wrong_shape_next, 0);
    assert_eq!(run["api_calls"], fx.clean_calls + 1, "{run:#}");
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// Items whose `id` is a number on the second alerts page (shape drift, §9.15): the items
/// cannot be identified, so they are skipped and named, the listing counts as partial, and no
/// alert is lost or invented. The next clean run is whole again.
#[tokio::test]
async fn malformed_json_wrong_types() {
    let fx = Fixture::synced().await;
    fx.inject(in_listing(
        ALERT_LISTING,
        1,
        Faults {
            wrong_types_next: 50,
            ..Faults::default()
        },
    ));
    let run = fx
        .sync_is_partial(&[
            "5 alerts items could not be decoded",
            "alert listing stopped early",
        ])
        .await;
    assert_eq!(run["skipped_items"], 5, "{run:#}");
    let skipped = run["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 5);
    assert!(skipped
        .iter()
        .all(|s| s["listing"] == "alerts" && s["item_id"].is_null() && s["field"] == "id"));
    assert_eq!(fx.rows().await, fx.before, "no alert lost or invented");
    fx.recovers().await;
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// One machine record that cannot be decoded (a `lastSeen` of "yesterday") on the third page:
/// it is skipped and named in the journal (listing, id, field, reason), every other machine is
/// applied, and the skipped one is not marked gone: the run is Partial and loses nothing.
#[tokio::test]
async fn an_undecodable_machine_is_skipped_named_and_kept() {
    let fx = Fixture::synced().await;
    fx.inject(in_listing(
        MACHINE_LISTING,
        2,
        Faults {
            undecodable_item_next: 1,
            ..Faults::default()
        },
    ));
    let run = fx
        .sync_is_partial(&["1 machines item could not be decoded and was skipped"])
        .await;
    assert_eq!(fx.faults().undecodable_item_next, 0, "the fault fired");
    assert_eq!(run["skipped_items"], 1, "{run:#}");
    let item = &run["skipped"][0];
    assert_eq!(item["listing"], "machines");
    assert_eq!(item["field"], "lastSeen");
    assert!(
        item["reason"].as_str().unwrap().contains("yesterday"),
        "{item:#}"
    );
    // Page size 5: the third page starts at machine 10.
    let skipped = fx.sim.control().machine(10).unwrap();
    assert_eq!(item["item_id"], skipped.id.as_str());
    assert_eq!(
        run["machines_seen"], 23,
        "the other machines applied: {run:#}"
    );
    let gone: bool = server::on_pool!(&fx.app.pool, |db| sqlx::query_scalar(
        "SELECT gone FROM defender_machine WHERE machine_id = $1"
    )
    .bind(&skipped.id)
    .fetch_one(db)
    .await
    .unwrap());
    assert!(!gone, "an undecodable record is not a missing one");
    let before = fx.before;
    assert_eq!(fx.rows().await, before);
    fx.recovers().await;
    fx.end_with_rows(before).await;
}

/// One machine-vulnerability row that cannot be decoded: that machine keeps every row it had
/// (the listing is the whole state, so applying it without the row would drop it), the others
/// are applied, and the run is Partial naming the row.
#[tokio::test]
async fn an_undecodable_machine_vulnerability_row_keeps_its_machines_rows() {
    let fx = Fixture::synced().await;
    fx.inject(in_listing(
        MACHINE_VULNERABILITY_LISTING,
        1,
        Faults {
            undecodable_item_next: 1,
            ..Faults::default()
        },
    ));
    let run = fx
        .sync_is_partial(&["1 machine vulnerabilities item could not be decoded"])
        .await;
    let item = &run["skipped"][0];
    assert_eq!(item["listing"], "machine vulnerabilities");
    assert_eq!(item["field"], "productVersion");
    let row_id = item["item_id"].as_str().unwrap();
    let machine = row_id.split("-_-").next().unwrap();
    let kept: i64 = server::on_pool!(&fx.app.pool, |db| sqlx::query_scalar(
        "SELECT COUNT(*) FROM machine_vulnerability WHERE machine_id = $1"
    )
    .bind(machine)
    .fetch_one(db)
    .await
    .unwrap());
    assert!(kept > 0);
    let before = fx.before;
    assert_eq!(fx.rows().await, before, "no row lost");
    fx.recovers().await;
    fx.end_with_rows(before).await;
}
