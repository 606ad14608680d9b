//! Fault switches (what the test-suite turns on) and their one-shot consumption.
//!
//! Counters such as `throttle_next` are decremented as they fire, so `GET /_sim/faults`
//! always shows what is still armed. Modes are listed in defender-api.md §11 (italics).
//! Request faults can be aimed at one listing (`scope`) and held back for a number of its
//! calls (`start_after_calls`), so a test can strike the middle of a sync.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Forced outcome for machine actions created while the fault is set (§6, §11.23).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ForcedOutcome {
    Succeeded,
    Failed,
    /// Picked up, then the device stops answering: InProgress, then TimeOut (§6).
    TimeOut,
    /// The action reaches InProgress and stays there.
    NeverTerminal,
    /// Nobody picks the action up: Pending, `lastUpdateDateTimeUtc` its creation time, until
    /// `ActionTimings::pending_timeout` (3 days by default, §4.6), then TimeOut.
    StaysPending,
}

/// How the answer to a processed action POST gets lost (§9.22).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LostAnswerMode {
    /// A proxy gives up first: 504 with the proxy's HTML page.
    #[default]
    GatewayTimeout,
    /// The 201/200 arrives with its JSON cut in half.
    CutBody,
    /// The answer is held back for `Faults::lost_answer_hang_ms`, then sent, so a client
    /// with a shorter timeout has given up.
    Hang,
}

/// How long `LostAnswerMode::Hang` holds an answer when `lost_answer_hang_ms` is unset.
pub const DEFAULT_HANG_MS: u64 = 30_000;

