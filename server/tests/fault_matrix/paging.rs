//! Paging anomalies mid-sync (defender-api.md §3.4, §9.2): the guards stop the listing, the
//! run is Partial with a note, and nothing is marked gone on the strength of a cut listing.
//! `inventory_sync::a_much_shorter_listing_marks_nothing_gone` covers an empty page on every
//! listing; these hit the machine listing alone, mid-way.

use server::sim::Faults;

use crate::harness::{in_listing, Fixture, Rows, MACHINES, MACHINE_LISTING};

/// An empty page with a nextLink at the third machines page.
#[tokio::test]
async fn empty_page_in_the_middle_of_paging() {
    let fx = Fixture::synced().await;
    fx.inject(in_listing(
        MACHINE_LISTING,
        0,
        Faults {
            empty_page_at: Some(2),
            ..Faults::default()
        },
    ));
    let run = fx
        .sync_is_partial(&["machine listing stopped early", "nothing was marked gone"])
        .await;
    assert_eq!(
        run["machines_seen"], 10,
        "the two pages before the empty one"
    );
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// The second machines page links to itself.
#[tokio::test]
async fn next_link_loop() {
    let fx = Fixture::synced().await;
    fx.inject(in_listing(
        MACHINE_LISTING,
        1,
        Faults {
            next_link_loop: true,
            ..Faults::default()
        },
    ));
    let run = fx
        .sync_is_partial(&["machine listing stopped early", "nothing was marked gone"])
        .await;
    assert_eq!(run["machines_seen"], 10, "each of the two pages once");
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// The reported bug (microsoft-365-docs#8316): `$` dropped from option names and a nextLink
/// that never ends. The sync's listings carry no `$filter`, so every item still arrives; the
/// never-ending link trips the guard at the end, and the run says the listing may be cut.
#[tokio::test]
async fn malformed_next_link() {
    let fx = Fixture::synced().await;
    fx.inject(in_listing(
        MACHINE_LISTING,
        0,
        Faults {
            malformed_next_link: true,
            ..Faults::default()
        },
    ));
    let run = fx
        .sync_is_partial(&["machine listing stopped early", "nothing was marked gone"])
        .await;
    assert_eq!(run["machines_seen"], MACHINES, "{run:#}");
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// A listing that ends normally with a quarter of the machines: the safety check refuses to
/// mark the rest gone.
#[tokio::test]
async fn listing_much_shorter_than_the_last_one() {
    let fx = Fixture::synced().await;
    fx.inject(in_listing(
        MACHINE_LISTING,
        0,
        Faults {
            listing_limit: Some(MACHINES / 4),
            ..Faults::default()
        },
    ));
    let run = fx
        .sync_is_partial(&["fewer than half", "nothing was marked gone"])
        .await;
    assert_eq!(run["machines_seen"], MACHINES / 4, "{run:#}");
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// The contrast: a listing a few machines shorter is believed (retention ages devices out,
/// §9.18). The missing machines are flagged gone, never deleted; that is the new state.
#[tokio::test]
async fn listing_slightly_shorter_than_the_last_one() {
    let fx = Fixture::synced().await;
    let kept = MACHINES - 3;
    fx.inject(in_listing(
        MACHINE_LISTING,
        0,
        Faults {
            listing_limit: Some(kept),
            ..Faults::default()
        },
    ));
    let run = fx.sync_succeeds().await;
    assert_eq!(run["machines_seen"], kept, "{run:#}");
    let expected = Rows {
        machines_gone: 3,
        ..fx.before
    };
    assert_eq!(fx.rows().await, expected);
    // Back in the listing, they are present again.
    fx.recovers().await;
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// The last item of each page repeated at the top of the next (§3.4): de-duplicated by id,
/// every machine once, nothing invented.
#[tokio::test]
async fn duplicate_and_unstable_paging() {
    let fx = Fixture::synced().await;
    fx.inject(in_listing(
        MACHINE_LISTING,
        0,
        Faults {
            unstable_paging: true,
            ..Faults::default()
        },
    ));
    let run = fx.sync_succeeds().await;
    assert_eq!(run["machines_seen"], MACHINES, "{run:#}");
    assert_eq!(run["machines_unchanged"], MACHINES, "{run:#}");
    assert!(
        run["api_calls"].as_i64().unwrap() > fx.clean_calls,
        "overlapping pages take more calls: {run:#}"
    );
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// Token expiry between two pages of the machine listing (§9.12): one refresh, one retry,
/// and the run completes.
#[tokio::test]
async fn token_expiry_in_the_middle_of_paging() {
    let fx = Fixture::synced().await;
    let tokens = fx.sim.control().tokens_issued();
    fx.inject(in_listing(
        MACHINE_LISTING,
        0,
        Faults {
            expire_tokens_after_pages: Some(2),
            ..Faults::default()
        },
    ));
    let run = fx.sync_succeeds().await;
    assert_eq!(
        fx.faults().expire_tokens_after_pages,
        None,
        "the expiry fired"
    );
    assert_eq!(
        fx.sim.control().tokens_issued(),
        tokens + 2,
        "the run's token and one refresh"
    );
    assert_eq!(run["api_calls"], fx.clean_calls + 1, "{run:#}");
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// A 404 on the first machines page reads as "no machines in the tenant" (§4.1): the run
/// imports no machine, and the safety check keeps every one of them present.
#[tokio::test]
async fn spurious_404_on_the_first_page() {
    let fx = Fixture::synced().await;
    fx.inject(in_listing(
        MACHINE_LISTING,
        0,
        Faults {
            collection_not_found_next: 1,
            ..Faults::default()
        },
    ));
    let run = fx
        .sync_is_partial(&["returned 0 machines", "nothing was marked gone"])
        .await;
    assert_eq!(run["machines_seen"], 0, "{run:#}");
    let before = fx.before;
    fx.end_with_rows(before).await;
}

/// A 404 on the third machines page: not the documented empty-tenant answer, so the run
/// fails and keeps the previous data.
#[tokio::test]
async fn spurious_404_in_the_middle_of_paging() {
    let fx = Fixture::synced().await;
    fx.inject(in_listing(
        MACHINE_LISTING,
        2,
        Faults {
            collection_not_found_next: 1,
            ..Faults::default()
        },
    ));
    fx.sync_fails_visibly(&["machines", "not found"]).await;
    fx.recovers().await;
    let before = fx.before;
    fx.end_with_rows(before).await;
}
