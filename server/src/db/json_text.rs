//! JSON as the database stores it: TEXT on SQLite, `jsonb` on PostgreSQL.
//!
//! The code builds and parses the JSON itself (serde), so what crosses the driver is its text.
//! sqlx would bind a `String` as PostgreSQL `text`, which a `jsonb` column refuses (there is no
//! implicit cast), and would not decode a `jsonb` column into a `String`; a cast in every
//! statement would have to differ between the backends. These two types carry the text in
//! `jsonb`'s own binary form instead (a version byte, then the text), so every statement stays
//! one SQL string for both backends.
//!
//! PostgreSQL hands back its normalised text (`["a", "b"]`, object keys reordered), never the
//! bytes written: readers parse it, and nothing compares stored JSON as text.

//!
//! Each backend's encoding is its own: `sqlite/json_text.rs` and `postgres/json_text.rs`.

/// Stored JSON text, to bind (borrowed or owned) or to read (owned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonText<S = String>(pub S);

/// Stored JSON text in a nullable column, read (`NULL` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaybeJsonText(pub Option<String>);

impl From<JsonText> for String {
    fn from(json: JsonText) -> Self {
        json.0
    }
}

impl From<MaybeJsonText> for Option<String> {
    fn from(json: MaybeJsonText) -> Self {
        json.0
    }
}
