//! OData query options (`$filter`, `$top`, `$skip`, `$expand`; defender-api.md §3.3):
//! parsing against each API's documented filter fields, and evaluation against records.

use super::clock::{self, Nanos};

/// A record field's value as the filter sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Str(String),
    Num(f64),
    Date(Nanos),
    Null,
    /// e.g. `machineTags`: `eq` means "contains".
    List(Vec<String>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    Str(String),
    Num(f64),
    Date(Nanos),
    Bool(bool),
    Null,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp {
        field: &'static str,
        op: Op,
        lit: Lit,
    },
    StartsWith {
        field: &'static str,
        prefix: String,
    },
}

impl Expr {
    pub fn eval(&self, get: &dyn Fn(&str) -> Val) -> bool {
        match self {
            Expr::And(a, b) => a.eval(get) && b.eval(get),
            Expr::Or(a, b) => a.eval(get) || b.eval(get),
            Expr::StartsWith { field, prefix } => match get(field) {
                Val::Str(s) => s.to_lowercase().starts_with(&prefix.to_lowercase()),
                Val::List(l) => l
                    .iter()
                    .any(|s| s.to_lowercase().starts_with(&prefix.to_lowercase())),
                _ => false,
            },
            Expr::Cmp { field, op, lit } => compare(&get(field), *op, lit),
        }
    }
}

fn ord_ok(op: Op, o: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match op {
        Op::Eq => o == Equal,
        Op::Ne => o != Equal,
        Op::Gt => o == Greater,
        Op::Ge => o != Less,
        Op::Lt => o == Less,
        Op::Le => o != Greater,
    }
}

fn compare(v: &Val, op: Op, lit: &Lit) -> bool {
    match (v, lit) {
        (Val::Null, Lit::Null) => op == Op::Eq,
        (_, Lit::Null) => op == Op::Ne,
        (Val::Null, _) => op == Op::Ne,
        // Enums are compared as strings and live casing differs from the docs (§9.14).
        (Val::Str(s), Lit::Str(l)) => ord_ok(op, s.to_lowercase().cmp(&l.to_lowercase())),
        (Val::Str(s), Lit::Num(n)) => s.parse::<f64>().is_ok_and(|x| cmp_f(x, op, *n)),
        (Val::Num(x), Lit::Num(n)) => cmp_f(*x, op, *n),
        (Val::Num(x), Lit::Str(s)) => s.parse::<f64>().is_ok_and(|n| cmp_f(*x, op, n)),
        (Val::Date(d), Lit::Date(l)) => ord_ok(op, d.cmp(l)),
        (Val::Date(d), Lit::Str(s)) => clock::parse_iso(s).is_some_and(|l| ord_ok(op, d.cmp(&l))),
        (Val::List(items), Lit::Str(l)) => {
            let hit = items.iter().any(|i| i.eq_ignore_ascii_case(l));
            match op {
                Op::Eq => hit,
                Op::Ne => !hit,
                _ => false,
            }
        }
        _ => false,
    }
}

fn cmp_f(x: f64, op: Op, n: f64) -> bool {
    x.partial_cmp(&n).is_some_and(|o| ord_ok(op, o))
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Open,
    Close,
    Comma,
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Tok::Open);
            }
            ')' => {
                chars.next();
                out.push(Tok::Close);
            }
            ',' => {
                chars.next();
                out.push(Tok::Comma);
            }
            '\'' => {
                chars.next();
                let mut lit = String::new();
                loop {
                    match chars.next() {
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            lit.push('\'');
                        }
                        Some('\'') => break,
                        Some(ch) => lit.push(ch),
                        None => return Err("unterminated string literal".into()),
                    }
                }
                out.push(Tok::Quoted(lit));
            }
            _ => {
                let mut w = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_whitespace() || "(),'".contains(ch) {
                        break;
                    }
                    w.push(ch);
                    chars.next();
                }
                out.push(Tok::Word(w));
            }
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    fields: &'a [&'static str],
}

