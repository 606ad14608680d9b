//! [`JsonText`] and [`MaybeJsonText`] on SQLite: plain TEXT.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::sqlite::{SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Sqlite, Type, ValueRef};

use crate::db::{JsonText, MaybeJsonText};

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
