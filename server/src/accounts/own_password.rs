//! A user changing their own password: the current one is required, so a session left open
//! is not enough to take the account over.

use app::backend::PasswordChange;
use app::model::user::validate_password;

use super::{hash, AccountError, Accounts};
use crate::auth::password;
use crate::auth::session_store::stored_key;

impl Accounts {
    /// Replaces the password, clears a pending forced change, and ends every other session
    /// of the account: whoever else knew the old password is signed out. The session the
    /// change was made from (`session_id`) stays signed in.
    #[tracing::instrument(skip_all, fields(account_id = account_id))]
    pub async fn change_own_password(
        &self,
        account_id: i64,
        session_id: &str,
        change: PasswordChange,
    ) -> Result<(), AccountError> {
        let invalid = |field, message: &str| AccountError::Invalid {
            field,
            message: message.to_owned(),
        };
        let row = self
            .accounts
            .by_id(account_id)
            .await?
            .ok_or(AccountError::NotFound)?;
        if !password::verify(
            change.current.expose().to_owned(),
            Some(row.password_hash.clone()),
        )
        .await
        {
            tracing::warn!("password change with a wrong current password");
            return Err(invalid(
                "current_password",
                "This is not your current password.",
            ));
        }
        validate_password(change.new.expose()).map_err(|m| invalid("new_password", &m))?;
        if change.new != change.repeated {
            return Err(invalid(
                "new_password_again",
                "The two new passwords differ.",
            ));
        }
        if change.new == change.current {
            return Err(invalid(
                "new_password",
                "Choose a password other than the current one.",
            ));
        }
        let hashed = hash(change.new.expose()).await?;
        let keep = stored_key(session_id);
        let mut tx = self.database.begin_write().await?;
        if !self
            .accounts
            .set_password(&mut tx, account_id, &hashed, false)
            .await?
        {
            return Err(AccountError::NotFound);
        }
        let ended = self
            .sessions_table
            .end_all_of(&mut tx, account_id, keep.as_deref())
            .await?;
        let detail = format!("{ended} other sessions ended");
        self.audit
            .record_in(&mut tx, &row.username, "account.password_change", &detail)
            .await?;
        tx.commit().await?;
        self.password_replaced(&row.username);
        Ok(())
    }
}
