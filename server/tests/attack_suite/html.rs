//! Just enough HTML and CSV reading to check what the console serves: the tags of a page,
//! the URLs in its attributes, and the cells of an export.

use std::collections::BTreeSet;

use regex::Regex;

/// One start tag: its lower-case name and its attributes (values with entities decoded).
#[derive(Debug)]
pub struct Tag {
    pub name: String,
    pub attributes: Vec<(String, String)>,
}

/// The start tags of `html`, in order. Leptos writes attribute values in double quotes, so a
/// value that broke out of its quotes shows up here as an attribute of its own.
pub fn tags(html: &str) -> Vec<Tag> {
    let tag = Regex::new(r#"<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*/?>"#)
        .unwrap();
    let attribute =
        Regex::new(r#"([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?"#).unwrap();
    tag.captures_iter(html)
        .map(|c| Tag {
            name: c[1].to_ascii_lowercase(),
            attributes: attribute
                .captures_iter(&c[2])
                .map(|a| {
                    let value = a
                        .get(2)
                        .or_else(|| a.get(3))
                        .or_else(|| a.get(4))
                        .map_or("", |m| m.as_str());
                    (a[1].to_ascii_lowercase(), decode_entities(value))
                })
                .collect(),
        })
        .collect()
}

pub fn tag_names(html: &str) -> BTreeSet<String> {
    tags(html).into_iter().map(|t| t.name).collect()
}

/// Every value of an attribute that makes the browser fetch or navigate.
pub fn urls(html: &str) -> Vec<String> {
    tags(html)
        .into_iter()
        .flat_map(|t| t.attributes)
        .filter(|(name, _)| matches!(name.as_str(), "href" | "src" | "action" | "formaction"))
        .map(|(_, value)| value)
        .collect()
}

/// Attributes that run script: `on*` handlers and `srcdoc`.
pub fn script_attributes(html: &str) -> Vec<String> {
    tags(html)
        .into_iter()
        .flat_map(|t| {
            let name = t.name;
            t.attributes
                .into_iter()
                .filter(|(a, _)| a.starts_with("on") || a == "srcdoc")
                .map(move |(a, v)| format!("<{name} {a}={v:?}>"))
        })
        .collect()
}

/// Our own pages, the Defender portal of the commercial cloud, the empty favicon the shell
/// declares (`data:,`, which fetches nothing), and a place on the same page (the skip link's
/// `#main`, a plain id that no input chose).
pub fn allowed_url(value: &str) -> bool {
    if value == "data:," {
        return true;
    }
    if let Some(id) = value.strip_prefix('#') {
        return !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    }
    if value.starts_with('/') {
        return !value.starts_with("//") && !value.contains('\\');
    }
    url::Url::parse(value)
        .is_ok_and(|u| u.scheme() == "https" && u.host_str() == Some("security.microsoft.com"))
}

/// No link leaves our pages or the portal, no script attribute, no element and no kind of
/// script that the same page with benign input lacks.
pub fn assert_no_injection(what: &str, page: &str, benign: &str) {
    let bad: Vec<String> = urls(page).into_iter().filter(|u| !allowed_url(u)).collect();
    assert!(bad.is_empty(), "{what}: links elsewhere: {bad:?}");
    assert_eq!(script_attributes(page), Vec::<String>::new(), "{what}");
    let extra: Vec<String> = tag_names(page)
        .difference(&tag_names(benign))
        .cloned()
        .collect();
    assert!(
        extra.is_empty(),
        "{what}: elements from the input: {extra:?}"
    );
    let scripts: Vec<String> = script_kinds(page)
        .difference(&script_kinds(benign))
        .cloned()
        .collect();
    assert!(
        scripts.is_empty(),
        "{what}: scripts from the input: {scripts:?}"
    );
}

/// How each inline script starts, up to its first `=`, `[` or space (Leptos's loader and
/// resource data, e.g. `(function`, `__RESOLVED_RESOURCES`). How many there are depends on
/// when resources resolve, so pages are compared by kinds, not counts.
pub fn script_kinds(html: &str) -> BTreeSet<String> {
    let script = Regex::new(r"(?s)<script\b[^>]*>(.*?)</script>").unwrap();
    script
        .captures_iter(html)
        .map(|c| {
            c[1].trim_start()
                .split(['=', '[', ' '])
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

fn decode_entities(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Text as it must appear in an HTML text node: the markup characters escaped.
pub fn escaped_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// RFC 4180 records: quoted fields may hold commas, quotes (doubled) and line breaks.
pub fn csv_records(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

#[test]
fn the_readers_see_what_a_browser_would() {
    let html = r#"<a href="/x?a=1&amp;b=2" class="c">t</a><img src=x onerror=alert(1)><br/>"#;
    let found = tags(html);
    assert_eq!(found.len(), 3);
    assert_eq!(found[0].attributes[0], ("href".into(), "/x?a=1&b=2".into()));
    assert_eq!(urls(html), ["/x?a=1&b=2", "x"]);
    assert_eq!(script_attributes(html), [r#"<img onerror="alert(1)">"#]);
    let scripts = "<script nonce=\"n\">__RESOLVED_RESOURCES[4] = \"x\";</script>\
        <script>alert(1)</script><script type=\"module\">(function (root) {})</script>";
    assert_eq!(
        script_kinds(scripts).into_iter().collect::<Vec<_>>(),
        ["(function", "__RESOLVED_RESOURCES", "alert(1)"]
    );
    for ok in [
        "/endpoints",
        "data:,",
        "https://security.microsoft.com/alerts/1",
    ] {
        assert!(allowed_url(ok), "{ok}");
    }
    for bad in [
        "//evil.example/",
        "javascript:alert(1)",
        "https://security.microsoft.com.evil.example/",
        "http://security.microsoft.com/",
        "/\\evil.example",
    ] {
        assert!(!allowed_url(bad), "{bad}");
    }
    let csv = "a,\"b,\"\"c\"\"\r\nd\",e\r\n'=1,2\r\n";
    assert_eq!(
        csv_records(csv),
        [vec!["a", "b,\"c\"\r\nd", "e"], vec!["'=1", "2"]]
    );
}
