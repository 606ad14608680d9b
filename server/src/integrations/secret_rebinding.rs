//! The one-time migration of Defender secrets sealed before secrets were bound to where they
//! go (their associated data was the purpose alone, [`DEFENDER_SECRET_PURPOSE`]).
//!
//! It runs at startup, before the schedule, the action poller or any request can read the
//! secret: a stored secret that opens only under the old associated data is sealed again,
//! bound to the settings stored beside it (`sealed_secret`), and the row is updated in
//! place. Nothing else ever opens a secret under the old associated data, so once re-sealed
//! it is bound for good, and a later edit of the settings cannot move it. The binding trusts
//! the settings as they are at that first start; before the upgrade any edit of them would
//! have sent the secret anyway.

use crate::db::{AuditStore, DbError, IntegrationStore};
use crate::secret_box::SecretBox;

use super::defender;
use super::{sealed_secret, DEFENDER_SECRET_PURPOSE};

/// What the migration found.
#[derive(Debug, PartialEq, Eq)]
pub enum Rebinding {
    /// No Defender configuration, or no secret stored.
    NoSecret,
    /// The secret is already bound to its settings.
    AlreadyBound,
    /// A legacy secret, now bound to the stored settings.
    Rebound,
    /// Neither seal opens it (other key file, altered value or settings), or the settings
    /// name no usable hosts: left as it is, it cannot be used until entered again.
    Unusable,
}

