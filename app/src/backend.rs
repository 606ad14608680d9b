//! The port between server fns and the server: a small trait the `server` crate implements.
//!
//! Server fns live in `app` (the browser needs their stubs) but `app` cannot depend on
//! `server`; the implementation is handed in once through `leptos_routes_with_context`.

use std::net::IpAddr;
use std::sync::Arc;

use crate::error::ConsoleError;
use crate::model::user::{Role, UserDto};

/// Everything the server fns need from the server, already authorised by the caller.
#[async_trait::async_trait]
pub trait ConsoleBackend: Send + Sync + 'static {
    /// Checks a password, applying the per-account and per-address login throttle.
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<UserDto, ConsoleError>;

    /// The account behind a session, if it still exists.
    async fn user(&self, user_id: i64) -> Result<Option<UserDto>, ConsoleError>;

    async fn list_users(&self) -> Result<Vec<UserDto>, ConsoleError>;

    async fn create_user(
        &self,
        actor: &UserDto,
        username: &str,
        password: &str,
        role: Role,
    ) -> Result<UserDto, ConsoleError>;

    /// Records a security-relevant event (logins, logouts) in the audit log.
    async fn audit(&self, actor: &str, action: &str, detail: &str) -> Result<(), ConsoleError>;
}

/// How the port travels in the Leptos context.
pub type SharedBackend = Arc<dyn ConsoleBackend>;
