//! What the last network-scan upload did, as the import page shows it once.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportOutcome {
    Imported {
        observations: usize,
        added: usize,
        updated: usize,
        skipped_without_mac: usize,
    },
    /// Nothing was imported, for this reason.
    Failed { message: String },
}
