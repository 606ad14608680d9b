//! The little KQL the simulator reads (defender-api.md §4.14): the table, `take`/`limit`,
//! `count`, a `where DeviceId startswith "…"` filter, `summarize arg_max(Timestamp, *) by …`
//! and `project …`. Anything else in a `where` is accepted and ignored (all generated data is
//! recent, so `Timestamp > ago(1d)` keeps every row), as are other `summarize` forms and
//! stages: the simulator answers the queries a console sends, not KQL at large.

/// A query as read.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Query {
    pub table: String,
    /// `where DeviceId startswith "x"`, lower-cased.
    pub prefix: Option<String>,
    /// `summarize arg_max(Timestamp, *) by K1, K2`: the keys.
    pub latest_by: Option<Vec<String>>,
    pub project: Option<Vec<String>>,
    pub take: Option<usize>,
    pub count: bool,
}

/// The pipe stages, split outside quotes.
fn stages(q: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quote: Option<char> = None;
    for c in q.chars() {
        match (quote, c) {
            (Some(open), c) if c == open => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, '|') => {
                out.push(String::new());
                continue;
            }
            _ => {}
        }
        out.last_mut().expect("one stage at least").push(c);
    }
    out.into_iter().map(|s| s.trim().to_owned()).collect()
}

fn quoted(text: &str) -> Option<String> {
    let start = text.find(['"', '\''])?;
    let open = text[start..].chars().next()?;
    let rest = &text[start + 1..];
    let end = rest.find(open)?;
    Some(rest[..end].to_owned())
}

fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect()
}

pub fn parse(q: &str) -> Query {
    let mut stages = stages(q).into_iter();
    let table = stages
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_owned();
    let mut query = Query {
        table,
        ..Query::default()
    };
    for stage in stages {
        let (verb, rest) = stage
            .split_once(char::is_whitespace)
            .map_or((stage.as_str(), ""), |(v, r)| (v, r.trim()));
        match verb {
            "where" => {
                let lower = rest.to_ascii_lowercase();
                if let Some(at) = lower.find("deviceid startswith") {
                    query.prefix =
                        quoted(&rest[at + "deviceid startswith".len()..]).map(|p| p.to_lowercase());
                }
            }
            "summarize" => {
                // Column names hold no blanks, so the stage can be read without them.
                let compact: String = rest.chars().filter(|c| !c.is_whitespace()).collect();
                if let Some(by) = compact.strip_prefix("arg_max(Timestamp,*)by") {
                    query.latest_by = Some(list(by));
                }
            }
            "project" => query.project = Some(list(rest)),
            "take" | "limit" | "top" => {
                let n = rest.split_whitespace().next().and_then(|n| n.parse().ok());
                query.take = match (query.take, n) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            "count" => query.count = true,
            _ => {}
        }
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_s_shard_query_is_read() {
        let q = parse(
            "DeviceNetworkInfo\n| where Timestamp > ago(1d)\n| where DeviceId startswith \"3A\"\n\
             | summarize arg_max(Timestamp, *) by DeviceId, NetworkAdapterName\n\
             | project Timestamp, DeviceId, MacAddress",
        );
        assert_eq!(q.table, "DeviceNetworkInfo");
        assert_eq!(q.prefix.as_deref(), Some("3a"));
        assert_eq!(
            q.latest_by,
            Some(vec!["DeviceId".to_owned(), "NetworkAdapterName".to_owned()])
        );
        assert_eq!(q.project.unwrap(), ["Timestamp", "DeviceId", "MacAddress"]);
        assert_eq!((q.take, q.count), (None, false));
        let q = parse("DeviceInfo | where DeviceId startswith \"\" | take 5 | limit 3 | count");
        assert_eq!(
            (q.prefix.as_deref(), q.take, q.count),
            (Some(""), Some(3), true)
        );
        // The keys may sit on lines of their own.
        let q = parse("DeviceNetworkInfo\n| summarize arg_max( Timestamp , * )\n    by DeviceId,\n    NetworkAdapterName");
        assert_eq!(
            q.latest_by,
            Some(vec!["DeviceId".to_owned(), "NetworkAdapterName".to_owned()])
        );
        assert_eq!(
            parse("DeviceInfo | summarize count() by DeviceId").latest_by,
            None
        );
        // A pipe inside quotes is not a stage.
        assert_eq!(
            parse("DeviceInfo | where DeviceName == 'a|b'").project,
            None
        );
    }
}
