//! What Administrators do to accounts. Every change here is audited under the acting
//! Administrator's name, with the account it changed.

use app::model::user::{validate_password, Role};

use super::{hash, AccountError, Accounts};

impl Accounts {
    /// The account can no longer sign in, and its sessions end now. Disabling a disabled
    /// account changes nothing.
    #[tracing::instrument(skip_all, fields(actor = actor, account_id = id))]
    pub async fn disable(&self, actor: &str, id: i64) -> Result<(), AccountError> {
        let mut tx = self.database.begin_write().await?;
        let row = self
            .accounts
            .by_id_in(&mut tx, id)
            .await?
            .ok_or(AccountError::NotFound)?;
        if row.disabled {
            return Ok(());
        }
        // Enabled, read under the write lock: refused only by the last-Administrator rule.
        if !self.accounts.disable(&mut tx, id).await? {
            return Err(AccountError::LastAdministrator);
        }
        let ended = self.sessions_table.end_all_of(&mut tx, id, None).await?;
        let detail = format!("{} ({ended} sessions ended)", row.username);
        self.audit
            .record_in(&mut tx, actor, "account.disable", &detail)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(actor = actor, account_id = id))]
    pub async fn enable(&self, actor: &str, id: i64) -> Result<(), AccountError> {
        let mut tx = self.database.begin_write().await?;
        let row = self
            .accounts
            .by_id_in(&mut tx, id)
            .await?
            .ok_or(AccountError::NotFound)?;
        if self.accounts.enable(&mut tx, id).await? {
            self.audit
                .record_in(&mut tx, actor, "account.enable", &row.username)
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Takes effect on the account's next request: every request reads the role afresh.
    #[tracing::instrument(skip_all, fields(actor = actor, account_id = id))]
    pub async fn set_role(&self, actor: &str, id: i64, role: Role) -> Result<(), AccountError> {
        let mut tx = self.database.begin_write().await?;
        let row = self
            .accounts
            .by_id_in(&mut tx, id)
            .await?
            .ok_or(AccountError::NotFound)?;
        if row.role == role.as_str() {
            return Ok(());
        }
        if !self.accounts.set_role(&mut tx, id, role.as_str()).await? {
            return Err(AccountError::LastAdministrator);
        }
        let detail = format!("{}: {} \u{2192} {}", row.username, row.role, role.as_str());
        self.audit
            .record_in(&mut tx, actor, "account.role", &detail)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a temporary password the user must replace at their next sign-in, and ends their
    /// sessions. Not for one's own account: that change needs the current password.
    #[tracing::instrument(skip_all, fields(actor = actor, account_id = id))]
    pub async fn reset_password(
        &self,
        actor: &str,
        actor_id: i64,
        id: i64,
        temporary: &str,
    ) -> Result<(), AccountError> {
        if id == actor_id {
            return Err(AccountError::OwnAccount(
                "Change your own password on your account page, with your current one.",
            ));
        }
        validate_password(temporary).map_err(|message| AccountError::Invalid {
            field: "password",
            message,
        })?;
        // Hashed before the transaction: argon2 is slow on purpose and the write lock is not
        // to be held meanwhile.
        let hashed = hash(temporary).await?;
        let mut tx = self.database.begin_write().await?;
        let row = self
            .accounts
            .by_id_in(&mut tx, id)
            .await?
            .ok_or(AccountError::NotFound)?;
        self.accounts
            .set_password(&mut tx, id, &hashed, true)
            .await?;
        let ended = self.sessions_table.end_all_of(&mut tx, id, None).await?;
        let detail = format!("{} ({ended} sessions ended)", row.username);
        self.audit
            .record_in(&mut tx, actor, "account.password_reset", &detail)
            .await?;
        tx.commit().await?;
        self.password_replaced(&row.username);
        Ok(())
    }

    /// `confirm` must repeat the username. The account's sessions end with it.
    #[tracing::instrument(skip_all, fields(actor = actor, account_id = id))]
    pub async fn delete(&self, actor: &str, id: i64, confirm: &str) -> Result<(), AccountError> {
        let mut tx = self.database.begin_write().await?;
        let row = self
            .accounts
            .by_id_in(&mut tx, id)
            .await?
            .ok_or(AccountError::NotFound)?;
        if confirm != row.username {
            return Err(AccountError::Invalid {
                field: "confirm",
                message: "Type the username to confirm.".into(),
            });
        }
        // First: the session records are found through the rows the delete cascades away.
        // Should the delete be refused, the rollback keeps them.
        self.sessions_table.end_all_of(&mut tx, id, None).await?;
        if !self.accounts.delete(&mut tx, id).await? {
            return Err(AccountError::LastAdministrator);
        }
        let detail = format!("{} ({})", row.username, row.role);
        self.audit
            .record_in(&mut tx, actor, "account.delete", &detail)
            .await?;
        tx.commit().await?;
        self.password_replaced(&row.username);
        Ok(())
    }
}
