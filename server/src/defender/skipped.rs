//! Items of a listing that could not be decoded (placeholder until per-item decoding lands).

/// One item of a listing that could not be decoded and was left out of its page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedItem {
    pub listing: String,
    pub id: Option<String>,
    pub machine_id: Option<String>,
    pub field: String,
    pub reason: String,
}
