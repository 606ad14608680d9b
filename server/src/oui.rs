//! MAC vendor lookup in the IEEE registries (MA-L, MA-M, MA-S, CID and IAB).
//!
//! The registry comes from the `oui-data` crate, which embeds IEEE's published CSV files at
//! build time as a perfect-hash map: no runtime file, no start-up parse, and the same answer
//! on every machine. Updating the registry means updating that crate.

use crate::discovery::MacAddress;

/// Which IEEE registry an assignment comes from; it tells how many leading bits identify the
/// vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registry {
    /// 24-bit MA-L (the classic OUI).
    MaL,
    /// 28-bit MA-M.
    MaM,
    /// 36-bit MA-S.
    MaS,
    /// 24-bit Company ID (used with locally administered addresses).
    Cid,
    /// 36-bit Individual Address Block (the predecessor of MA-S).
    Iab,
}

impl Registry {
    /// Number of leading address bits the assignment covers.
    pub fn prefix_bits(&self) -> u8 {
        match self {
            Self::MaL | Self::Cid => 24,
            Self::MaM => 28,
            Self::MaS | Self::Iab => 36,
        }
    }
}

/// The registered owner of a MAC address block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VendorEntry {
    /// Organisation name as registered, e.g. `Microsoft Corporation`.
    pub name: &'static str,
    /// The assignment in upper-case hex without separators (6, 7 or 9 digits).
    pub prefix: &'static str,
    pub registry: Registry,
}

/// The registered vendor of `mac`, most specific assignment first (MA-S, then MA-M, then
/// MA-L), so that blocks IEEE sub-divides name the actual buyer.
///
/// Locally administered addresses give `None`: they are usually randomised, and a vendor
/// found from their first octets would be a coincidence.
pub fn lookup(mac: &MacAddress) -> Option<VendorEntry> {
    if mac.is_locally_administered() {
        return None;
    }
    let mut compact = [0u8; 12];
    mac.write_compact(&mut compact);
    // write_compact writes ASCII hex only, so this cannot fail.
    let compact = std::str::from_utf8(&compact).ok()?;
    let record = oui_data::lookup(compact)?;
    Some(VendorEntry {
        name: record.organization(),
        prefix: record.oui(),
        registry: match record.registry() {
            oui_data::Registry::Mal => Registry::MaL,
            oui_data::Registry::Mam => Registry::MaM,
            oui_data::Registry::Mas => Registry::MaS,
            oui_data::Registry::Cid => Registry::Cid,
            oui_data::Registry::Iab => Registry::Iab,
        },
    })
}

/// The registered vendor name of `mac`; see [`lookup`].
pub fn vendor_name(mac: &MacAddress) -> Option<&'static str> {
    lookup(mac).map(|entry| entry.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vendor(mac: &str) -> Option<&'static str> {
        vendor_name(&MacAddress::parse(mac).unwrap())
    }

    #[test]
    fn real_ma_l_entries() {
        let cases = [
            ("00:15:5D:A1:B2:C3", "Microsoft"),
            ("00:00:0C:12:34:56", "Cisco"),
            ("3C:D9:2B:12:34:56", "Hewlett Packard"),
            ("00:04:F2:12:34:56", "Polycom"),
            ("00:40:8C:AB:CD:EF", "Axis Communications"),
            ("B8:27:EB:00:00:01", "Raspberry Pi"),
        ];
        for (mac, want) in cases {
            let got = vendor(mac).unwrap_or_else(|| panic!("{mac} has no vendor"));
            assert!(got.contains(want), "{mac}: {got:?} lacks {want:?}");
        }
    }

    #[test]
    fn sub_divided_blocks_name_the_buyer_not_ieee() {
        // 70:B3:D5 is an MA-L that IEEE itself holds and sells on in 36-bit MA-S pieces.
        let entry = lookup(&MacAddress::parse("70:B3:D5:F2:F0:01").unwrap()).unwrap();
        assert_eq!(entry.registry, Registry::MaS);
        assert_eq!(entry.prefix, "70B3D5F2F");
        assert_eq!(entry.registry.prefix_bits(), 36);
        assert!(!entry.name.contains("IEEE"), "{entry:?}");
    }

    #[test]
    fn ma_m_blocks_are_found() {
        let entry = lookup(&MacAddress::parse("20:85:93:B0:00:01").unwrap()).unwrap();
        assert_eq!(entry.registry, Registry::MaM);
        assert_eq!(entry.prefix, "208593B");
        assert_eq!(entry.name, "IOG Products LLC");
    }

    #[test]
    fn locally_administered_and_unassigned_addresses_have_no_vendor() {
        assert_eq!(vendor("02:15:5D:A1:B2:C3"), None);
        assert_eq!(vendor("DA:A1:19:00:11:22"), None);
    }
}
