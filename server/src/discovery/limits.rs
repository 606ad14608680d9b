//! Size limits for imported discovery data, so that a hostile or broken file costs bounded
//! memory and time before it is refused.

/// Caps applied while parsing one import. Every cap is checked before the data is accepted;
/// going over one refuses the whole import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Size of the raw file or request body.
    pub max_bytes: usize,
    /// Hosts in an nmap file, observations in a sensor body.
    pub max_records: usize,
    /// IP and MAC addresses on one record.
    pub max_addresses: usize,
    /// Hostnames on one record.
    pub max_hostnames: usize,
    /// Open ports on one record.
    pub max_ports: usize,
    /// OS-detection matches on one record.
    pub max_os_matches: usize,
    /// Length in bytes of any one text value (hostname, vendor class, OS name...).
    pub max_text_len: usize,
}

impl Limits {
    /// For `nmap -oX` files: a full-port service scan of a /16 runs to tens of megabytes.
    pub const NMAP_XML: Limits = Limits {
        max_bytes: 64 * 1024 * 1024,
        max_records: 65_536,
        max_addresses: 32,
        max_hostnames: 32,
        // Every TCP and UDP port of one host.
        max_ports: 2 * 65_535,
        max_os_matches: 64,
        max_text_len: 1024,
    };

    /// For one sensor POST: sensors send often and in small batches.
    pub const SENSOR_JSON: Limits = Limits {
        max_bytes: 4 * 1024 * 1024,
        max_records: 10_000,
        max_addresses: 16,
        max_hostnames: 16,
        max_ports: 1024,
        max_os_matches: 16,
        // A DNS name is at most 253 characters; DHCP options at most 255 bytes.
        max_text_len: 255,
    };
}

/// Shortens a value quoted in an error message, so that a huge bad value does not make a huge
/// message, and escapes control characters so that it cannot garble a log line.
pub(crate) fn shorten(value: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut short = String::new();
    for (i, c) in value.chars().enumerate() {
        if i == MAX_CHARS {
            short.push('…');
            break;
        }
        if c.is_control() {
            short.extend(c.escape_default());
        } else {
            short.push(c);
        }
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_keeps_short_values_and_cuts_long_ones_on_char_boundaries() {
        assert_eq!(shorten("zz:15"), "zz:15");
        let long = "é".repeat(100);
        let short = shorten(&long);
        assert_eq!(short.chars().count(), 41);
        assert!(short.ends_with('…'));
        assert_eq!(shorten("a\u{0}b\n"), "a\\u{0}b\\n");
    }
}
