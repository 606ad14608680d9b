//! The identity evidence stored with each endpoint (`endpoint.merge_evidence`): why each of
//! its Defender machines belongs to it, MACs that several live machines report, and what the
//! rules refused to join. Versioned, so a later shape can still read what an older version
//! wrote; the first shape (a bare list of joins) is read as version 1's joins.

use serde::{Deserialize, Serialize};

/// Which rule put a machine on the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Rule {
    /// A MAC of a physical adapter that no other live machine reports.
    #[serde(rename = "mac")]
    Mac,
    /// An IP address and host name that network discovery saw recently.
    #[serde(rename = "ip+hostname")]
    IpHostname,
    /// A re-imaged device's older record (`isPotentialDuplication`, same name, seen earlier).
    #[serde(rename = "reimage-duplicate")]
    ReimageDuplicate,
    /// Defender merged this record into the endpoint's machine (`mergedIntoMachineId`).
    #[serde(rename = "merged-into")]
    MergedInto,
    /// Kept where an earlier sync put it: nothing contradicts that join.
    #[serde(rename = "earlier-link")]
    EarlierLink,
    /// No discovered endpoint matched; the endpoint exists for this machine alone.
    #[serde(rename = "defender-only")]
    DefenderOnly,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Mac => "mac",
            Rule::IpHostname => "ip+hostname",
            Rule::ReimageDuplicate => "reimage-duplicate",
            Rule::MergedInto => "merged-into",
            Rule::EarlierLink => "earlier-link",
            Rule::DefenderOnly => "defender-only",
        }
    }
}

/// One machine of the endpoint and why it is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Join {
    pub machine_id: String,
    pub rule: Rule,
    pub detail: String,
}

/// A MAC of this endpoint that several live Defender machines report: none of them joins by
/// it, and the duplicate-MAC assessment counts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// Canonical form, `00:50:56:A1:B2:C3`.
    pub mac: String,
    /// Every live machine that reports it, sorted.
    pub machines: Vec<String>,
}

/// What a note says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoteKind {
    /// Several machines match this endpoint (or several endpoints this machine): none joined.
    Ambiguous,
    /// A MAC of this endpoint belongs to a machine joined to another endpoint (a second
    /// adapter of the same device, seen separately by discovery).
    AlsoSeen,
    /// A match that lost to a stronger or earlier join.
    NotJoined,
    /// A record that is not live and could not be grouped with its device.
    NotGrouped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub kind: NoteKind,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub machines: Vec<String>,
}

/// Version 1.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub joins: Vec<Join>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Conflict>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "v")]
enum Stored {
    #[serde(rename = "1")]
    V1(Evidence),
}

/// What the first shape stored: a list of joins with free-text rule names.
#[derive(Deserialize)]
struct LegacyJoin {
    machine_id: String,
    rule: String,
    detail: String,
}

impl Evidence {
    pub fn is_empty(&self) -> bool {
        self.joins.is_empty() && self.conflicts.is_empty() && self.notes.is_empty()
    }

    /// Reads either shape; unreadable text reads as empty (it is derived data, rewritten by
    /// the next sync).
    pub fn parse(text: &str) -> Evidence {
        if let Ok(Stored::V1(e)) = serde_json::from_str::<Stored>(text) {
            return e;
        }
        let legacy: Vec<LegacyJoin> = serde_json::from_str(text).unwrap_or_default();
        Evidence {
            joins: legacy
                .into_iter()
                .map(|j| Join {
                    rule: match j.rule.as_str() {
                        "mac" => Rule::Mac,
                        "ip+hostname" => Rule::IpHostname,
                        "defender-only" => Rule::DefenderOnly,
                        _ => Rule::EarlierLink,
                    },
                    machine_id: j.machine_id,
                    detail: j.detail,
                })
                .collect(),
            ..Evidence::default()
        }
    }

