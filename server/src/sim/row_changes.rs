//! Machine-vulnerability rows changed after generation, and Defender's feed of those changes
//! (`SoftwareVulnerabilityChangesByMachine`, defender-api.md §4.13, §9.25).
//!
//! The generated rows are immutable (a million of them, shared by every listing); a fixed row
//! is remembered by its index and a newly found one appended, so the row listings serve the
//! tenant as it is now and the feed says what changed and when. A row fixed and found again
//! appears in the feed twice under one id, as a device that changes group does in Defender's.
//! The tenant-wide figures (a CVE's exposed machines, a product's exposure) stay those of
//! the generated data.

use std::collections::HashSet;

use super::clock::Nanos;
use super::dataset::Dataset;

/// A change's `status` in the feed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowStatus {
    New,
    Fixed,
}

impl RowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RowStatus::New => "New",
            RowStatus::Fixed => "Fixed",
        }
    }
}

/// One entry of the feed.
#[derive(Clone, Copy, Debug)]
pub struct RowEvent {
    pub machine: u32,
    pub cve: u32,
    pub status: RowStatus,
    pub at: Nanos,
}

#[derive(Default, Clone)]
pub struct RowChanges {
    /// Generated rows fixed since, by index into `Dataset::rows`.
    fixed: HashSet<u32>,
    /// Rows found since generation and still present, as (machine, cve).
    found: Vec<(u32, u32)>,
    /// Every change, oldest first.
    pub events: Vec<RowEvent>,
}

impl RowChanges {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The rows present now as (machine, cve): the generated ones not fixed, then the found.
    pub fn live(&self, d: &Dataset) -> Vec<(u32, u32)> {
        d.rows
            .iter()
            .enumerate()
            .filter(|(r, _)| !u32::try_from(*r).is_ok_and(|r| self.fixed.contains(&r)))
            .map(|(_, row)| *row)
            .chain(self.found.iter().copied())
            .collect()
    }

    fn generated(d: &Dataset, machine: u32, cve: u32) -> Option<u32> {
        d.rows_by_machine
            .get(machine as usize)
            .iter()
            .copied()
            .find(|r| d.rows[*r as usize].1 == cve)
    }

    /// Fixes the row (machine, cve) at `at`; false if it was not present.
    pub fn fix(&mut self, d: &Dataset, machine: u32, cve: u32, at: Nanos) -> bool {
        let present = if let Some(i) = self.found.iter().position(|r| *r == (machine, cve)) {
            self.found.remove(i);
            true
        } else {
            Self::generated(d, machine, cve).is_some_and(|r| self.fixed.insert(r))
        };
        if present {
            self.events.push(RowEvent {
                machine,
                cve,
                status: RowStatus::Fixed,
                at,
            });
        }
        present
    }

    /// Finds the row (machine, cve) at `at`; false if it was present already.
    pub fn find(&mut self, d: &Dataset, machine: u32, cve: u32, at: Nanos) -> bool {
        if self.found.contains(&(machine, cve)) {
            return false;
        }
        match Self::generated(d, machine, cve) {
            Some(r) if !self.fixed.remove(&r) => return false,
            Some(_) => {}
            None => self.found.push((machine, cve)),
        }
        self.events.push(RowEvent {
            machine,
            cve,
            status: RowStatus::New,
            at,
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::generator::generate;

    #[test]
    fn fixing_and_finding_change_the_live_rows_and_log_each_change() {
        let d = generate(3, 20, "t");
        let mut changes = RowChanges::default();
        let (m, c) = d.rows[0];
        assert!(changes.fix(&d, m, c, 10));
        assert!(!changes.fix(&d, m, c, 11), "already fixed");
        assert_eq!(changes.live(&d).len(), d.rows.len() - 1);
        assert!(!changes.live(&d).contains(&(m, c)));
        assert!(changes.find(&d, m, c, 12));
        assert!(!changes.find(&d, m, c, 13), "already present");
        assert_eq!(changes.live(&d).len(), d.rows.len());
        // A CVE the machine did not have.
        let other = (0..d.cves.len() as u32)
            .find(|k| RowChanges::generated(&d, m, *k).is_none())
            .unwrap();
        assert!(changes.find(&d, m, other, 14));
        assert!(changes.live(&d).contains(&(m, other)));
        assert!(changes.fix(&d, m, other, 15));
        assert!(!changes.live(&d).contains(&(m, other)));
        let statuses: Vec<_> = changes.events.iter().map(|e| e.status).collect();
        use RowStatus::*;
        assert_eq!(statuses, [Fixed, New, New, Fixed]);
    }
}
