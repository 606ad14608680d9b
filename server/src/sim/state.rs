//! Shared simulator state behind the HTTP handlers and `SimControl`.

use std::collections::{HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};

use super::actions::ActionStore;
use super::config::{SimApp, SimConfig};
use super::dataset::Dataset;
use super::faults::Faults;
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
}

/// Locks ignoring poisoning: a panicking handler must not wedge the whole simulator.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Sim {
    pub fn new(config: SimConfig, data: Dataset) -> Self {
        let faults = config.faults.clone();
        let apps = config.apps.clone();
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
        }
    }
}
