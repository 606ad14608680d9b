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

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueFormat, PgValueRef};
use sqlx::sqlite::{SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type, ValueRef};

/// PostgreSQL's type ids of `json` and `jsonb` (pg_type.oid, fixed for built-in types).
const JSON_OID: Oid = Oid(114);
const JSONB_OID: Oid = Oid(3802);

/// The only `jsonb` binary format there is: a version byte of 1 before the text.
const JSONB_VERSION: u8 = 1;

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

impl<S> Type<Sqlite> for JsonText<S> {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for JsonText<String> {
    fn encode(self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode(self.0, buf)
    }

    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode_by_ref(&self.0, buf)
    }
}

impl<'q> Encode<'q, Sqlite> for JsonText<&'q str> {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <&'q str as Encode<'q, Sqlite>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Sqlite> for JsonText {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        <String as Decode<'r, Sqlite>>::decode(value).map(JsonText)
    }
}

impl Type<Sqlite> for MaybeJsonText {
    fn type_info() -> SqliteTypeInfo {
        <JsonText as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <JsonText as Type<Sqlite>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Sqlite> for MaybeJsonText {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        if value.is_null() {
            return Ok(MaybeJsonText(None));
        }
        <JsonText as Decode<'r, Sqlite>>::decode(value).map(|j| MaybeJsonText(Some(j.0)))
    }
}

fn is_json(ty: &PgTypeInfo) -> bool {
    matches!(ty.oid(), Some(JSON_OID) | Some(JSONB_OID))
}

impl<S> Type<Postgres> for JsonText<S> {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(JSONB_OID)
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        is_json(ty)
    }
}

impl<S: AsRef<str>> Encode<'_, Postgres> for JsonText<S> {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        buf.push(JSONB_VERSION);
        buf.extend_from_slice(self.0.as_ref().as_bytes());
        Ok(IsNull::No)
    }
}

/// The text of a `json` or `jsonb` value: `jsonb` in binary form starts with its version.
fn pg_text(value: PgValueRef<'_>) -> Result<String, BoxDynError> {
    let binary_jsonb =
        value.format() == PgValueFormat::Binary && value.type_info().oid() == Some(JSONB_OID);
    let mut bytes = value.as_bytes()?;
    if binary_jsonb {
        match bytes.split_first() {
            Some((&JSONB_VERSION, text)) => bytes = text,
            _ => return Err("jsonb value of an unknown binary format version".into()),
        }
    }
    Ok(std::str::from_utf8(bytes)?.to_owned())
}

impl<'r> Decode<'r, Postgres> for JsonText {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        pg_text(value).map(JsonText)
    }
}

impl Type<Postgres> for MaybeJsonText {
    fn type_info() -> PgTypeInfo {
        <JsonText as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <JsonText as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for MaybeJsonText {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        if value.is_null() {
            return Ok(MaybeJsonText(None));
        }
        pg_text(value).map(|s| MaybeJsonText(Some(s)))
    }
}
