//! MAC addresses: the spellings our sources use, one canonical form, and the flags that matter
//! for inventory (a locally administered address is usually a randomised one).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A unicast, globally meaningful 48-bit MAC address.
///
/// Parsing accepts `00:15:5D:A1:B2:C3`, `00-15-5d-a1-b2-c3`, `00155DA1B2C3` (Defender's
/// `macAddress`, `defender-api.md` §5.2), `0015.5da1.b2c3` (Cisco) and single-digit octets such
/// as `0:15:5d:a1:b2:c3` (BSD `arp`). [`fmt::Display`] gives the canonical form: upper-case,
/// colon-separated. Broadcast, all-zero and other group (multicast) addresses are refused: no
/// network card owns them, so they cannot identify an endpoint.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddress([u8; 6]);

/// Why a string is not an acceptable MAC address. The messages are phrased to follow the
/// offending value, e.g. `"address 'zz' {error}"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MacError {
    #[error("is empty")]
    Empty,
    #[error("is not a MAC address (expected six hex octets, e.g. 00:15:5D:A1:B2:C3)")]
    Malformed,
    #[error("is the broadcast address, which no device owns")]
    Broadcast,
    #[error("is the all-zero address, which no device owns")]
    AllZero,
    #[error("is a multicast (group) address, which no device owns")]
    Multicast,
}

impl MacAddress {
    /// Parses any accepted spelling (surrounding whitespace ignored).
    pub fn parse(text: &str) -> Result<Self, MacError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(MacError::Empty);
        }
        let octets = if text.contains([':', '-']) {
            parse_separated(text)
        } else if text.contains('.') {
            parse_dotted(text)
        } else {
            parse_bare(text)
        }
        .ok_or(MacError::Malformed)?;
        Self::from_octets(octets)
    }

    /// Checks raw octets with the same rules as [`MacAddress::parse`].
    pub fn from_octets(octets: [u8; 6]) -> Result<Self, MacError> {
        if octets == [0xff; 6] {
            Err(MacError::Broadcast)
        } else if octets == [0; 6] {
            Err(MacError::AllZero)
        } else if octets[0] & 0x01 != 0 {
            Err(MacError::Multicast)
        } else {
            Ok(Self(octets))
        }
    }

    pub fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// The first three octets: the IEEE MA-L block, which is what most vendor lookups need.
    pub fn oui(&self) -> [u8; 3] {
        [self.0[0], self.0[1], self.0[2]]
    }

    /// The U/L bit is set: the address was not assigned by a vendor. Phones and laptops set it
    /// when they randomise their MAC per network, so such an address may change over time.
    pub fn is_locally_administered(&self) -> bool {
        self.0[0] & 0x02 != 0
    }

    /// Twelve upper-case hex digits without separators, as Defender writes them.
    pub fn to_compact(&self) -> String {
        let mut out = String::with_capacity(12);
        for octet in self.0 {
            push_hex(&mut out, octet);
        }
        out
    }

    /// Writes the compact form into `buf` without allocating; used by the OUI lookup.
    pub(crate) fn write_compact(&self, buf: &mut [u8; 12]) {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        for (i, octet) in self.0.iter().enumerate() {
            buf[2 * i] = HEX[usize::from(octet >> 4)];
            buf[2 * i + 1] = HEX[usize::from(octet & 0x0f)];
        }
    }
}

fn push_hex(out: &mut String, octet: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push(char::from(HEX[usize::from(octet >> 4)]));
    out.push(char::from(HEX[usize::from(octet & 0x0f)]));
}

/// `aa:bb:cc:dd:ee:ff` or `aa-bb-...`, one separator kind throughout, one or two digits a group.
fn parse_separated(text: &str) -> Option<[u8; 6]> {
    let separator = if text.contains(':') { ':' } else { '-' };
    let mut octets = [0u8; 6];
    let mut groups = text.split(separator);
    for octet in &mut octets {
        let group = groups.next()?;
        if group.is_empty() || group.len() > 2 {
            return None;
        }
        *octet = parse_hex(group)? as u8;
    }
    groups.next().is_none().then_some(octets)
}

/// Cisco's `aabb.ccdd.eeff`.
fn parse_dotted(text: &str) -> Option<[u8; 6]> {
    let mut octets = [0u8; 6];
    let mut groups = text.split('.');
    for pair in octets.chunks_exact_mut(2) {
        let group = groups.next()?;
        if group.len() != 4 {
            return None;
        }
        let value = parse_hex(group)?;
        pair[0] = (value >> 8) as u8;
        pair[1] = (value & 0xff) as u8;
    }
    groups.next().is_none().then_some(octets)
}

