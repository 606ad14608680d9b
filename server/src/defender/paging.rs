//! Page-by-page listing that follows `@odata.nextLink`, de-duplicates by id, stops on
//! nextLink loops (defender-api.md §3.4, §9.1, §9.2, §10) and skips the items it cannot decode
//! instead of failing their page (§9.13, §9.21).

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use url::Url;

use super::budget::Family;
use super::error::DefenderError;
use super::http::{ApiRequest, Core};
use super::model::{Identified, ODataPage};
use super::skipped::{decode_item, SkippedItem};

/// The most skipped items a pager holds until [`Pager::take_skipped`] empties it; the rest are
/// only counted in [`PagingStats::skipped`]. A type change on Microsoft's side can make every
/// row of the million-row machine-vulnerability listing (§4.12) undecodable: held whole, their
/// records would take hundreds of MB.
pub const MAX_SKIPPED_HELD: usize = 1_000;

/// Why a pager stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// No `@odata.nextLink`: the normal end.
    Exhausted,
    /// 404 on a collection documented to answer 404 when empty (machines, §4.1).
    EmptyCollection,
    /// The nextLink was one already followed.
    RepeatedLink,
    /// A page held only ids already seen.
    NoProgress,
    /// An empty page still carried a nextLink.
    EmptyPageWithLink,
    /// The page cap was reached.
    PageCap,
    /// The nextLink is not a URL, or points to a host the client must not send its token to.
    BadLink,
}

impl StopReason {
    /// Whether the listing may be incomplete because a guard stopped it.
    pub fn is_guard(self) -> bool {
        !matches!(self, StopReason::Exhausted | StopReason::EmptyCollection)
    }
}

/// Counters of one listing. Every raw item is exactly one of handed over, duplicate or
/// skipped: `raw_items == items + duplicates + skipped`. A listing that ended without a guard
/// ([`StopReason::is_guard`]) is complete except for its `skipped` items.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PagingStats {
    pub pages: usize,
    /// Items in the pages' `value` arrays, decodable or not.
    pub raw_items: usize,
    /// Items handed to the caller.
    pub items: usize,
    /// Items dropped because their id was already seen (unstable paging, §3.4), decodable or
    /// not.
    pub duplicates: usize,
    /// Items left out because they could not be decoded, including any beyond
    /// [`MAX_SKIPPED_HELD`].
    pub skipped: usize,
}

/// The loop guard of §3.4, apart from IO so it can be tested alone.
#[derive(Debug, Default)]
pub(crate) struct LoopGuard {
    seen_ids: HashSet<u128>,
    /// Ids of skipped items, apart from `seen_ids` so that an item skipped on one page and
    /// decodable on a later one (its data changed meanwhile) is not dropped as a duplicate.
    skipped_ids: HashSet<u128>,
    fingerprint: Fingerprint,
    followed_links: HashSet<String>,
}

/// A 128-bit fingerprint of an id, made of two differently keyed SipHash values.
///
/// The bulk machine-vulnerability listing (§4.12) has over a million composite ids of about
/// 100 bytes each: kept as strings they raised a sync's peak memory by over 100 MB; as
/// fingerprints they take about 35 MB. At 128 bits the chance that two distinct ids of a
/// 10-million-row listing collide (and a row is dropped as a duplicate) is below 10^-24.
#[derive(Debug, Default)]
struct Fingerprint {
    high: RandomState,
    low: RandomState,
}

impl Fingerprint {
    fn of(&self, id: &str) -> u128 {
        (u128::from(self.high.hash_one(id)) << 64) | u128::from(self.low.hash_one(id))
    }
}

impl LoopGuard {
    /// Keeps the items whose id is new; returns them with the number of duplicates dropped.
    pub(crate) fn dedupe<T: Identified>(&mut self, items: Vec<T>) -> (Vec<T>, usize) {
        let total = items.len();
        let fresh: Vec<T> = items
            .into_iter()
            .filter(|item| self.seen_ids.insert(self.fingerprint.of(item.id())))
            .collect();
        let dropped = total - fresh.len();
        (fresh, dropped)
    }

    /// Keeps the skipped items whose id was not skipped before (an undecodable item moves
    /// between pages like any other, §3.4) and those without a string id, which cannot be told
    /// apart; returns them with the number of repeats dropped.
    pub(crate) fn dedupe_skipped(&mut self, items: Vec<SkippedItem>) -> (Vec<SkippedItem>, usize) {
        let total = items.len();
        let kept: Vec<SkippedItem> = items
            .into_iter()
            .filter(|item| match &item.id {
                Some(id) => self.skipped_ids.insert(self.fingerprint.of(id)),
                None => true,
            })
            .collect();
        let dropped = total - kept.len();
        (kept, dropped)
    }

