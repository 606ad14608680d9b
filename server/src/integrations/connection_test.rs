//! Test Connection: signs in with the given values, calls the API, and reads the permissions
//! in the token. A failure is a report with a plain fix, never an error.
//!
//! The hosts tested may be anyone's, so a report never repeats what a host sent: failures
//! are described by `DefenderError::classified` (statuses, classified AADSTS codes, known
//! permissions), never by a body's text.

use app::model::integration::{CheckResult, ConnectionReport, PermissionRow};

use crate::defender::{feature_access, ClientOptions, DefenderError};

use super::defender_settings::StoredDefenderSettings;

fn passed(name: &str, detail: String) -> CheckResult {
    CheckResult {
        name: name.into(),
        passed: true,
        detail,
        fix: None,
    }
}

fn failed(name: &str, detail: String, fix: &str) -> CheckResult {
    CheckResult {
        name: name.into(),
        passed: false,
        detail,
        fix: Some(fix.into()),
    }
}

/// Runs every check it can; later checks are skipped (and not reported) once a token cannot
/// be had, since they would only repeat the same failure.
#[tracing::instrument(skip_all, fields(tenant = %settings.tenant_id))]
pub async fn run(
    settings: &StoredDefenderSettings,
    secret: String,
    options: ClientOptions,
) -> ConnectionReport {
    let mut checks = Vec::new();
    let client = match settings.client(secret, options) {
        Ok(client) => client,
        Err(e) => {
            checks.push(failed(
                "Settings",
                e.to_string(),
                "Correct the highlighted settings.",
            ));
            return ConnectionReport {
                checks,
                permissions: Vec::new(),
                passed: false,
            };
        }
    };

    let roles = match client.granted_roles().await {
        Ok(roles) => {
            checks.push(passed(
                "Token obtained",
                format!(
                    "Microsoft Entra issued an access token with {} application permission(s).",
                    roles.len()
                ),
            ));
            roles
        }
        Err(DefenderError::TokenRejected { kind, .. }) => {
            checks.push(failed(
                "Token obtained",
                "Microsoft Entra refused to issue a token.".into(),
                &kind.admin_message(),
            ));
            return ConnectionReport {
                checks,
                permissions: Vec::new(),
                passed: false,
            };
        }
        Err(e) => {
            checks.push(failed(
                "Token obtained",
                format!(
                    "The sign-in endpoint could not be used: {}.",
                    e.classified()
                ),
                "Check the cloud and any custom login URL, and that this server can reach it.",
            ));
            return ConnectionReport {
                checks,
                permissions: Vec::new(),
                passed: false,
            };
        }
    };

    match client.machine_count().await {
        Ok(count) => checks.push(passed(
            "API reachable",
            format!("The Defender API answered: {count} machines in the tenant."),
        )),
        Err(e @ DefenderError::Forbidden { .. }) if !e.missing_permissions().is_empty() => {
            checks.push(failed(
                "API reachable",
                format!(
                    "The Defender API answered but refused to list machines: {}.",
                    e.classified()
                ),
                "Add Machine.Read.All (application permission on WindowsDefenderATP) and grant admin consent.",
            ))
        }
        // A 403 that names no missing role: the token itself is not for this API (wrong
        // audience, §2.1, microsoft-365-docs#9246) or the tenant refuses the operation.
        // Adding a permission would not help.
        Err(e @ DefenderError::Forbidden { .. }) => checks.push(failed(
            "API reachable",
            format!(
                "The Defender API refused the access token ({}) without naming a missing \
                 permission: the token's audience is likely not this API.",
                e.classified()
            ),
            "Check that the cloud matches the tenant and that any custom login URL issues tokens              for the Defender for Endpoint API, and that Defender for Endpoint is enabled for              the tenant.",
        )),
        Err(e) => checks.push(failed(
            "API reachable",
            format!("The Defender API could not be used: {}.", e.classified()),
            "Check the cloud, the geo API host or custom API URL, and this server's network access.",
        )),
    }

    let access = feature_access(&roles);
    let permissions: Vec<PermissionRow> = access
        .iter()
        .map(|a| PermissionRow {
            feature: a.feature.label().to_owned(),
            needs: a
                .feature
                .any_of()
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(" or "),
            granted: a.granted,
        })
        .collect();
    let missing: Vec<&PermissionRow> = permissions.iter().filter(|p| !p.granted).collect();
    if missing.is_empty() {
        checks.push(passed(
            "Permissions",
            "Every feature has the permission it needs.".into(),
        ));
    } else {
        let list = missing
            .iter()
            .map(|p| format!("{} ({})", p.feature, p.needs))
            .collect::<Vec<_>>();
        checks.push(failed(
            "Permissions",
            format!("Missing for: {}.", list.join("; ")),
            "Add the missing application permissions on WindowsDefenderATP, then grant admin \
             consent again: permissions without consent are not in the token.",
        ));
    }
    let all_passed = checks.iter().all(|c| c.passed);
    ConnectionReport {
        checks,
        permissions,
        passed: all_passed,
    }
}