/// Re-seals a legacy Defender secret bound to its stored settings; see the module docs.
#[tracing::instrument(skip_all)]
pub async fn rebind_legacy_secret(
    store: &dyn IntegrationStore,
    audit: &dyn AuditStore,
    secrets: &SecretBox,
) -> Result<Rebinding, DbError> {
    let Some(saved) = defender::saved(store).await? else {
        return Ok(Rebinding::NoSecret);
    };
    let Some(sealed) = saved.sealed_secret() else {
        return Ok(Rebinding::NoSecret);
    };
    let Some(settings) = &saved.settings else {
        tracing::warn!("the stored Defender settings are unreadable; the secret stays unusable");
        return Ok(Rebinding::Unusable);
    };
    if sealed_secret::open(secrets, sealed, settings).is_ok() {
        return Ok(Rebinding::AlreadyBound);
    }
    let Ok(secret) = secrets.open(sealed, DEFENDER_SECRET_PURPOSE) else {
        tracing::warn!("the stored Defender secret does not open; it must be entered again");
        return Ok(Rebinding::Unusable);
    };
    let resealed = match sealed_secret::seal(secrets, &secret, settings) {
        Ok(resealed) => resealed,
        Err(e) => {
            tracing::warn!(error = %e, "the stored Defender settings name no usable hosts; \
                the secret must be entered again");
            return Ok(Rebinding::Unusable);
        }
    };
    if !defender::reseal(store, sealed, &resealed).await? {
        // Someone saved a new secret meanwhile; theirs is bound already.
        return Ok(Rebinding::AlreadyBound);
    }
    let endpoints = settings
        .endpoints()
        .expect("sealing succeeded, so the settings resolve");
    let detail = format!(
        "client secret re-sealed, bound to tenant ID {:?}, client ID {:?}, login URL {:?}, \
         API URL {:?}",
        settings.tenant_id,
        settings.client_id,
        endpoints.login_base.as_str(),
        endpoints.api_base.as_str()
    );
    audit
        .record("system", "integration.defender.secret_rebound", &detail)
        .await?;
    tracing::info!("bound the stored Defender secret to its tenant, client and hosts");
    Ok(Rebinding::Rebound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{self, Pool};
    use crate::integrations::defender::Write;
    use crate::integrations::defender_settings::StoredDefenderSettings;

    const SECRET: &str = "Legacy~Sealed.Secret-1";

    fn settings() -> StoredDefenderSettings {
        StoredDefenderSettings {
            tenant_id: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d".into(),
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            cloud: "commercial".into(),
            custom_login_url: "http://127.0.0.1:8950".into(),
            custom_api_url: "http://127.0.0.1:8950".into(),
            ..Default::default()
        }
    }

    async fn pool_with(sealed: &str) -> (tempfile::TempDir, Pool) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let pool = db::open(&url).await.unwrap();
        defender::write(
            &pool,
            Write {
                enabled: true,
                settings: &settings(),
                sealed: Some(sealed),
                demo: false,
                next_sync_at: None,
                actor: "admin",
            },
        )
        .await
        .unwrap();
        (dir, pool)
    }

    async fn stored(pool: &Pool) -> defender::Saved {
        defender::saved(pool).await.unwrap().unwrap()
    }

    async fn stored_sealed(pool: &Pool) -> String {
        stored(pool).await.sealed_secret().unwrap().to_owned()
    }

    #[tokio::test]
    async fn a_legacy_secret_is_rebound_once_to_its_stored_settings() {
        let secrets = SecretBox::new(&[9; 32]);
        let legacy = secrets.seal(SECRET, DEFENDER_SECRET_PURPOSE);
        let (_dir, pool) = pool_with(&legacy).await;
        let changed_at = stored(&pool).await.secret_changed_at;

        assert_eq!(
            rebind_legacy_secret(&pool, &pool, &secrets).await.unwrap(),
            Rebinding::Rebound
        );
        let row = stored(&pool).await;
        let sealed = row.sealed_secret().unwrap().to_owned();
        assert_ne!(sealed, legacy);
        assert_eq!(
            row.secret_changed_at, changed_at,
            "the secret did not change"
        );
        assert_eq!(
            sealed_secret::open(&secrets, &sealed, &settings()).unwrap(),
            SECRET
        );
        assert!(secrets.open(&sealed, DEFENDER_SECRET_PURPOSE).is_err());
        let audit = AuditStore::recent(&pool, 10).await.unwrap();
        assert!(audit
            .iter()
            .any(|a| a.action == "integration.defender.secret_rebound"
                && a.detail.contains("http://127.0.0.1:8950/")
                && !a.detail.contains(SECRET)));

        // Once bound, an edit of the settings does not move it, at the next start either.
        let tampered = StoredDefenderSettings {
            custom_login_url: "http://127.0.0.1:9999".into(),
            ..settings()
        };
        crate::on_pool!(&pool, |db| {
            sqlx::query("UPDATE integration SET settings = $1")
                .bind(db::JsonText(tampered.to_json()))
                .execute(db)
                .await
                .unwrap();
        });
        assert_eq!(
            rebind_legacy_secret(&pool, &pool, &secrets).await.unwrap(),
            Rebinding::Unusable
        );
        assert_eq!(stored_sealed(&pool).await, sealed);
        assert!(sealed_secret::open(&secrets, &sealed, &tampered).is_err());
    }

    #[tokio::test]
    async fn bound_missing_and_foreign_secrets_are_left_alone() {
        let secrets = SecretBox::new(&[9; 32]);
        let bound = sealed_secret::seal(&secrets, SECRET, &settings()).unwrap();
        let (_dir, pool) = pool_with(&bound).await;
        assert_eq!(
            rebind_legacy_secret(&pool, &pool, &secrets).await.unwrap(),
            Rebinding::AlreadyBound
        );
        assert_eq!(stored_sealed(&pool).await, bound);

        let other_key = SecretBox::new(&[1; 32]).seal(SECRET, DEFENDER_SECRET_PURPOSE);
        let (_dir, pool) = pool_with(&other_key).await;
        assert_eq!(
            rebind_legacy_secret(&pool, &pool, &secrets).await.unwrap(),
            Rebinding::Unusable
        );
        assert_eq!(stored_sealed(&pool).await, other_key);

        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let empty = db::open(&url).await.unwrap();
        assert_eq!(
            rebind_legacy_secret(&empty, &empty, &secrets)
                .await
                .unwrap(),
            Rebinding::NoSecret
        );
    }
}