    /// Decides whether to follow `next_link` after a page of `raw_len` raw items of which
    /// `progress` were new: decoded items with an unseen id, and skipped items with a string id
    /// not skipped before.
    ///
    /// So a page whose every item was skipped still moves the listing on when their ids are
    /// new: its nextLink leads to the rest, which may decode, and ending there would pass the
    /// listing off as complete. Skipped items without an id cannot show that the page is not
    /// a repeat (the looping nextLinks of §3.4), so a page of only those stops the listing
    /// with [`StopReason::NoProgress`], a guard: the caller treats the listing as partial.
    pub(crate) fn check_next(
        &mut self,
        raw_len: usize,
        progress: usize,
        next_link: Option<&str>,
    ) -> Result<(), StopReason> {
        let Some(link) = next_link else {
            return Err(StopReason::Exhausted);
        };
        if raw_len == 0 {
            return Err(StopReason::EmptyPageWithLink);
        }
        if progress == 0 {
            return Err(StopReason::NoProgress);
        }
        if !self.followed_links.insert(link.to_owned()) {
            return Err(StopReason::RepeatedLink);
        }
        Ok(())
    }

    /// Records the first URL, so a nextLink pointing back at it counts as repeated.
    pub(crate) fn start(&mut self, first: &Url) {
        self.followed_links.insert(first.as_str().to_owned());
    }
}

/// Hosts a nextLink may point to besides the configured API host: Defender's own API domains
/// (geo and numbered hosts appear in nextLinks, §1.1). Anything else would receive the token.
const DEFENDER_API_DOMAINS: &[&str] = &[
    "securitycenter.microsoft.com",
    "security.microsoft.com",
    "securitycenter.windows.com",
    "securitycenter.microsoft.us",
    "security.microsoft.us",
];

pub(crate) fn link_allowed(api_base: &Url, link: &Url) -> bool {
    if link.scheme() == api_base.scheme()
        && link.host_str() == api_base.host_str()
        && link.port_or_known_default() == api_base.port_or_known_default()
    {
        return true;
    }
    link.scheme() == "https"
        && link.host_str().is_some_and(|host| {
            DEFENDER_API_DOMAINS
                .iter()
                .any(|d| host.len() > d.len() && host.ends_with(&format!(".{d}")))
        })
}

/// One page as the pager takes it in: the items that decoded, those that did not, how many
/// raw items the page had, and its nextLink.
struct DecodedPage<T> {
    items: Vec<T>,
    skipped: Vec<SkippedItem>,
    raw_len: usize,
    next_link: Option<String>,
}

/// Decodes the envelope with its items kept as raw text borrowed from `body`, then each item
/// on its own, so one bad item is skipped instead of failing the page (§9.21). A body that is
/// not JSON, or JSON without a `value` array, is still an error of the whole page.
fn decode_page<T: DeserializeOwned>(
    body: &[u8],
    what: &str,
) -> Result<DecodedPage<T>, serde_json::Error> {
    let page: ODataPage<&RawValue> = serde_json::from_slice(body)?;
    let raw_len = page.value.len();
    // Grown as it fills, not sized to `raw_len` up front. Measured on the paging benchmark:
    // sized up front, the peak RSS was about 5 MB higher under glibc's default (dynamic) mmap
    // threshold, with the same live peak: freed page memory the allocator kept.
    let mut items = Vec::new();
    let mut skipped = Vec::new();
    for raw in page.value {
        match decode_item(what, raw) {
            Ok(item) => items.push(item),
            Err(skip) => skipped.push(skip),
        }
    }
    Ok(DecodedPage {
        items,
        skipped,
        raw_len,
        next_link: page.next_link,
    })
}

