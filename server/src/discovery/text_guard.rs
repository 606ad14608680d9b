//! The checks every imported file or body passes before a parser sees it: size, encoding
//! (UTF-8 only, with a clear word for UTF-16 and Latin-1), and positions for error messages.

use std::fmt;

/// A 1-based line and column (in characters) inside an imported text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

impl Location {
    /// The location of byte `offset` in `text` (clamped to the text, and to a char boundary).
    pub fn of_offset(text: &str, offset: usize) -> Self {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Self {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }

    /// Like [`Location::of_offset`] for bytes that may not be valid UTF-8 after `offset`.
    fn of_byte_offset(bytes: &[u8], offset: usize) -> Self {
        let valid = std::str::from_utf8(&bytes[..offset]).unwrap_or_default();
        Self::of_offset(valid, offset)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Why the raw bytes cannot be read as text at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("it is empty")]
    Empty,
    #[error("it is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("it is UTF-16 ({0}); only UTF-8 is accepted")]
    Utf16(&'static str),
    #[error("it contains a NUL byte at byte {offset}; it is binary, or UTF-16/32 without a BOM")]
    NulByte { offset: usize },
    #[error(
        "it is not valid UTF-8 at {location} (byte {offset}); it may be Latin-1 or another \
         legacy encoding, which is not accepted"
    )]
    NotUtf8 { location: Location, offset: usize },
}

/// Returns the text of `bytes` if it is non-empty UTF-8 within `max_bytes`. A UTF-8 byte-order
/// mark is dropped.
pub fn decode_utf8(bytes: &[u8], max_bytes: usize) -> Result<&str, TextError> {
    if bytes.len() > max_bytes {
        return Err(TextError::TooLarge {
            size: bytes.len(),
            limit: max_bytes,
        });
    }
    if bytes.starts_with(&[0xFF, 0xFE]) {
        return Err(TextError::Utf16("little-endian, with a byte-order mark"));
    }
    if bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(TextError::Utf16("big-endian, with a byte-order mark"));
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    // UTF-16 text of ASCII characters without a BOM has a zero in every other byte; name it
    // rather than report a confusing syntax error later.
    match bytes {
        [0, b, ..] if *b != 0 => {
            return Err(TextError::Utf16("big-endian, without a byte-order mark"))
        }
        [b, 0, ..] if *b != 0 => {
            return Err(TextError::Utf16("little-endian, without a byte-order mark"))
        }
        _ => {}
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(TextError::NulByte { offset });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| TextError::NotUtf8 {
        location: Location::of_byte_offset(bytes, e.valid_up_to()),
        offset: e.valid_up_to(),
    })?;
    if text.trim().is_empty() {
        return Err(TextError::Empty);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_one_based_and_count_characters() {
        let text = "ab\nçd\nef";
        assert_eq!(
            Location::of_offset(text, 0),
            Location { line: 1, column: 1 }
        );
        assert_eq!(
            Location::of_offset(text, 3),
            Location { line: 2, column: 1 }
        );
        // 'd' sits after the two-byte 'ç'.
        assert_eq!(
            Location::of_offset(text, 5),
            Location { line: 2, column: 2 }
        );
        assert_eq!(
            Location::of_offset(text, 999),
            Location { line: 3, column: 3 }
        );
    }

    #[test]
    fn encodings_other_than_utf8_are_named() {
        let utf16le: Vec<u8> = "<a/>".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let utf16be: Vec<u8> = "<a/>".encode_utf16().flat_map(u16::to_be_bytes).collect();
        let mut with_bom = vec![0xFF, 0xFE];
        with_bom.extend_from_slice(&utf16le);
        let cases: [(&[u8], &str); 5] = [
            (&utf16le, "little-endian, without"),
            (&utf16be, "big-endian, without"),
            (&with_bom, "little-endian, with a byte-order mark"),
            (
                b"<a>caf\xe9</a>\n",
                "not valid UTF-8 at line 1, column 7 (byte 6)",
            ),
            (b"<a>\0</a>", "NUL byte at byte 3"),
        ];
        for (bytes, want) in cases {
            let err = decode_utf8(bytes, 1024).unwrap_err().to_string();
            assert!(err.contains(want), "{err:?} lacks {want:?}");
        }
    }

    #[test]
    fn size_emptiness_and_bom() {
        assert_eq!(decode_utf8(b"", 10), Err(TextError::Empty));
        assert_eq!(decode_utf8(b" \n", 10), Err(TextError::Empty));
        assert_eq!(
            decode_utf8(b"12345", 4),
            Err(TextError::TooLarge { size: 5, limit: 4 })
        );
        assert_eq!(decode_utf8(b"\xEF\xBB\xBF<a/>", 10), Ok("<a/>"));
    }
}