/// Every injectable fault. `Default` = no fault. JSON field names are the Rust names
/// (snake_case), e.g. `{"throttle_next":3,"throttle_retry_after_secs":2}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// The next K API calls get 429 TooManyRequests regardless of the real rate (§11.14).
    pub throttle_next: u32,
    /// `Retry-After` seconds sent with those 429s; `None` = no header at all.
    pub throttle_retry_after_secs: Option<u64>,
    /// The next K API calls fail with `server_error_status` (§11.15).
    pub server_error_next: u32,
    /// 500 (InternalServerError, the default when 0) or 503 (ServiceUnavailable).
    pub server_error_status: u16,
    /// Every API and token response is delayed by this many milliseconds.
    pub delay_ms: u64,
    /// The next K successful API responses have their JSON body cut in half.
    pub truncate_next: u32,
    /// Tokens issued so far are treated as expired after this many more collection pages
    /// (§11.5 mid-sync expiry). Cleared when it fires; new tokens work again.
    pub expire_tokens_after_pages: Option<u32>,
    /// `@odata.nextLink` points back at the page just served.
    pub next_link_loop: bool,
    /// The reported bug (§3.4): `$` dropped from query option names and a nextLink that
    /// never ends, even past the last item.
    pub malformed_next_link: bool,
    /// Pages carry half the server page size but still a nextLink while items remain.
    pub short_pages: bool,
    /// The page whose `$skip` is `n * page_size` is served once as an empty `value` with a
    /// nextLink back to the same offset. Cleared when it fires.
    pub empty_page_at: Option<usize>,
    /// The last item of each page is repeated as the first item of the next (§3.4, §11.10).
    pub unstable_paging: bool,
    /// Outcome forced on machine actions created while set.
    pub action_outcome: Option<ForcedOutcome>,
    /// A duplicate action returns the existing non-terminal action with 201 instead of
    /// 400 ActiveRequestAlreadyExists (§11.24 alternate mode).
    pub duplicate_action_returns_existing: bool,
    /// The next K action POSTs (`machines/{id}/isolate`, `unisolate`, `runAntiVirusScan`,
    /// `machineactions/{id}/cancel`) are carried out, so `GET /api/machineactions` shows the
    /// action or the cancellation, and then their answer is lost (§9.22). Rejected requests
    /// do not use it up; `scope` and `start_after_calls` gate it like the request faults.
    pub lost_answer_next: u32,
    pub lost_answer_mode: LostAnswerMode,
    /// How long `Hang` holds the answer, in milliseconds; `None` = 30,000.
    pub lost_answer_hang_ms: Option<u64>,
    /// The next K action submissions (isolate, unisolate, scan) are refused with 400
    /// `OsPlatformNotSupported` whatever the device runs: Defender's own check, which can
    /// disagree with the documented support table (a sensor state the API does not show, §7).
    pub platform_refusal_next: u32,
    /// Advanced hunting answers 400 "exceeded the allowed result size" (§4.14).
    pub hunting_result_too_large: bool,
    /// The next K advanced-hunting calls get the CPU-quota 429 (§3.7).
    pub hunting_cpu_quota_next: u32,
    /// One `DeviceNetworkInfo` row (the first onboarded machine's primary adapter, latest
    /// report) has its `IPAddresses` cut short: undecodable (§4.14, `sim::hunting`).
    pub hunting_bad_row: bool,
    /// The next K per-machine GETs answer 404 although the machine exists (§9.11).
    pub spurious_not_found_next: u32,
    /// The next K collection pages answer 404 ResourceNotFound although the data exists: the
    /// per-machine glitch of §9.11 on a listing (on the first machines page it reads as "no
    /// machines", §4.1).
    pub collection_not_found_next: u32,
    /// The next K collection pages are valid JSON of the wrong shape: the envelope keeps
    /// `@odata.context` but the items sit under `items` instead of `value`, and there is no
    /// nextLink (shape drift, §9.13).
    pub wrong_shape_next: u32,
    /// The next K collection pages carry items whose `id` is a JSON number instead of a string
    /// (numbers-as-strings drift, §9.15, the other way round).
    pub wrong_types_next: u32,
    /// The next K collection pages (any listing) carry a first item no strict decoder takes,
    /// while its `id` stays a readable string, so one bad item must not sink the page
    /// (§9.21): machines get `lastSeen` "yesterday", alerts `alertCreationTime`,
    /// vulnerabilities `publishedOn`, machine actions `creationDateTimeUtc`,
    /// `machinesVulnerabilities` rows a `productVersion` of `{"major":1}` (export rows
    /// `lastSeenTimestamp`, software `weaknesses`, machine references `computerDnsName`).
    /// Empty pages do not use it up.
    pub undecodable_item_next: u32,
    /// Collections end after this many items with no nextLink: a listing that looks complete
    /// but is short (retention or a backend glitch, §9.18).
    pub listing_limit: Option<usize>,
    /// Tokens are issued for this audience whatever the request asked for, as when the app
    /// was pointed at the wrong resource (§2.1, microsoft-365-docs#9246); the API then
    /// answers 403. A token-endpoint fault: `scope` and `start_after_calls` do not gate it.
    pub token_audience: Option<String>,
    /// Request faults hit only `/api/{scope}` (no query, `v1.0/` ignored, any case), e.g.
    /// `alerts` or `vulnerabilities/machinesVulnerabilities`; other calls are served clean and
    /// do not count down. The token endpoint counts as out of scope.
    pub scope: Option<String>,
    /// Request faults stay dormant for this many more in-scope API calls, so a fault can
    /// strike the middle of a listing. Counts down like the one-shot counters.
    pub start_after_calls: u32,
}

impl Faults {
    /// Whether the request faults (everything but the action and token-endpoint faults)
    /// apply to this API call; a dormant in-scope call counts `start_after_calls` down.
    pub fn engage(&mut self, path: &str) -> bool {
        if let Some(scope) = &self.scope {
            if !in_scope(scope, path) {
                return false;
            }
        }
        !take(&mut self.start_after_calls)
    }

    /// Whether the token endpoint gets the request delay: only for unscoped, armed faults.
    pub fn delays_tokens(&self) -> bool {
        self.scope.is_none() && self.start_after_calls == 0
    }

    /// Whether a successful body must be built whole because a body fault will rewrite it.
    pub fn rewrites_bodies(&self) -> bool {
        self.truncate_next > 0
            || self.wrong_shape_next > 0
            || self.wrong_types_next > 0
            || self.undecodable_item_next > 0
    }
}

fn in_scope(scope: &str, path: &str) -> bool {
    let rest = path.strip_prefix("/api/").unwrap_or(path);
    let rest = rest.strip_prefix("v1.0/").unwrap_or(rest);
    rest.trim_matches('/')
        .eq_ignore_ascii_case(scope.trim_matches('/'))
}

