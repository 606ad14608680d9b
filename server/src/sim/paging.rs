//! Server-side paging and `@odata.nextLink` construction (defender-api.md §3.4, §11.7),
//! including the paging fault modes (§11.9, §11.10).

use std::ops::Range;

use super::faults::Faults;
use super::odata::Query;

#[derive(Debug, PartialEq, Eq)]
pub struct Page {
    pub range: Range<usize>,
    pub next_link: Option<String>,
}

/// Percent-encodes a query value; `$`, quotes, parentheses and colons stay literal as in real
/// nextLinks, spaces become `%20`.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~$'():,/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn link(url: &str, q: &Query, skip: usize, malformed: bool) -> String {
    let mut parts: Vec<String> = q
        .pairs
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("$skip"))
        .map(|(k, v)| {
            if malformed && k.starts_with('$') {
                // The reported bug drops the option name: `?=onboardingstatus…&=10000`.
                format!("={}", encode(v))
            } else {
                format!("{}={}", encode(k), encode(v))
            }
        })
        .collect();
    parts.push(format!("$skip={skip}"));
    format!("{url}?{}", parts.join("&"))
}

/// Chooses the slice of `total` matching items to serve and the nextLink, consuming
/// one-shot paging faults. `url` is the absolute request URL without query.
pub fn select(total: usize, q: &Query, page_size: usize, url: &str, faults: &mut Faults) -> Page {
    let start = q.skip.min(total);
    if let Some(top) = q.top {
        // With `$top` the service sends no nextLink (microsoft-365-docs#8316, §3.4).
        return Page {
            range: start..(start + top).min(total),
            next_link: None,
        };
    }
    let page_size = page_size.max(1);
    if faults
        .empty_page_at
        .is_some_and(|k| k * page_size == q.skip)
        && start < total
    {
        faults.empty_page_at = None;
        return Page {
            range: start..start,
            next_link: Some(link(url, q, q.skip, false)),
        };
    }
    let size = if faults.short_pages {
        (page_size / 2).max(1)
    } else {
        page_size
    };
    let end = (start + size).min(total);
    let more = end < total;
    let next_link = if faults.malformed_next_link {
        // Never-ending, like the bug report.
        Some(link(url, q, end, true))
    } else if !more {
        None
    } else if faults.next_link_loop {
        Some(link(url, q, q.skip, false))
    } else if faults.unstable_paging && end - start > 1 {
        Some(link(url, q, end - 1, false))
    } else {
        Some(link(url, q, end, false))
    };
    Page {
        range: start..end,
        next_link,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::odata::{parse_query, Spec};

    const SPEC: Spec = Spec {
        fields: &["status"],
        max_top: 100,
    };
    const URL: &str = "http://h/api/alerts";

    fn q(s: &str) -> Query {
        parse_query(Some(s), SPEC).unwrap()
    }

    #[test]
    fn pages_and_links() {
        let mut f = Faults::default();
        let p = select(12, &q("$filter=status eq 'New'"), 5, URL, &mut f);
        assert_eq!(p.range, 0..5);
        assert_eq!(
            p.next_link.as_deref(),
            Some("http://h/api/alerts?$filter=status%20eq%20'New'&$skip=5")
        );
        assert_eq!(select(12, &q("$skip=10"), 5, URL, &mut f).next_link, None);
        let top = select(12, &q("$top=3&$skip=2"), 5, URL, &mut f);
        assert_eq!((top.range, top.next_link), (2..5, None));
    }

    #[test]
    fn fault_modes() {
        let mut f = Faults {
            unstable_paging: true,
            ..Faults::default()
        };
        assert!(select(12, &q(""), 5, URL, &mut f)
            .next_link
            .unwrap()
            .ends_with("$skip=4"));
        let mut f = Faults {
            next_link_loop: true,
            ..Faults::default()
        };
        assert!(select(12, &q("$skip=5"), 5, URL, &mut f)
            .next_link
            .unwrap()
            .ends_with("$skip=5"));
        let mut f = Faults {
            short_pages: true,
            ..Faults::default()
        };
        assert_eq!(select(12, &q(""), 5, URL, &mut f).range, 0..2);
        let mut f = Faults {
            malformed_next_link: true,
            ..Faults::default()
        };
        let l = select(3, &q("$filter=status eq 'x'"), 5, URL, &mut f)
            .next_link
            .unwrap();
        assert_eq!(l, "http://h/api/alerts?=status%20eq%20'x'&$skip=3");
        let mut f = Faults {
            empty_page_at: Some(1),
            ..Faults::default()
        };
        let p = select(12, &q("$skip=5"), 5, URL, &mut f);
        assert_eq!((p.range.len(), f.empty_page_at), (0, None));
        assert!(p.next_link.unwrap().ends_with("$skip=5"));
    }
}
