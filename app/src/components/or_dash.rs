//! The dash every page shows where a value is missing.

/// A text to show, or a dash where there is none (or it is empty).
pub fn or_dash(v: Option<String>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into())
}
