//! The endpoint list page: the list held in memory, so any filter and sort over 100k endpoints answers in a
//! few milliseconds (SQLite cannot index every filter × sort combination).
//!
//! The cache is rebuilt on the first request after the inventory changed. Every write path
//! calls [`ListCache::invalidate`] (imports, re-models, disabling Defender, sensor ingest),
//! which bumps a counter in the database; the key holds that counter and the latest sync run,
//! both read per request, so a change made through any replica (or by a sync) is seen by all.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};

use crate::db::{EndpointViews, ListGeneration};
use app::model::endpoint::{EndpointQuery, EndpointRow};

use app::model::endpoint::EndpointPage;

use super::endpoint_row::cached_row;
use crate::db::endpoint_query as q;
use crate::db::DbError;

pub async fn list(
    views: &dyn EndpointViews,
    cache: &ListCache,
    query: EndpointQuery,
) -> Result<EndpointPage, DbError> {
    let query = query.normalised();
    let result = cache.page(views, &query).await?;
    Ok(EndpointPage {
        rows: result.rows,
        total: result.total,
        profiles: result.profiles,
        onboarding_states: result.onboarding_states,
        device_groups: result.device_groups,
        tags: result.tags,
        query,
    })
}

/// Every row of the filtered list, in list order, for the CSV export.
pub async fn all_rows(
    views: &dyn EndpointViews,
    cache: &ListCache,
    query: EndpointQuery,
) -> Result<Vec<EndpointRow>, DbError> {
    cache.all(views, &query.normalised()).await
}

/// One cached row: what the list shows, plus lower-cased text for the search.
struct Entry {
    row: EndpointRow,
    search: String,
}

struct Snapshot {
    key: (u64, q::ListKey),
    entries: Arc<Vec<Entry>>,
    /// Position in `entries` by endpoint id, for pages that show endpoints the list holds.
    by_id: HashMap<i64, usize>,
    profiles: Vec<String>,
    onboarding_states: Vec<String>,
    /// The filters' choices: every device group and tag (one spelling per tag, any case).
    device_groups: Vec<String>,
    tags: Vec<String>,
}

/// Which snapshot of the list a read model was built from: equal stamps, same rows. Lets a
/// page keep what it derives from the rows until the list itself changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotStamp((u64, q::ListKey));

#[derive(Default)]
pub struct ListCache {
    generation: AtomicU64,
    snapshot: Mutex<Option<Arc<Snapshot>>>,
}

/// One device group's figures for the dashboard ([`ListCache::group_counts`]).
#[derive(Debug, Default)]
pub struct GroupCounts {
    pub by_risk: BTreeMap<&'static str, u64>,
    /// Endpoints by (onboarding status, seen on the network, known to Defender).
    pub coverage: BTreeMap<(Option<String>, bool, bool), u64>,
    pub device_groups: Vec<String>,
}

/// A page of the list and the filter choices.
pub struct ListResult {
    pub rows: Vec<EndpointRow>,
    pub total: u64,
    pub profiles: Vec<String>,
    pub onboarding_states: Vec<String>,
    pub device_groups: Vec<String>,
    pub tags: Vec<String>,
}

impl ListCache {
    /// Marks the cached list stale, here and on every replica; the next request reloads it.
    /// The local mark holds even when the database cannot be written.
    pub async fn invalidate(&self, generation: &dyn ListGeneration) {
        self.generation.fetch_add(1, AtomicOrdering::SeqCst);
        if let Err(e) = generation.bump().await {
            tracing::warn!(error = %e, "cannot mark the other replicas' endpoint lists stale");
        }
    }

