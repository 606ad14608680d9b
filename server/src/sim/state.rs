//! Shared simulator state behind the HTTP handlers and `SimControl`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};

use super::actions::ActionStore;
use super::alerts::Alert;
use super::clock::Nanos;
use super::config::{SimApp, SimConfig};
use super::dataset::Dataset;
use super::faults::Faults;
use super::row_changes::RowChanges;
use super::throttle::Throttle;

/// How many issued access tokens [`Tokens::recent`] keeps: enough for any test, and bounded
/// so a long-running demo does not grow.
pub const KEPT_TOKENS: usize = 64;

/// Token bookkeeping for the mid-sync expiry fault (§11.5) and for leak tests.
#[derive(Default)]
pub struct Tokens {
    pub issued: u64,
    /// Tokens with a serial at or below this are treated as expired.
    pub expired_up_to: u64,
    /// The last [`KEPT_TOKENS`] access tokens issued.
    pub recent: VecDeque<String>,
}

impl Tokens {
    pub fn keep(&mut self, token: &str) {
        if self.recent.len() == KEPT_TOKENS {
            self.recent.pop_front();
        }
        self.recent.push_back(token.to_owned());
    }
}

pub struct Sim {
    pub config: SimConfig,
    pub data: Dataset,
    pub key: [u8; 32],
    pub apps: Mutex<Vec<SimApp>>,
    pub revoked: Mutex<HashSet<String>>,
    pub faults: Mutex<Faults>,
    pub actions: Mutex<ActionStore>,
    pub throttle: Mutex<Throttle>,
    pub tokens: Mutex<Tokens>,
    /// Alerts changed after generation, by index: an analyst's work in the portal.
    pub alert_updates: Mutex<HashMap<u32, AlertUpdate>>,
    /// Machine-vulnerability rows fixed or found since generation, and their feed.
    pub row_changes: Mutex<RowChanges>,
    /// Advanced hunting's row cap and the queries it was asked.
    pub hunting: Mutex<HuntingLog>,
}

/// Advanced hunting's row cap (settable, so a small tenant can exceed it) and what it was
/// asked, for tests that check how a console shards its queries.
#[derive(Debug)]
pub struct HuntingLog {
    pub max_rows: usize,
    /// Every query text, in order (the first [`HUNTING_QUERIES_KEPT`]).
    pub queries: Vec<String>,
}

/// Queries kept in the log: a test asks a few hundred at most.
pub const HUNTING_QUERIES_KEPT: usize = 10_000;

/// A change made to a generated alert.
#[derive(Clone, Copy, Debug)]
pub struct AlertUpdate {
    /// Index into `alerts::STATUS`.
    pub status: u8,
    /// Its new `lastUpdateTime`.
    pub at: Nanos,
}

/// `alert` as served now: generated, then changed by `update` if there is one.
pub fn alert_now(alert: &Alert, update: Option<&AlertUpdate>) -> Alert {
    let mut alert = alert.clone();
    if let Some(u) = update {
        alert.status = u.status;
        alert.updated_at = Some(u.at);
    }
    alert
}

/// Locks ignoring poisoning: a panicking handler must not wedge the whole simulator.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Sim {
    pub fn new(config: SimConfig, data: Dataset) -> Self {
        let faults = config.faults.clone();
        let apps = config.apps.clone();
        let hunting = HuntingLog {
            max_rows: config.hunting_max_rows,
            queries: Vec::new(),
        };
        Self {
            config,
            data,
            key: rand::random(),
            apps: Mutex::new(apps),
            revoked: Mutex::default(),
            faults: Mutex::new(faults),
            actions: Mutex::default(),
            throttle: Mutex::default(),
            tokens: Mutex::default(),
            alert_updates: Mutex::default(),
            row_changes: Mutex::default(),
            hunting: Mutex::new(hunting),
        }
    }
}
