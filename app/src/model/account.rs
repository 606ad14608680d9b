//! Accounts as Configuration > Users shows them to Administrators.

use serde::{Deserialize, Serialize};

use super::user::Role;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub id: i64,
    pub username: String,
    pub role: Role,
    /// Cannot sign in, and has no session.
    pub disabled: bool,
    /// Signs in with a password someone else chose and must replace it first.
    pub must_change_password: bool,
    pub created_at: String,
}

impl AccountView {
    /// One word for the state column: a disabled account's pending change does not matter
    /// until it is enabled again.
    pub fn state_label(&self) -> &'static str {
        if self.disabled {
            "Disabled"
        } else if self.must_change_password {
            "Must change password"
        } else {
            "Active"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_label_puts_disabled_first() {
        let view = |disabled, must_change_password| AccountView {
            id: 1,
            username: "u".into(),
            role: Role::Analyst,
            disabled,
            must_change_password,
            created_at: String::new(),
        };
        assert_eq!(view(false, false).state_label(), "Active");
        assert_eq!(view(false, true).state_label(), "Must change password");
        assert_eq!(view(true, true).state_label(), "Disabled");
    }
}