impl Parser<'_> {
    fn peek_word(&self, w: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn expect(&mut self, t: Tok) -> Result<(), String> {
        match self.next() {
            Some(x) if x == t => Ok(()),
            other => Err(format!("syntax error: expected {t:?}, found {other:?}")),
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut e = self.and()?;
        while self.peek_word("or") {
            self.pos += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut e = self.primary()?;
        while self.peek_word("and") {
            self.pos += 1;
            e = Expr::And(Box::new(e), Box::new(self.primary()?));
        }
        Ok(e)
    }

    fn field(&self, name: &str) -> Result<&'static str, String> {
        self.fields
            .iter()
            .find(|f| f.eq_ignore_ascii_case(name))
            .copied()
            .ok_or_else(|| format!("Could not find a property named '{name}' on the type."))
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Tok::Open) => {
                let e = self.or()?;
                self.expect(Tok::Close)?;
                Ok(e)
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("startswith") => {
                self.expect(Tok::Open)?;
                let field = match self.next() {
                    Some(Tok::Word(f)) => self.field(&f)?,
                    other => return Err(format!("syntax error near {other:?}")),
                };
                self.expect(Tok::Comma)?;
                let prefix = match self.next() {
                    Some(Tok::Quoted(s)) => s,
                    other => return Err(format!("startswith needs a string, found {other:?}")),
                };
                self.expect(Tok::Close)?;
                Ok(Expr::StartsWith { field, prefix })
            }
            Some(Tok::Word(w)) => {
                let field = self.field(&w)?;
                let op = match self.next() {
                    Some(Tok::Word(o)) => match o.to_ascii_lowercase().as_str() {
                        "eq" => Op::Eq,
                        "ne" => Op::Ne,
                        "gt" => Op::Gt,
                        "ge" => Op::Ge,
                        "lt" => Op::Lt,
                        "le" => Op::Le,
                        _ => return Err(format!("unsupported operator '{o}'")),
                    },
                    other => {
                        return Err(format!("syntax error: expected operator, found {other:?}"))
                    }
                };
                let lit = match self.next() {
                    Some(Tok::Quoted(s)) => Lit::Str(s),
                    Some(Tok::Word(w)) => literal(&w)?,
                    other => {
                        return Err(format!("syntax error: expected literal, found {other:?}"))
                    }
                };
                Ok(Expr::Cmp { field, op, lit })
            }
            other => Err(format!("syntax error near {other:?}")),
        }
    }
}

fn literal(w: &str) -> Result<Lit, String> {
    match w.to_ascii_lowercase().as_str() {
        "null" => return Ok(Lit::Null),
        "true" => return Ok(Lit::Bool(true)),
        "false" => return Ok(Lit::Bool(false)),
        _ => {}
    }
    if let Ok(n) = w.parse::<f64>() {
        return Ok(Lit::Num(n));
    }
    clock::parse_iso(w)
        .map(Lit::Date)
        .ok_or_else(|| format!("invalid literal '{w}'"))
}

/// Parses a `$filter` expression; only `fields` may be referenced (§3.3, §4).
pub fn parse_filter(s: &str, fields: &[&'static str]) -> Result<Expr, String> {
    let mut p = Parser {
        toks: tokenize(s)?,
        pos: 0,
        fields,
    };
    let e = p.or()?;
    if p.pos < p.toks.len() {
        return Err(format!("syntax error: unexpected {:?}", p.toks[p.pos]));
    }
    Ok(e)
}

/// Parsed query options plus the original pairs (kept to rebuild `@odata.nextLink`).
#[derive(Clone, Debug, Default)]
pub struct Query {
    pub filter: Option<Expr>,
    pub top: Option<usize>,
    pub skip: usize,
    pub expand_evidence: bool,
    /// `$select` property names (undocumented but used by tools on `/api/machines`, §3.3).
    pub select: Option<Vec<String>>,
    pub pairs: Vec<(String, String)>,
}

/// What an API accepts: its filter fields and `$top` ceiling (§3.3: 10,000; 8,000 for
/// `/api/vulnerabilities`).
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub fields: &'static [&'static str],
    pub max_top: usize,
}

