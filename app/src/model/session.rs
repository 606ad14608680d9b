//! A signed-in session as its owner sees it on the account page.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// A handle for ending the session; not the session's id, which never leaves its cookie.
    pub id: i64,
    /// When it signed in.
    pub created_at: String,
    /// Its last request that counted as activity.
    pub last_seen_at: String,
    /// The address it signed in from.
    pub client: String,
    pub user_agent: String,
    /// The session this page was requested with.
    pub current: bool,
}
