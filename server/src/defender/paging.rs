//! Page-by-page listing that follows `@odata.nextLink`, de-duplicates by id and stops on
//! nextLink loops (defender-api.md §3.4, §9.1, §9.2, §10).

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use url::Url;

use super::budget::Family;
use super::error::DefenderError;
use super::http::{ApiRequest, Core};
use super::model::{Identified, ODataPage};

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

/// Counters of one listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PagingStats {
    pub pages: usize,
    /// Items handed to the caller.
    pub items: usize,
    /// Items dropped because their id was already seen (unstable paging, §3.4).
    pub duplicates: usize,
}

/// The loop guard of §3.4, apart from IO so it can be tested alone.
#[derive(Debug, Default)]
pub(crate) struct LoopGuard {
    seen_ids: HashSet<u128>,
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

    /// Decides whether to follow `next_link` after a page of `raw_len` items of which
    /// `fresh_len` were new.
    pub(crate) fn check_next(
        &mut self,
        raw_len: usize,
        fresh_len: usize,
        next_link: Option<&str>,
    ) -> Result<(), StopReason> {
        let Some(link) = next_link else {
            return Err(StopReason::Exhausted);
        };
        if raw_len == 0 {
            return Err(StopReason::EmptyPageWithLink);
        }
        if fresh_len == 0 {
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
            _item: PhantomData,
        }
    }

    /// Treat a 404 on the first page as an empty collection (machines, §4.1).
    pub(crate) fn empty_on_404(mut self) -> Self {
        self.empty_on_404 = true;
        self
    }

    /// The next page of items not seen before, or `None` at the end. Guards stop the listing
    /// with a warning instead of looping (§3.4).
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
            let page: ODataPage<T> = match self.core.send_json(&req).await {
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
            let raw_len = page.value.len();
            let (fresh, dropped) = self.guard.dedupe(page.value);
            self.stats.duplicates += dropped;
            self.stats.items += fresh.len();
            match self
                .guard
                .check_next(raw_len, fresh.len(), page.next_link.as_deref())
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

    /// Drains the pager into one vector. Only for collections known to be small.
    pub async fn collect_all(mut self) -> Result<Vec<T>, DefenderError> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page);
        }
        Ok(all)
    }

    /// Items skipped because they could not be decoded (none until per-item decoding lands).
    pub fn skipped(&self) -> &[super::skipped::SkippedItem] {
        &[]
    }

    pub fn stats(&self) -> PagingStats {
        self.stats
    }

    /// Why paging ended; `None` while pages remain.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.stop
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