/// Makes one item undecodable by a strict reader, keeping its `id` (see
/// `Faults::undecodable_item_next`); the item's kind is told by the fields it has.
fn spoil(item: &mut Value) {
    let Some(o) = item.as_object_mut() else {
        return;
    };
    let word = || Value::from("yesterday");
    let object = || serde_json::json!({"major": 1});
    let (field, value) = if o.contains_key("onboardingStatus") {
        ("lastSeen", word())
    } else if o.contains_key("alertCreationTime") {
        ("alertCreationTime", word())
    } else if o.contains_key("creationDateTimeUtc") {
        ("creationDateTimeUtc", word())
    } else if o.contains_key("productVersion") {
        ("productVersion", object())
    } else if o.contains_key("publishedOn") {
        ("publishedOn", word())
    } else if o.contains_key("lastSeenTimestamp") {
        ("lastSeenTimestamp", word())
    } else if o.contains_key("weaknesses") {
        ("weaknesses", word())
    } else {
        ("computerDnsName", object())
    };
    o.insert(field.to_owned(), value);
}

/// Applies the body faults to a successful JSON body: the shape and type faults to
/// collection pages (bodies with a `value` array), then truncation to anything.
pub fn rewrite_body(faults: &mut Faults, body: &mut String) {
    let reshapes = faults.wrong_shape_next > 0
        || faults.wrong_types_next > 0
        || faults.undecodable_item_next > 0;
    if reshapes {
        if let Ok(Value::Object(mut page)) = serde_json::from_str::<Value>(body) {
            if let Some(Value::Array(mut items)) = page.remove("value") {
                if let Some(first) = items.first_mut() {
                    if take(&mut faults.undecodable_item_next) {
                        spoil(first);
                    }
                }
                if take(&mut faults.wrong_types_next) {
                    for (n, item) in items.iter_mut().enumerate() {
                        if let Some(id) = item.get_mut("id") {
                            *id = Value::from(n);
                        }
                    }
                }
                if take(&mut faults.wrong_shape_next) {
                    page.remove("@odata.nextLink");
                    page.insert("items".into(), Value::Array(items));
                } else {
                    page.insert("value".into(), Value::Array(items));
                }
                *body = Value::Object(page).to_string();
            }
        }
    }
    if take(&mut faults.truncate_next) {
        cut_in_half(body);
    }
}

/// Drops the second half of a body, as a connection cut mid-answer would.
pub fn cut_in_half(body: &mut String) {
    let mut cut = body.len() / 2;
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    body.truncate(cut);
}

