//! Accounts and roles as the console shows them.

use serde::{Deserialize, Serialize};

/// Roles as admins of this product class know them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Everything, including user management.
    Administrator,
    /// Everything but user management.
    Operator,
    /// Read only.
    Analyst,
}

/// What a request needs to be allowed; each server fn names one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capability {
    /// See inventory, risk, integration state.
    Read,
    /// Change configuration, run syncs, act on machines.
    Operate,
    /// Create and change accounts.
    ManageUsers,
    /// Overrule the identity rules: split a Defender machine off an endpoint, undo a split.
    CorrectIdentity,
    /// Choose where the Defender credentials are sent: the geo API host and the custom login
    /// and API URLs. Whoever sets them receives the client secret and the access tokens.
    ChooseDefenderHosts,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Administrator, Role::Operator, Role::Analyst];

    pub fn allows(self, capability: Capability) -> bool {
        match capability {
            Capability::Read => true,
            Capability::Operate => matches!(self, Role::Administrator | Role::Operator),
            Capability::ManageUsers
            | Capability::CorrectIdentity
            | Capability::ChooseDefenderHosts => self == Role::Administrator,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "Administrator",
            Role::Operator => "Operator",
            Role::Analyst => "Analyst",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == value)
    }
}

/// The signed-in user, as the shell shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDto {
    pub id: i64,
    pub username: String,
    pub role: Role,
    /// The password is one someone else chose (a reset, or the one generated at first start):
    /// until the user picks their own, the console offers nothing else.
    pub must_change_password: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_follow_the_role_table() {
        let table = [
            (Role::Administrator, [true, true, true, true, true]),
            (Role::Operator, [true, true, false, false, false]),
            (Role::Analyst, [true, false, false, false, false]),
        ];
        for (role, expected) in table {
            let got = [
                Capability::Read,
                Capability::Operate,
                Capability::ManageUsers,
                Capability::CorrectIdentity,
                Capability::ChooseDefenderHosts,
            ]
            .map(|c| role.allows(c));
            assert_eq!(got, expected, "{role:?}");
        }
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}

/// Usernames: 3 to 64 letters, digits, dots, dashes and underscores.
pub fn validate_username(username: &str) -> Result<(), String> {
    let ok_len = (3..=64).contains(&username.chars().count());
    let ok_chars = username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok_len && ok_chars {
        Ok(())
    } else {
        Err("3 to 64 characters: letters, digits, dots, dashes, underscores.".into())
    }
}

/// Passwords: at least 12 characters, at most 256 (argon2 input stays bounded).
pub fn validate_password(password: &str) -> Result<(), String> {
    match password.chars().count() {
        0..=11 => Err("At least 12 characters.".into()),
        257.. => Err("At most 256 characters.".into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod validation_tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["admin", "a.b-c_d", "abc"] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "", "has space", "<script>", &"x".repeat(65)] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        assert!(validate_password("short").is_err());
        assert!(validate_password("twelve chars").is_ok());
        assert!(validate_password(&"p".repeat(257)).is_err());
    }
}
