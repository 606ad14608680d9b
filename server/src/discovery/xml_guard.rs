//! What an imported XML document may declare. quick-xml never fetches external entities nor
//! expands entities it was not given, but we refuse the constructs outright so that a hostile
//! file fails early, with a clear message, whatever parser settings change later.

/// Checks the body of a `<!DOCTYPE ...>` declaration (without `<!DOCTYPE` and `>`).
///
/// Only a bare document type name is allowed, as nmap writes it (`<!DOCTYPE nmaprun>`). An
/// internal subset (`[...]`, where `<!ENTITY>` lives: "billion laughs" bombs) and an external
/// DTD (`SYSTEM`/`PUBLIC`: a network fetch or local file read in other parsers) are refused.
pub(crate) fn check_doctype(body: &str) -> Result<(), &'static str> {
    if body.contains('[') || body.contains("<!") {
        return Err(
            "an internal DTD subset (<!ENTITY ...> definitions) is refused: entity \
                    expansion can blow up memory",
        );
    }
    let mut words = body.split_whitespace();
    let _name = words.next();
    match words.next() {
        None => Ok(()),
        Some(w) if w.eq_ignore_ascii_case("SYSTEM") || w.eq_ignore_ascii_case("PUBLIC") => {
            Err("an external DTD is refused: it would make the parser reach outside the file")
        }
        Some(_) => Err("only a bare document type name is accepted"),
    }
}

/// Checks the `encoding` named in the XML declaration, if any: the bytes were already checked
/// to be UTF-8, so any other declared encoding means the file is not what it says.
pub(crate) fn check_declared_encoding(encoding: Option<&str>) -> Result<(), String> {
    match encoding {
        None => Ok(()),
        Some(name) if name.eq_ignore_ascii_case("utf-8") || name.eq_ignore_ascii_case("utf8") => {
            Ok(())
        }
        // ASCII is a subset of UTF-8.
        Some(name)
            if name.eq_ignore_ascii_case("us-ascii") || name.eq_ignore_ascii_case("ascii") =>
        {
            Ok(())
        }
        Some(name) => Err(format!(
            "the XML declaration names encoding '{}'; only UTF-8 is accepted",
            super::limits::shorten(name)
        )),
    }
}

/// Resolves a general entity reference (`&name;`) in text: the five XML predefined entities and
/// character references; anything else would need a DTD, which we refuse.
pub(crate) fn check_entity_reference(name: &str) -> Result<(), String> {
    let predefined = matches!(name, "lt" | "gt" | "amp" | "apos" | "quot");
    let character = name.starts_with('#');
    if predefined || character {
        Ok(())
    } else {
        Err(format!(
            "entity '&{};' is not defined (custom entities are refused)",
            super::limits::shorten(name)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bare_doctype_passes() {
        assert_eq!(check_doctype("nmaprun"), Ok(()));
        assert_eq!(check_doctype(" nmaprun "), Ok(()));
        let refused = [
            ("lolz [<!ENTITY lol \"lol\">]", "internal DTD subset"),
            (
                "nmaprun SYSTEM \"http://example.invalid/x.dtd\"",
                "external DTD",
            ),
            ("nmaprun PUBLIC \"-//x//EN\" \"x.dtd\"", "external DTD"),
            ("nmaprun junk", "bare document type name"),
        ];
        for (body, want) in refused {
            let err = check_doctype(body).unwrap_err();
            assert!(err.contains(want), "{body}: {err}");
        }
    }

    #[test]
    fn declared_encoding_must_be_utf8() {
        assert!(check_declared_encoding(None).is_ok());
        assert!(check_declared_encoding(Some("UTF-8")).is_ok());
        assert!(check_declared_encoding(Some("us-ascii")).is_ok());
        let err = check_declared_encoding(Some("ISO-8859-1")).unwrap_err();
        assert!(err.contains("'ISO-8859-1'"), "{err}");
    }

    #[test]
    fn only_predefined_and_character_entities_pass() {
        for name in ["lt", "amp", "#39", "#x27"] {
            assert!(check_entity_reference(name).is_ok(), "{name}");
        }
        assert!(check_entity_reference("lol9")
            .unwrap_err()
            .contains("&lol9;"));
    }
}