/// Decrements a one-shot counter; true when it fired.
pub fn take(counter: &mut u32) -> bool {
    if *counter > 0 {
        *counter -= 1;
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_fire_k_times() {
        let mut n = 2;
        assert!(take(&mut n));
        assert!(take(&mut n));
        assert!(!take(&mut n));
    }

    #[test]
    fn scope_and_dormancy_gate_request_faults() {
        let mut f = Faults {
            scope: Some("vulnerabilities/machinesVulnerabilities".into()),
            start_after_calls: 1,
            ..Faults::default()
        };
        assert!(!f.engage("/api/machines"));
        assert_eq!(f.start_after_calls, 1, "out of scope does not count down");
        assert!(!f.engage("/api/v1.0/vulnerabilities/machinesvulnerabilities"));
        assert!(f.engage("/api/vulnerabilities/machinesVulnerabilities/"));
        assert!(!f.delays_tokens());
        assert!(Faults::default().engage("/api/alerts"));
        assert!(Faults::default().delays_tokens());
    }

    #[test]
    fn body_faults_rewrite_collection_pages_only() {
        let page =
            r#"{"@odata.context":"c","value":[{"id":"a"},{"id":"b"}],"@odata.nextLink":"n"}"#;
        let mut f = Faults {
            wrong_types_next: 1,
            ..Faults::default()
        };
        let mut body = page.to_owned();
        rewrite_body(&mut f, &mut body);
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["value"][1]["id"], 1);
        assert_eq!(v["@odata.nextLink"], "n");
        assert_eq!(f.wrong_types_next, 0);

        let mut f = Faults {
            wrong_shape_next: 1,
            ..Faults::default()
        };
        let mut entity = r#"{"id":"a"}"#.to_owned();
        rewrite_body(&mut f, &mut entity);
        assert_eq!(entity, r#"{"id":"a"}"#);
        assert_eq!(f.wrong_shape_next, 1, "entities do not use up the fault");
        let mut body = page.to_owned();
        rewrite_body(&mut f, &mut body);
        let v: Value = serde_json::from_str(&body).unwrap();
        assert!(v.get("value").is_none() && v.get("@odata.nextLink").is_none());
        assert_eq!(v["items"][0]["id"], "a");
        assert_eq!(v["@odata.context"], "c");
    }

    #[test]
    fn undecodable_item_keeps_its_id_and_spoils_one_field_per_kind() {
        let cases = [
            (
                r#"{"id":"m","onboardingStatus":"Onboarded","lastSeen":"x"}"#,
                "lastSeen",
                "\"yesterday\"",
            ),
            (
                r#"{"id":"a","alertCreationTime":"x","computerDnsName":"h"}"#,
                "alertCreationTime",
                "\"yesterday\"",
            ),
            (
                r#"{"id":"v","publishedOn":"x"}"#,
                "publishedOn",
                "\"yesterday\"",
            ),
            (
                r#"{"id":"g","creationDateTimeUtc":"x"}"#,
                "creationDateTimeUtc",
                "\"yesterday\"",
            ),
            (
                r#"{"id":"r","cveId":"c","productVersion":"1.2"}"#,
                "productVersion",
                r#"{"major":1}"#,
            ),
        ];
        for (item, field, spoilt) in cases {
            let mut f = Faults {
                undecodable_item_next: 2,
                ..Faults::default()
            };
            assert!(f.rewrites_bodies());
            let mut body = format!(
                r#"{{"@odata.context":"c","value":[{item},{item}],"@odata.nextLink":"n"}}"#
            );
            rewrite_body(&mut f, &mut body);
            let v: Value = serde_json::from_str(&body).unwrap();
            let original: Value = serde_json::from_str(item).unwrap();
            assert_eq!(
                v["value"][0][field],
                serde_json::from_str::<Value>(spoilt).unwrap()
            );
            assert_eq!(v["value"][0]["id"], original["id"], "{field}");
            assert_eq!(v["value"][1], original, "only the first item");
            assert_eq!(v["@odata.nextLink"], "n");
            assert_eq!(f.undecodable_item_next, 1);
        }
        let mut f = Faults {
            undecodable_item_next: 1,
            ..Faults::default()
        };
        let mut empty = r#"{"@odata.context":"c","value":[]}"#.to_owned();
        rewrite_body(&mut f, &mut empty);
        let mut entity = r#"{"id":"m","onboardingStatus":"Onboarded","lastSeen":"x"}"#.to_owned();
        rewrite_body(&mut f, &mut entity);
        assert_eq!(
            entity,
            r#"{"id":"m","onboardingStatus":"Onboarded","lastSeen":"x"}"#
        );
        assert_eq!(
            f.undecodable_item_next, 1,
            "empty pages and entities do not use it up"
        );
    }

    #[test]
    fn partial_json_uses_defaults() {
        let f: Faults = serde_json::from_str(r#"{"throttle_next":3}"#).unwrap();
        assert_eq!(f.throttle_next, 3);
        assert!(!f.short_pages);
        assert_eq!(
            (f.lost_answer_mode, f.lost_answer_hang_ms),
            (LostAnswerMode::GatewayTimeout, None)
        );
        let f: Faults = serde_json::from_str(
            r#"{"lost_answer_next":1,"lost_answer_mode":"CutBody","action_outcome":"StaysPending"}"#,
        )
        .unwrap();
        assert_eq!(f.lost_answer_mode, LostAnswerMode::CutBody);
        assert_eq!(f.action_outcome, Some(ForcedOutcome::StaysPending));
        assert_eq!(serde_json::to_value(LostAnswerMode::Hang).unwrap(), "Hang");
        let back: Faults = serde_json::from_value(serde_json::to_value(&f).unwrap()).unwrap();
        assert_eq!(back, f);
    }
}