    /// The stored text; an empty evidence is `[]`, as an endpoint without any starts.
    pub fn to_text(&self) -> String {
        if self.is_empty() {
            return "[]".to_owned();
        }
        serde_json::to_string(&Stored::V1(self.clone())).unwrap_or_else(|_| "[]".to_owned())
    }

    /// The conflicts alone, as the duplicate-MAC assessment reads them (`endpoint.mac_conflicts`);
    /// `None` when there are none.
    pub fn conflicts_text(&self) -> Option<String> {
        (!self.conflicts.is_empty())
            .then(|| serde_json::to_string(&self.conflicts).unwrap_or_else(|_| "[]".to_owned()))
    }

    /// Joins kept by [`Rule::EarlierLink`] keep the entry recorded when they were made (the
    /// rule that made them), so the evidence says why, and an unchanged sync writes nothing.
    pub fn keep_earlier(&mut self, previous: &Evidence) {
        for join in self
            .joins
            .iter_mut()
            .filter(|j| j.rule == Rule::EarlierLink)
        {
            if let Some(old) = previous
                .joins
                .iter()
                .find(|p| p.machine_id == join.machine_id)
            {
                *join = old.clone();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_one_round_trips_and_empty_is_the_empty_list() {
        let e = Evidence {
            joins: vec![Join {
                machine_id: "m1".into(),
                rule: Rule::IpHostname,
                detail: "IP 10.0.0.5 and host name ws-1 agree".into(),
            }],
            conflicts: vec![Conflict {
                mac: "00:50:56:A1:B2:C3".into(),
                machines: vec!["m1".into(), "m2".into()],
            }],
            notes: vec![Note {
                kind: NoteKind::Ambiguous,
                detail: "two machines".into(),
                machines: vec!["m2".into()],
            }],
        };
        let text = e.to_text();
        assert!(text.starts_with("{\"v\":\"1\""), "{text}");
        assert_eq!(Evidence::parse(&text), e);
        assert_eq!(Evidence::default().to_text(), "[]");
        assert_eq!(Evidence::parse("[]"), Evidence::default());
        assert_eq!(Evidence::parse("not json"), Evidence::default());
        assert_eq!(
            e.conflicts_text().as_deref(),
            Some(r#"[{"mac":"00:50:56:A1:B2:C3","machines":["m1","m2"]}]"#)
        );
        assert_eq!(Evidence::default().conflicts_text(), None);
    }

    #[test]
    fn the_first_shape_reads_as_joins() {
        let old = r#"[{"machine_id":"a","rule":"mac","detail":"MAC 00:15:5D:A1:B2:C3 reported by Defender"},
                      {"machine_id":"b","rule":"defender-only","detail":"keyed by machine id b"},
                      {"machine_id":"c","rule":"something-else","detail":"?"}]"#;
        let e = Evidence::parse(old);
        let rules: Vec<Rule> = e.joins.iter().map(|j| j.rule).collect();
        assert_eq!(rules, [Rule::Mac, Rule::DefenderOnly, Rule::EarlierLink]);
        assert_eq!(e.joins[1].detail, "keyed by machine id b");
    }

    #[test]
    fn an_earlier_link_keeps_the_entry_that_made_it() {
        let previous = Evidence::parse(
            r#"[{"machine_id":"a","rule":"ip+hostname","detail":"IP 10.0.0.5 and host name ws agree"}]"#,
        );
        let mut now = Evidence {
            joins: vec![
                Join {
                    machine_id: "a".into(),
                    rule: Rule::EarlierLink,
                    detail: "kept".into(),
                },
                Join {
                    machine_id: "b".into(),
                    rule: Rule::EarlierLink,
                    detail: "kept".into(),
                },
            ],
            ..Evidence::default()
        };
        now.keep_earlier(&previous);
        assert_eq!(now.joins[0], previous.joins[0]);
        assert_eq!(now.joins[1].rule, Rule::EarlierLink);
    }
}