pub fn parse_query(raw: Option<&str>, spec: Spec) -> Result<Query, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|e| e.to_string())?;
    let mut q = Query {
        pairs: pairs.clone(),
        ..Query::default()
    };
    for (k, v) in &pairs {
        match k.to_ascii_lowercase().as_str() {
            "$filter" => q.filter = Some(parse_filter(v, spec.fields)?),
            "$top" => {
                let top: usize = v
                    .trim()
                    .parse()
                    .map_err(|_| format!("Invalid $top '{v}'"))?;
                if top > spec.max_top {
                    // Wording of the OData library the service runs on.
                    return Err(format!(
                        "The limit of '{}' for Top query has been exceeded. The value from the \
                         incoming request is '{top}'.",
                        spec.max_top
                    ));
                }
                q.top = Some(top);
            }
            "$skip" => {
                q.skip = v
                    .trim()
                    .parse()
                    .map_err(|_| format!("Invalid $skip '{v}'"))?
            }
            "$expand" => q.expand_evidence = v.split(',').any(|e| e.trim() == "evidence"),
            "$select" => {
                q.select = Some(
                    v.split(',')
                        .map(|f| f.trim().to_owned())
                        .filter(|f| !f.is_empty())
                        .collect(),
                )
            }
            // `$orderby` is tolerated and ignored; names without `$` (the malformed
            // nextLink of §3.4) are ignored like the real service ignores unknown options.
            _ => {}
        }
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: &[&str] = &[
        "status",
        "severity",
        "lastSeen",
        "rbacGroupId",
        "machineTags",
        "name",
    ];

    fn rec(field: &str) -> Val {
        match field {
            "status" => Val::Str("New".into()),
            "severity" => Val::Str("High".into()),
            "lastSeen" => Val::Date(clock::parse_iso("2026-02-01T00:00:00Z").unwrap()),
            "rbacGroupId" => Val::Num(12.0),
            "machineTags" => Val::List(vec!["eng".into()]),
            _ => Val::Null,
        }
    }

    fn t(s: &str) -> bool {
        parse_filter(s, F).unwrap().eval(&rec)
    }

    #[test]
    fn evaluates_operators() {
        assert!(t("status eq 'New'"));
        assert!(t("status eq 'new'"));
        assert!(!t("status ne 'New'"));
        assert!(t("status eq 'Resolved' or severity eq 'High'"));
        assert!(!t("status eq 'New' and severity eq 'Low'"));
        assert!(t(
            "(status eq 'X' or status eq 'New') and rbacGroupId ge 12"
        ));
        assert!(t("lastSeen gt 2026-01-01T00:00:00Z"));
        assert!(!t("lastSeen lt 2026-01-01T00:00:00Z"));
        assert!(t("lastSeen ge '2026-01-01T00:00:00Z'"));
        assert!(t("startswith(severity,'hi')"));
        assert!(t("machineTags eq 'eng'"));
        assert!(t("name eq null"));
        assert!(t("rbacGroupId lt 13.5"));
    }

    #[test]
    fn rejects_unknown_fields_and_syntax() {
        assert!(parse_filter("osBuild eq 1", F).is_err());
        assert!(parse_filter("status eq", F).is_err());
        assert!(parse_filter("status like 'x'", F).is_err());
        assert!(parse_filter("status eq 'x", F).is_err());
        assert!(parse_filter("status eq 'x')", F).is_err());
    }

    #[test]
    fn query_options() {
        let spec = Spec {
            fields: F,
            max_top: 10,
        };
        let q = parse_query(Some("$filter=status%20eq%20'New'&$top=10&$skip=3"), spec).unwrap();
        assert_eq!((q.top, q.skip), (Some(10), 3));
        assert!(q.filter.is_some());
        assert!(parse_query(Some("$top=11"), spec)
            .unwrap_err()
            .contains("limit of '10'"));
        assert!(parse_query(Some("$top=x"), spec).is_err());
        assert!(parse_query(Some("=status&$skip=2"), spec)
            .unwrap()
            .filter
            .is_none());
    }
}
