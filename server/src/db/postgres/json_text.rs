//! [`JsonText`] and [`MaybeJsonText`] on PostgreSQL: `jsonb`, in its binary form.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueFormat, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type, ValueRef};

use crate::db::{JsonText, MaybeJsonText};

/// PostgreSQL's type ids of `json` and `jsonb` (pg_type.oid, fixed for built-in types).
const JSON_OID: Oid = Oid(114);
const JSONB_OID: Oid = Oid(3802);

/// The only `jsonb` binary format there is: a version byte of 1 before the text.
const JSONB_VERSION: u8 = 1;

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