    async fn snapshot(&self, views: &dyn EndpointViews) -> Result<Arc<Snapshot>, DbError> {
        let key = (
            self.generation.load(AtomicOrdering::SeqCst),
            views.list_key().await?,
        );
        if let Some(s) = self.snapshot.lock().expect("list cache lock").as_ref() {
            if s.key == key {
                return Ok(Arc::clone(s));
            }
        }
        let rows = views.all_for_cache().await?;
        let entries: Vec<Entry> = rows
            .into_iter()
            .map(|r| {
                let (row, search) = cached_row(r);
                Entry { row, search }
            })
            .collect();
        let mut device_groups = BTreeSet::new();
        let mut tags: BTreeMap<String, String> = BTreeMap::new();
        for e in &entries {
            device_groups.extend(e.row.device_group.clone());
            for t in &e.row.tags {
                tags.entry(t.to_lowercase()).or_insert_with(|| t.clone());
            }
        }
        let by_id = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.row.id, i))
            .collect();
        let snapshot = Arc::new(Snapshot {
            key,
            entries: Arc::new(entries),
            by_id,
            profiles: views.profile_names().await?,
            onboarding_states: views.onboarding_states().await?,
            device_groups: device_groups.into_iter().collect(),
            tags: tags.into_values().collect(),
        });
        *self.snapshot.lock().expect("list cache lock") = Some(Arc::clone(&snapshot));
        Ok(snapshot)
    }

    /// Filters, sorts and pages in memory. `query` must be normalised.
    pub async fn page(
        &self,
        views: &dyn EndpointViews,
        query: &EndpointQuery,
    ) -> Result<ListResult, DbError> {
        let snapshot = self.snapshot(views).await?;
        let start = (query.page as usize - 1) * query.page_size as usize;
        let end = start + query.page_size as usize;
        let (rows, total) = select(&snapshot.entries, query, Some(end));
        let page = rows.into_iter().skip(start).cloned().collect();
        Ok(ListResult {
            rows: page,
            total: total as u64,
            profiles: snapshot.profiles.clone(),
            onboarding_states: snapshot.onboarding_states.clone(),
            device_groups: snapshot.device_groups.clone(),
            tags: snapshot.tags.clone(),
        })
    }

    /// The list rows of `ids` (those still in the inventory) and every device group, from one
    /// snapshot: other pages show endpoints exactly as the list does.
    /// The current snapshot's stamp (loading the snapshot if it is stale).
    pub async fn stamp(&self, views: &dyn EndpointViews) -> Result<SnapshotStamp, DbError> {
        Ok(SnapshotStamp(self.snapshot(views).await?.key.clone()))
    }

    /// Calls `f` with each of these endpoints' rows the snapshot holds, without copying them,
    /// and returns the snapshot's stamp.
    pub async fn visit_rows(
        &self,
        views: &dyn EndpointViews,
        ids: impl IntoIterator<Item = i64>,
        mut f: impl FnMut(&EndpointRow),
    ) -> Result<SnapshotStamp, DbError> {
        let snapshot = self.snapshot(views).await?;
        for id in ids {
            if let Some(&i) = snapshot.by_id.get(&id) {
                f(&snapshot.entries[i].row);
            }
        }
        Ok(SnapshotStamp(snapshot.key.clone()))
    }

    pub async fn rows_of(
        &self,
        views: &dyn EndpointViews,
        ids: impl IntoIterator<Item = i64>,
    ) -> Result<(HashMap<i64, EndpointRow>, Vec<String>), DbError> {
        let snapshot = self.snapshot(views).await?;
        let rows = ids
            .into_iter()
            .filter_map(|id| {
                let i = *snapshot.by_id.get(&id)?;
                Some((id, snapshot.entries[i].row.clone()))
            })
            .collect();
        Ok((rows, snapshot.device_groups.clone()))
    }

    /// Of one device group's endpoints: how many at each risk level (by `RiskLevel::as_str`)
    /// and in each onboarding state, seen on the network or not; with every device group, from
    /// one snapshot.
    pub async fn group_counts(
        &self,
        views: &dyn EndpointViews,
        group: &str,
    ) -> Result<GroupCounts, DbError> {
        let snapshot = self.snapshot(views).await?;
        let mut counts = GroupCounts {
            device_groups: snapshot.device_groups.clone(),
            ..GroupCounts::default()
        };
        for r in snapshot
            .entries
            .iter()
            .map(|e| &e.row)
            .filter(|r| r.device_group.as_deref() == Some(group))
        {
            *counts.by_risk.entry(r.risk_level.as_str()).or_default() += 1;
            let key = (
                r.onboarding_status.clone(),
                r.source_network,
                r.source_defender,
            );
            *counts.coverage.entry(key).or_default() += 1;
        }
        Ok(counts)
    }

    /// Every device group, as the list names them.
    pub async fn device_groups(&self, views: &dyn EndpointViews) -> Result<Vec<String>, DbError> {
        Ok(self.snapshot(views).await?.device_groups.clone())
    }

    /// Every matching row in list order (the CSV export).
    pub async fn all(
        &self,
        views: &dyn EndpointViews,
        query: &EndpointQuery,
    ) -> Result<Vec<EndpointRow>, DbError> {
        let snapshot = self.snapshot(views).await?;
        Ok(select(&snapshot.entries, query, None)
            .0
            .into_iter()
            .cloned()
            .collect())
    }
}

