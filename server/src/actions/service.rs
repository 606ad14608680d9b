//! `ActionService`: the handle the backend and the poller share: the stores, the Defender client
//! built from the saved integration, the poll timings and the poller's wake-up bell.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::db::{DbError, Stores};
use crate::defender::{ClientOptions, DefenderClient};
use crate::integrations::defender::ClientCache;
use crate::integrations::defender_settings::interactive_options;
use crate::secret_box::SecretBox;
use crate::supervisor::StopSignal;

/// How often the server asks Defender about an open action, and how it backs off.
#[derive(Debug, Clone)]
pub struct ActionTiming {
    /// Between two status checks of one action, however many browser tabs watch it.
    pub poll_interval: Duration,
    /// An action whose status has not changed for this long is checked less often.
    pub stalled_after: Duration,
    pub stalled_interval: Duration,
    /// Cap of the exponential backoff after failed checks (throttling, outages).
    pub max_backoff: Duration,
    /// A request still unconfirmed after this long is looked up in Defender.
    pub unconfirmed_after: Duration,
}

impl Default for ActionTiming {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(10),
            stalled_after: Duration::from_secs(60 * 60),
            stalled_interval: Duration::from_secs(5 * 60),
            max_backoff: Duration::from_secs(5 * 60),
            unconfirmed_after: Duration::from_secs(120),
        }
    }
}

impl ActionTiming {
    /// The same rules in milliseconds, for tests against the simulator.
    pub fn for_tests() -> Self {
        Self {
            poll_interval: Duration::from_millis(100),
            stalled_after: Duration::from_secs(60),
            stalled_interval: Duration::from_secs(1),
            max_backoff: Duration::from_millis(800),
            unconfirmed_after: Duration::from_millis(500),
        }
    }
}

/// Why an action was not sent, in words for the admin.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("not found")]
    NotFound,
    /// Form fields at fault: (field, message).
    #[error("invalid request")]
    Invalid(Vec<(String, String)>),
    /// Refused before or by Defender; nothing is pending because of this request.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

#[derive(Clone)]
pub struct ActionService {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub db: Stores,
    secrets: SecretBox,
    options: ClientOptions,
    pub timing: ActionTiming,
    /// Rung when an action is submitted, so the poller schedules it without waiting.
    pub wake: Notify,
    /// One client (and so one cached token) per saved configuration.
    client: ClientCache,
}

impl ActionService {
    pub fn new(
        db: Stores,
        secrets: SecretBox,
        options: ClientOptions,
        timing: ActionTiming,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                secrets,
                // An admin may be waiting on a submission, and the poller backs off by
                // itself: neither should sit in the client's long retry loops.
                options: interactive_options(&options),
                timing,
                wake: Notify::new(),
                client: ClientCache::default(),
            }),
        }
    }

    /// Makes the poller look at the open actions now (e.g. ones a sync found in Defender).
    pub fn wake_poller(&self) {
        self.inner.wake.notify_one();
    }

    /// The background poller, run under the supervisor until `stop` fires; it resumes every
    /// open action found in the database.
    pub fn poller(&self, stop: StopSignal) -> impl std::future::Future<Output = ()> + Send {
        super::poller::run(self.inner.clone(), stop)
    }
}

impl Inner {
    /// The client for the saved, enabled integration; the message says what to fix otherwise.
    pub async fn client(&self) -> Result<DefenderClient, String> {
        self.client
            .client(&*self.db.integrations, &self.secrets, &self.options)
            .await
            .map_err(|e| e.to_string())
    }
}
