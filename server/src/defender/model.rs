//! Wire models of the Defender API, named as in Microsoft's docs (defender-api.md §5).
//!
//! Every model ignores unknown fields (Microsoft adds fields without notice, §3.2), accepts
//! null wherever the docs allow it, and uses tolerant enums: case- and separator-insensitive,
//! with unknown values kept in an `Other(raw)` variant instead of failing (§9.14).

/// Declares a tolerant string enum: `Variant => "WireName"` pairs plus `Other(String)`.
macro_rules! tolerant_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $wire:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value not in the documented set, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The documented wire spelling (or the raw value for `Other`).
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other(raw) => raw,
                }
            }

            /// Parses case-insensitively, ignoring spaces, `-` and `_`.
            pub fn parse(raw: &str) -> Self {
                $( if $crate::defender::model::de::loose_eq(raw, $wire) { return Self::$variant; } )+
                Self::Other(raw.to_owned())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                Ok(Self::parse(&raw))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

pub mod alert;
pub mod de;
pub mod hunting;
pub mod machine;
pub mod machine_action;
pub mod network_report;
pub mod software;
pub mod vulnerability;
pub mod vulnerability_change;

pub use alert::{
    Alert, AlertClassification, AlertComment, AlertDetermination, AlertEvidence, AlertSeverity,
    AlertStatus, InvestigationState, RelatedUser,
};
pub use hunting::{HuntingColumn, HuntingResult};
pub use machine::{
    DeviceValue, ExposureLevel, HealthStatus, IpAddress, Machine, OnboardingStatus, RiskScore,
    VmMetadata,
};
pub use machine_action::{MachineAction, MachineActionStatus, MachineActionType, RelatedFileInfo};
pub use software::{MachineRef, Software};
pub use vulnerability::{
    CveSupportability, MachineVulnerability, Vulnerability, VulnerabilitySeverity,
};
pub use vulnerability_change::{ChangeStatus, MachineVulnerabilityChange};

use serde::Deserialize;

/// Entities that carry an `id`, so pagers can de-duplicate across pages (§3.4).
pub trait Identified {
    fn id(&self) -> &str;
}

/// One OData collection page (§3.2).
#[derive(Debug, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub(crate) struct ODataPage<T> {
    /// Required: a success body without it is JSON of another shape, not a page. Read as an
    /// empty last page it would end a listing early, and the sync would replace the
    /// machine-vulnerability rows with the pages before it. `null` still means empty.
    #[serde(deserialize_with = "de::null_default")]
    pub value: Vec<T>,
    #[serde(rename = "@odata.nextLink", default)]
    pub next_link: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_envelope_decodes() {
        let page: ODataPage<Software> = serde_json::from_str(
            r#"{"@odata.context":"https://api.security.microsoft.com/api/$metadata#Software",
            "value":[{"id":"a-_-b"}],"@odata.nextLink":"https://api.security.microsoft.com/api/Software?$skip=1"}"#,
        )
        .unwrap();
        assert_eq!(page.value.len(), 1);
        assert!(page.next_link.unwrap().ends_with("$skip=1"));
        let empty: ODataPage<Software> = serde_json::from_str(r#"{"value":null}"#).unwrap();
        assert!(empty.value.is_empty() && empty.next_link.is_none());
        for shape in [
            r#"{}"#,
            r#"{"@odata.context":"c","items":[{"id":"a-_-b"}]}"#,
        ] {
            let err = serde_json::from_str::<ODataPage<Software>>(shape).unwrap_err();
            assert!(err.to_string().contains("missing field `value`"), "{err}");
        }
    }
}