fn matches(e: &Entry, query: &EndpointQuery, needle: &str) -> bool {
    let r = &e.row;
    (needle.is_empty() || e.search.contains(needle))
        && (query.risk.is_empty() || r.risk_level.as_str() == query.risk)
        && (query.profile.is_empty() || r.profile_name.as_deref() == Some(query.profile.as_str()))
        && match query.source.as_str() {
            "network" => r.source_network,
            "defender" => r.source_defender,
            "both" => r.source_network && r.source_defender,
            "defender_only" => r.source_defender && !r.source_network,
            _ => true,
        }
        && match query.onboarding.as_str() {
            "" => true,
            "none" => r.onboarding_status.is_none(),
            status => r.onboarding_status.as_deref() == Some(status),
        }
        && (query.group.is_empty() || r.device_group.as_deref() == Some(query.group.as_str()))
        && (query.tag.is_empty() || r.tags.iter().any(|t| t.eq_ignore_ascii_case(&query.tag)))
}

/// SQL's order: NULL before any value when ascending.
fn by_text(a: &Option<String>, b: &Option<String>) -> Ordering {
    a.cmp(b)
}

/// The matching rows in list order, only the first `first` of them when given (a page needs
/// no more: partial selection is linear, a full sort of 100k rows is not), and the total.
fn select<'a>(
    entries: &'a [Entry],
    query: &EndpointQuery,
    first: Option<usize>,
) -> (Vec<&'a EndpointRow>, usize) {
    let needle = query.q.to_lowercase();
    let mut rows: Vec<&EndpointRow> = entries
        .iter()
        .filter(|e| matches(e, query, &needle))
        .map(|e| &e.row)
        .collect();
    let key = |a: &EndpointRow, b: &EndpointRow| -> Ordering {
        let primary = match query.sort.as_str() {
            "mac" => by_text(&a.mac, &b.mac),
            "ip" => by_text(&a.ip, &b.ip),
            "hostname" => by_text(&a.hostname, &b.hostname),
            "vendor" => by_text(&a.mac_vendor, &b.mac_vendor),
            "profile" => by_text(&a.profile_name, &b.profile_name),
            "os" => by_text(&a.os, &b.os),
            "last_seen" => a.last_seen.cmp(&b.last_seen),
            _ => a.risk_level.cmp(&b.risk_level),
        };
        // The id breaks ties, so pages are stable.
        primary.then(a.id.cmp(&b.id))
    };
    let order = |a: &&EndpointRow, b: &&EndpointRow| {
        if query.dir == "desc" {
            key(b, a)
        } else {
            key(a, b)
        }
    };
    let total = rows.len();
    if let Some(n) = first.filter(|n| *n < rows.len()) {
        rows.select_nth_unstable_by(n, order);
        rows.truncate(n);
    }
    rows.sort_unstable_by(order);
    (rows, total)
}