/// Defender's `aabbccddeeff`.
fn parse_bare(text: &str) -> Option<[u8; 6]> {
    if text.len() != 12 {
        return None;
    }
    let mut octets = [0u8; 6];
    for (i, octet) in octets.iter_mut().enumerate() {
        *octet = parse_hex(text.get(2 * i..2 * i + 2)?)? as u8;
    }
    Some(octets)
}

/// Hex digits only: `u16::from_str_radix` would also take a leading `+`.
fn parse_hex(group: &str) -> Option<u16> {
    if !group.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(group, 16).ok()
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02X}:{b:02X}:{c:02X}:{d:02X}:{e:02X}:{g:02X}")
    }
}

impl fmt::Debug for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MacAddress({self})")
    }
}

impl FromStr for MacAddress {
    type Err = MacError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl Serialize for MacAddress {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MacAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(|e| serde::de::Error::custom(format!("'{text}' {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_spellings_give_one_canonical_form() {
        let cases = [
            "00:15:5D:A1:B2:C3",
            "00:15:5d:a1:b2:c3",
            "00-15-5d-a1-b2-c3",
            "00155DA1B2C3",
            "00155da1b2c3",
            "0015.5da1.b2c3",
            "0:15:5d:a1:b2:c3",
            "  00:15:5D:A1:B2:C3\n",
        ];
        for text in cases {
            let mac = MacAddress::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(mac.to_string(), "00:15:5D:A1:B2:C3", "{text:?}");
            assert_eq!(mac.to_compact(), "00155DA1B2C3", "{text:?}");
        }
    }

    #[test]
    fn malformed_spellings_are_refused() {
        let cases = [
            ("", MacError::Empty),
            ("   ", MacError::Empty),
            ("zz:15:5d:a1:b2:c3", MacError::Malformed),
            ("00:15:5d:a1:b2", MacError::Malformed),
            ("00:15:5d:a1:b2:c3:d4", MacError::Malformed),
            ("00:15-5d:a1:b2:c3", MacError::Malformed),
            ("000:15:5d:a1:b2:c3", MacError::Malformed),
            ("00::5d:a1:b2:c3", MacError::Malformed),
            ("00155DA1B2C", MacError::Malformed),
            ("00155DA1B2C3D", MacError::Malformed),
            ("0015.5da1.b2c", MacError::Malformed),
            ("0015.5da1.b2c3.0000", MacError::Malformed),
            ("+0:15:5d:a1:b2:c3", MacError::Malformed),
            ("00155DA1B2É", MacError::Malformed),
            ("10.99.0.1", MacError::Malformed),
        ];
        for (text, want) in cases {
            assert_eq!(MacAddress::parse(text), Err(want), "{text:?}");
        }
    }

    #[test]
    fn addresses_no_device_owns_are_refused() {
        let cases = [
            ("FF:FF:FF:FF:FF:FF", MacError::Broadcast),
            ("ffff.ffff.ffff", MacError::Broadcast),
            ("00:00:00:00:00:00", MacError::AllZero),
            ("000000000000", MacError::AllZero),
            ("01:00:5E:00:00:FB", MacError::Multicast),
            ("33:33:00:00:00:01", MacError::Multicast),
        ];
        for (text, want) in cases {
            assert_eq!(MacAddress::parse(text), Err(want), "{text:?}");
        }
    }

    #[test]
    fn locally_administered_addresses_are_flagged() {
        let cases = [
            ("00:15:5D:A1:B2:C3", false),
            ("02:15:5D:A1:B2:C3", true),
            ("DA:A1:19:00:11:22", true),
            ("3C:22:FB:00:11:22", false),
        ];
        for (text, want) in cases {
            assert_eq!(
                MacAddress::parse(text).unwrap().is_locally_administered(),
                want,
                "{text}"
            );
        }
    }

    #[test]
    fn serde_uses_the_canonical_form() {
        let mac: MacAddress = serde_json::from_str("\"00155da1b2c3\"").unwrap();
        assert_eq!(
            serde_json::to_string(&mac).unwrap(),
            "\"00:15:5D:A1:B2:C3\""
        );
        let err = serde_json::from_str::<MacAddress>("\"ff:ff:ff:ff:ff:ff\"").unwrap_err();
        assert!(err.to_string().contains("broadcast"), "{err}");
    }

    #[test]
    fn compact_buffer_matches_compact_string() {
        let mac = MacAddress::parse("AC:DE:48:00:11:22").unwrap();
        let mut buf = [0u8; 12];
        mac.write_compact(&mut buf);
        assert_eq!(std::str::from_utf8(&buf).unwrap(), mac.to_compact());
        assert_eq!(mac.oui(), [0xAC, 0xDE, 0x48]);
    }
}
