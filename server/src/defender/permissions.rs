//! Which Defender application permissions each product feature needs, compared with the
//! roles in the token (defender-api.md §2.4).

use std::fmt;

/// Application permissions on WindowsDefenderATP used by the product (§2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    MachineReadAll,
    MachineReadWriteAll,
    AlertReadAll,
    AlertReadWriteAll,
    VulnerabilityReadAll,
    SoftwareReadAll,
    AdvancedQueryReadAll,
    MachineIsolate,
    MachineScan,
    MachineCollectForensics,
    MachineRestrictExecution,
    MachineStopAndQuarantine,
    MachineOffboard,
    MachineLiveResponse,
}

impl Permission {
    pub const ALL: [Permission; 14] = [
        Permission::MachineReadAll,
        Permission::MachineReadWriteAll,
        Permission::AlertReadAll,
        Permission::AlertReadWriteAll,
        Permission::VulnerabilityReadAll,
        Permission::SoftwareReadAll,
        Permission::AdvancedQueryReadAll,
        Permission::MachineIsolate,
        Permission::MachineScan,
        Permission::MachineCollectForensics,
        Permission::MachineRestrictExecution,
        Permission::MachineStopAndQuarantine,
        Permission::MachineOffboard,
        Permission::MachineLiveResponse,
    ];

    /// The permission with this role name, if it is one the product knows.
    pub fn from_name(name: &str) -> Option<Permission> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// The role name as it appears in the token and the Entra portal.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::MachineReadAll => "Machine.Read.All",
            Permission::MachineReadWriteAll => "Machine.ReadWrite.All",
            Permission::AlertReadAll => "Alert.Read.All",
            Permission::AlertReadWriteAll => "Alert.ReadWrite.All",
            Permission::VulnerabilityReadAll => "Vulnerability.Read.All",
            Permission::SoftwareReadAll => "Software.Read.All",
            Permission::AdvancedQueryReadAll => "AdvancedQuery.Read.All",
            Permission::MachineIsolate => "Machine.Isolate",
            Permission::MachineScan => "Machine.Scan",
            Permission::MachineCollectForensics => "Machine.CollectForensics",
            Permission::MachineRestrictExecution => "Machine.RestrictExecution",
            Permission::MachineStopAndQuarantine => "Machine.StopAndQuarantine",
            Permission::MachineOffboard => "Machine.Offboard",
            Permission::MachineLiveResponse => "Machine.LiveResponse",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Product features gated by permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feature {
    Inventory,
    Alerts,
    Vulnerabilities,
    Software,
    AdvancedHunting,
    IsolateRelease,
    AntivirusScan,
    ActionStatus,
    CancelAction,
}

impl Feature {
    pub const ALL: [Feature; 9] = [
        Feature::Inventory,
        Feature::Alerts,
        Feature::Vulnerabilities,
        Feature::Software,
        Feature::AdvancedHunting,
        Feature::IsolateRelease,
        Feature::AntivirusScan,
        Feature::ActionStatus,
        Feature::CancelAction,
    ];

    /// Any one of these roles grants the feature (§2.4). Action roles do not imply read
    /// roles, and read roles do not imply action roles.
    pub fn any_of(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Feature::Inventory | Feature::ActionStatus => &[MachineReadAll, MachineReadWriteAll],
            Feature::Alerts => &[AlertReadAll, AlertReadWriteAll],
            Feature::Vulnerabilities => &[VulnerabilityReadAll],
            Feature::Software => &[SoftwareReadAll],
            Feature::AdvancedHunting => &[AdvancedQueryReadAll],
            Feature::IsolateRelease => &[MachineIsolate],
            Feature::AntivirusScan => &[MachineScan],
            Feature::CancelAction => &[
                MachineIsolate,
                MachineScan,
                MachineCollectForensics,
                MachineRestrictExecution,
                MachineStopAndQuarantine,
                MachineOffboard,
                MachineLiveResponse,
            ],
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Feature::Inventory => "Device inventory",
            Feature::Alerts => "Alerts",
            Feature::Vulnerabilities => "Vulnerabilities",
            Feature::Software => "Software inventory",
            Feature::AdvancedHunting => "Advanced hunting",
            Feature::IsolateRelease => "Isolate / release devices",
            Feature::AntivirusScan => "Antivirus scan",
            Feature::ActionStatus => "Machine action status",
            Feature::CancelAction => "Cancel machine actions",
        }
    }
}

/// Whether a feature is usable with the granted roles, and if not, what to grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureAccess {
    pub feature: Feature,
    pub granted: bool,
    /// Empty when granted; otherwise the roles of which any one would do.
    pub missing_any_of: Vec<Permission>,
}

/// Compares granted `roles` (from the token, see `DefenderClient::granted_roles`) with every
/// feature's needs. Role names compare case-insensitively.
pub fn feature_access(roles: &[String]) -> Vec<FeatureAccess> {
    Feature::ALL
        .iter()
        .map(|&feature| {
            let needed = feature.any_of();
            let granted = needed
                .iter()
                .any(|p| roles.iter().any(|r| r.eq_ignore_ascii_case(p.as_str())));
            FeatureAccess {
                feature,
                granted,
                missing_any_of: if granted { Vec::new() } else { needed.to_vec() },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(roles: &[&str]) -> Vec<(Feature, bool)> {
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        feature_access(&roles)
            .into_iter()
            .map(|a| (a.feature, a.granted))
            .collect()
    }

    fn granted(roles: &[&str]) -> Vec<Feature> {
        access(roles)
            .into_iter()
            .filter(|(_, g)| *g)
            .map(|(f, _)| f)
            .collect()
    }

    #[test]
    fn permission_matrix() {
        assert!(granted(&[]).is_empty());
        assert_eq!(
            granted(&["Machine.Read.All"]),
            [Feature::Inventory, Feature::ActionStatus]
        );
        assert_eq!(
            granted(&["Machine.ReadWrite.All"]),
            [Feature::Inventory, Feature::ActionStatus]
        );
        assert_eq!(granted(&["Alert.ReadWrite.All"]), [Feature::Alerts]);
        assert_eq!(
            granted(&["Vulnerability.Read.All"]),
            [Feature::Vulnerabilities]
        );
        assert_eq!(granted(&["Software.Read.All"]), [Feature::Software]);
        assert_eq!(
            granted(&["AdvancedQuery.Read.All"]),
            [Feature::AdvancedHunting]
        );
        // An action-only role does not imply read (§2.4).
        assert_eq!(
            granted(&["Machine.Isolate"]),
            [Feature::IsolateRelease, Feature::CancelAction]
        );
        assert_eq!(
            granted(&["machine.scan"]),
            [Feature::AntivirusScan, Feature::CancelAction]
        );
        assert_eq!(granted(&["Machine.Offboard"]), [Feature::CancelAction]);
    }

    #[test]
    fn missing_lists_the_alternatives() {
        let a = feature_access(&["Machine.Isolate".to_string()]);
        let inv = a.iter().find(|a| a.feature == Feature::Inventory).unwrap();
        assert!(!inv.granted);
        assert_eq!(
            inv.missing_any_of,
            [Permission::MachineReadAll, Permission::MachineReadWriteAll]
        );
        let iso = a
            .iter()
            .find(|a| a.feature == Feature::IsolateRelease)
            .unwrap();
        assert!(iso.granted && iso.missing_any_of.is_empty());
    }
}
