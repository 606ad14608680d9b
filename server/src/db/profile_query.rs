//! Read side of the profile set, with how many endpoints each profile holds.

use super::{classify, DbError, Pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProfileListRow {
    pub name: String,
    pub origin: String,
    pub enabled: bool,
    pub risky_level: Option<String>,
    pub endpoints: i64,
}

/// Configuration > Profiles' read model.
#[async_trait::async_trait]
pub trait ProfileQuery: Send + Sync + std::fmt::Debug {
    async fn list(&self) -> Result<Vec<ProfileListRow>, DbError>;
}

#[async_trait::async_trait]
impl ProfileQuery for Pool {
    async fn list(&self) -> Result<Vec<ProfileListRow>, DbError> {
        crate::on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT p.name, p.origin, p.enabled, p.risky_level, COALESCE(c.n, 0) AS endpoints
                 FROM profile p
                 LEFT JOIN (SELECT profile_name, COUNT(*) AS n FROM endpoint_assessment
                            GROUP BY profile_name) c ON c.profile_name = p.name
                 ORDER BY p.origin, p.name",
            )
            .fetch_all(pool)
            .await
            .map_err(classify)
        })
    }
}