/// Lists an OData collection one page at a time, never holding the whole tenant in memory.
#[derive(Debug)]
pub struct Pager<T> {
    core: Arc<Core>,
    family: Family,
    what: &'static str,
    next: Option<Url>,
    empty_on_404: bool,
    guard: LoopGuard,
    stats: PagingStats,
    stop: Option<StopReason>,
    skipped: Vec<SkippedItem>,
    _item: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned + Identified> Pager<T> {
    pub(crate) fn new(core: Arc<Core>, first: Url, family: Family, what: &'static str) -> Self {
        let mut guard = LoopGuard::default();
        guard.start(&first);
        Self {
            core,
            family,
            what,
            next: Some(first),
            empty_on_404: false,
            guard,
            stats: PagingStats::default(),
            stop: None,
            skipped: Vec::new(),
            _item: PhantomData,
        }
    }

    /// Treat a 404 on the first page as an empty collection (machines, §4.1).
    pub(crate) fn empty_on_404(mut self) -> Self {
        self.empty_on_404 = true;
        self
    }

    /// The next page of items not seen before, or `None` at the end. Guards stop the listing
    /// with a warning instead of looping (§3.4). Items that cannot be decoded are left out and
    /// kept in [`Self::skipped`]; a page of only such items is not returned empty, paging goes
    /// on to the next one.
    #[tracing::instrument(skip_all, fields(what = self.what, pages = self.stats.pages))]
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>, DefenderError> {
        loop {
            let Some(url) = self.next.take() else {
                self.stop.get_or_insert(StopReason::Exhausted);
                return Ok(None);
            };
            if self.stats.pages >= self.core.options.page_cap {
                tracing::warn!(
                    what = self.what,
                    pages = self.stats.pages,
                    "page cap reached; stopping"
                );
                self.stop = Some(StopReason::PageCap);
                return Ok(None);
            }
            let req = ApiRequest::get(url, self.family, self.what);
            let what = self.what;
            let decoded = self
                .core
                .send_decoded(&req, |body| decode_page::<T>(body, what))
                .await;
            let page = match decoded {
                Ok(page) => page,
                Err(DefenderError::NotFound { .. })
                    if self.empty_on_404 && self.stats.pages == 0 =>
                {
                    tracing::info!(what = self.what, "404 on the collection: treated as empty");
                    self.stop = Some(StopReason::EmptyCollection);
                    return Ok(None);
                }
                Err(e) => return Err(e),
            };
            self.stats.pages += 1;
            self.stats.raw_items += page.raw_len;
            let (fresh, dropped) = self.guard.dedupe(page.items);
            let (skipped, skipped_again) = self.guard.dedupe_skipped(page.skipped);
            // A skipped item with a new id moves the listing on too (see `check_next`).
            let progress = fresh.len() + skipped.iter().filter(|s| s.id.is_some()).count();
            self.stats.duplicates += dropped + skipped_again;
            self.stats.items += fresh.len();
            self.hold_skipped(skipped);
            match self
                .guard
                .check_next(page.raw_len, progress, page.next_link.as_deref())
            {
                Ok(()) => self.follow(page.next_link.as_deref().unwrap_or_default()),
                Err(StopReason::Exhausted) => self.stop = Some(StopReason::Exhausted),
                Err(reason) => {
                    tracing::warn!(
                        what = self.what,
                        ?reason,
                        pages = self.stats.pages,
                        items = self.stats.items,
                        "nextLink loop guard stopped paging"
                    );
                    self.stop = Some(reason);
                }
            }
            if !fresh.is_empty() {
                return Ok(Some(fresh));
            }
        }
    }

    /// Counts a page's skipped items and holds them up to [`MAX_SKIPPED_HELD`]. One warning
    /// per page, not per item: a systematic type change would otherwise log a million lines.
    fn hold_skipped(&mut self, skipped: Vec<SkippedItem>) {
        let Some(first) = skipped.first() else {
            return;
        };
        tracing::warn!(
            what = self.what,
            page = self.stats.pages,
            count = skipped.len(),
            first = %first,
            "items that could not be decoded were skipped"
        );
        self.stats.skipped += skipped.len();
        let room = MAX_SKIPPED_HELD.saturating_sub(self.skipped.len());
        self.skipped.extend(skipped.into_iter().take(room));
    }

    fn follow(&mut self, link: &str) {
        match Url::parse(link) {
            Ok(url) if link_allowed(&self.core.settings.endpoints.api_base, &url) => {
                self.next = Some(url);
            }
            Ok(url) => {
                tracing::warn!(
                    what = self.what,
                    host = url.host_str(),
                    "nextLink to a foreign host; stopping"
                );
                self.stop = Some(StopReason::BadLink);
            }
            Err(e) => {
                tracing::warn!(what = self.what, error = %e, "nextLink is not a URL; stopping");
                self.stop = Some(StopReason::BadLink);
            }
        }
    }

    /// Drains the pager into one vector. Only for collections known to be small. Skipped items
    /// are logged and lost with the pager: callers that must account for them page themselves.
    pub async fn collect_all(mut self) -> Result<Vec<T>, DefenderError> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page);
        }
        Ok(all)
    }

    pub fn stats(&self) -> PagingStats {
        self.stats
    }

    /// Why paging ended; `None` while pages remain.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.stop
    }

    /// The items skipped so far because they could not be decoded, in page order, each once
    /// (by id), at most [`MAX_SKIPPED_HELD`] of them; [`PagingStats::skipped`] counts all.
    pub fn skipped(&self) -> &[SkippedItem] {
        &self.skipped
    }

    /// Takes the skipped items held so far, making room for [`MAX_SKIPPED_HELD`] more. A
    /// caller that takes them after every page has seen them all when the lengths it took add
    /// up to [`PagingStats::skipped`].
    pub fn take_skipped(&mut self) -> Vec<SkippedItem> {
        std::mem::take(&mut self.skipped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Item(&'static str);
    impl Identified for Item {
        fn id(&self) -> &str {
            self.0
        }
    }

    #[test]
    fn dedupe_keeps_first_sighting() {
        let mut g = LoopGuard::default();
        let (fresh, dropped) = g.dedupe(vec![Item("a"), Item("b"), Item("a")]);
        assert_eq!((fresh.len(), dropped), (2, 1));
        let (fresh, dropped) = g.dedupe(vec![Item("b"), Item("c")]);
        assert_eq!(fresh.iter().map(|i| i.0).collect::<Vec<_>>(), ["c"]);
        assert_eq!(dropped, 1);
    }

    fn skip(id: Option<&str>) -> SkippedItem {
        SkippedItem {
            listing: "machines".into(),
            id: id.map(str::to_owned),
            machine_id: None,
            field: "lastSeen".into(),
            reason: "not a timestamp".into(),
        }
    }

    #[test]
    fn skipped_items_are_deduped_apart_from_decoded_ones() {
        let mut g = LoopGuard::default();
        let (kept, dropped) = g.dedupe_skipped(vec![skip(Some("a")), skip(None), skip(Some("a"))]);
        assert_eq!((kept, dropped), (vec![skip(Some("a")), skip(None)], 1));
        let (kept, dropped) = g.dedupe_skipped(vec![skip(Some("a")), skip(None)]);
        assert_eq!((kept, dropped), (vec![skip(None)], 1));
        // "a" decodes later: it is new among the decoded items.
        let (fresh, dropped) = g.dedupe(vec![Item("a")]);
        assert_eq!((fresh.len(), dropped), (1, 0));
    }

    #[test]
    fn loop_guards() {
        let first = Url::parse("https://api.security.microsoft.com/api/machines").unwrap();
        let mut g = LoopGuard::default();
        g.start(&first);
        assert_eq!(g.check_next(5, 5, None), Err(StopReason::Exhausted));
        assert_eq!(
            g.check_next(5, 5, Some("https://h/api/machines?$skip=5")),
            Ok(())
        );
        assert_eq!(
            g.check_next(5, 5, Some("https://h/api/machines?$skip=5")),
            Err(StopReason::RepeatedLink)
        );
        assert_eq!(
            g.check_next(5, 5, Some(first.as_str())),
            Err(StopReason::RepeatedLink)
        );
        assert_eq!(
            g.check_next(5, 0, Some("https://h/x?2")),
            Err(StopReason::NoProgress)
        );
        assert_eq!(
            g.check_next(0, 0, Some("https://h/x?3")),
            Err(StopReason::EmptyPageWithLink)
        );
        assert_eq!(g.check_next(3, 1, Some("https://h/x?4")), Ok(()));
        assert!(StopReason::NoProgress.is_guard());
        assert!(!StopReason::Exhausted.is_guard());
    }

    #[test]
    fn next_links_stay_on_defender_hosts() {
        let base = Url::parse("https://api.security.microsoft.com/").unwrap();
        let ok = |s: &str| link_allowed(&base, &Url::parse(s).unwrap());
        assert!(ok(
            "https://api.security.microsoft.com/api/machines?$skip=1"
        ));
        assert!(ok(
            "https://api-eu3.securitycenter.microsoft.com/api/machines?$skip=1"
        ));
        assert!(!ok(
            "http://api-eu3.securitycenter.microsoft.com/api/machines"
        ));
        assert!(!ok("https://evil.example/api/machines"));
        assert!(!ok("https://notsecurity.microsoft.com.evil.example/"));
        let sim = Url::parse("http://127.0.0.1:4000/").unwrap();
        assert!(link_allowed(
            &sim,
            &Url::parse("http://127.0.0.1:4000/api/x?$skip=5").unwrap()
        ));
        assert!(!link_allowed(
            &sim,
            &Url::parse("http://127.0.0.1:4001/api/x").unwrap()
        ));
    }
}
