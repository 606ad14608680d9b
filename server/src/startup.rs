//! Builds the application from settings: database, accounts, sessions, routes, listener.

use std::net::SocketAddr;
use std::sync::Arc;

use app::backend::SharedBackend;
use app::{shell, App};
use axum::extract::FromRef;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};

use crate::accounts::Accounts;
use crate::actions::{ActionService, ActionTiming};
use crate::auth::bootstrap::{ensure_admin, BootstrapError};
use crate::auth::session_registry::SessionRegistry;
use crate::auth::session_store::HashedIdStore;
use crate::auth::throttle::ThrottleLimits;
use crate::backend::ServerBackend;
use crate::config::Settings;
use crate::db::{self, OpenError, Pool, SessionTable, Stores};
use crate::defender::ClientOptions;
use crate::endpoints::{keep_deciding_inactive, InactiveAfter};
use crate::integrations::software_devices::SoftwareDevices;
use crate::integrations::{demo, secret_rebinding};
use crate::keyfile::{self, KeyError};
use crate::leadership::{replica_id, spawn_while_leading, Election, Leader, LeaseTiming};
use crate::secret_box::SecretBox;
use crate::supervisor::{StopSignal, Supervisor};
use crate::sync::{requests, schedule, SyncService};
use crate::telemetry;
use crate::views::endpoint_list::ListCache;
use crate::views::software::SoftwareViews;
use crate::web::{origin, routes, security_headers};

const SESSION_COOKIE: &str = "ea_session";

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub stores: Stores,
    pub sync: SyncService,
    pub list_cache: Arc<ListCache>,
    pub inactive_after: InactiveAfter,
    /// Fires when the server begins to shut down; long responses end on it.
    pub stopping: StopSignal,
    /// The plain routes check sessions through the same port as the server fns.
    pub backend: SharedBackend,
    pub software: SoftwareViews,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot create the data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error(transparent)]
    Database(#[from] OpenError),
    #[error("cannot prepare the session store: {0}")]
    Sessions(sqlx::Error),
    #[error(transparent)]
    Bootstrap(#[from] BootstrapError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("cannot configure the demo tenant: {0}")]
    Demo(demo::DemoError),
    #[error("cannot bind the stored Defender secret to its settings: {0}")]
    SecretRebinding(crate::db::DbError),
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
}

/// What tests may change about a build; production uses the defaults.
#[derive(Clone, Debug)]
pub struct Tuning {
    pub login_limits: ThrottleLimits,
    pub client_options: ClientOptions,
    /// How often the hourly schedule is checked.
    pub schedule_period: std::time::Duration,
    /// Machine-action polling; `None` takes the defaults with the configured poll interval.
    pub action_timing: Option<ActionTiming>,
    /// How often inactivity is re-decided besides syncs and imports, first at start-up;
    /// `None` leaves it to syncs and imports alone.
    pub inactive_check_period: Option<std::time::Duration>,
    /// How long a shutdown waits for the background loops and a sync in progress.
    pub shutdown_grace: std::time::Duration,
    /// The background lease's term and renewal period.
    pub lease_timing: LeaseTiming,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            login_limits: ThrottleLimits::default(),
            client_options: ClientOptions::default(),
            schedule_period: std::time::Duration::from_secs(30),
            action_timing: None,
            inactive_check_period: Some(std::time::Duration::from_secs(3600)),
            shutdown_grace: std::time::Duration::from_secs(10),
            lease_timing: LeaseTiming::default(),
        }
    }
}

/// A built application, bound to its port but not yet serving.
pub struct Application {
    listener: TcpListener,
    router: Router,
    pool: Pool,
    sync: SyncService,
    /// The background duties and the session expiry; they stop when a shutdown begins.
    loops: Supervisor,
    /// Renews the lease until the sync has stopped too, so no replica is elected meanwhile.
    lease_loop: Supervisor,
    election: Election,
    leader: Leader,
    shutdown_grace: std::time::Duration,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        Self::build_with(settings, Tuning::default()).await
    }

    /// As `build`, with limits and timings chosen by the caller (tests shorten them).
    pub async fn build_with(settings: Settings, tuning: Tuning) -> Result<Self, StartupError> {
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|e| StartupError::DataDir(settings.data_dir.display().to_string(), e))?;
        // A directory the server does not own (mode set by the admin) is left as it is.
        if let Err(e) = crate::private_files::private_dir(&settings.data_dir) {
            tracing::warn!(dir = %settings.data_dir.display(), error = %e, "cannot make the data directory owner-only");
        }
        let pool = db::open(&settings.database_url).await?;
        let stores = Stores::new(&pool);
        // A journal row still Running is closed when this replica is elected to run the
        // background duties (`leadership.rs`): another replica may be running it now.
        let key = keyfile::from_config(settings.secret_key.as_deref(), &settings.key_file)?;
        let secrets = SecretBox::new(&key);
        ensure_admin(
            &stores,
            &settings.data_dir,
            settings.admin_password.as_deref(),
        )
        .await?;
        if let Some(url) = &settings.demo_defender_url {
            demo::seed(&*stores.integrations, &*stores.audit, &secrets, url)
                .await
                .map_err(StartupError::Demo)?;
        }
        // Before anything can read the secret: the schedule, the poller and requests start
        // below.
        secret_rebinding::rebind_legacy_secret(&*stores.integrations, &*stores.audit, &secrets)
            .await
            .map_err(StartupError::SecretRebinding)?;
        let sync = SyncService::new(
            &stores,
            secrets.clone(),
            tuning.client_options.clone(),
            settings.inactive_after,
            settings.history,
        );
        let actions = ActionService::new(
            stores.clone(),
            secrets.clone(),
            tuning.client_options.clone(),
            tuning
                .action_timing
                .clone()
                .unwrap_or_else(|| ActionTiming {
                    poll_interval: settings.action_poll_interval,
                    ..ActionTiming::default()
                }),
        );
        let mut loops = Supervisor::new();
        sync.on_actions_found({
            let actions = actions.clone();
            move || actions.wake_poller()
        });

        let store = SessionTable::for_pool(&pool);
        store.migrate().await.map_err(StartupError::Sessions)?;
        loops.spawn("session expiry", {
            let store = store.clone();
            move |mut stop| {
                let store = store.clone();
                async move {
                    let every = tokio::time::Duration::from_secs(300);
                    tokio::select! {
                        ended = store.continuously_delete_expired(every) => {
                            if let Err(e) = ended {
                                tracing::warn!(error = %e, "cannot delete expired sessions");
                            }
                        }
                        () = stop.stopped() => {}
                    }
                }
            }
        });
        // The record and the cookie expire after the idle limit too; the registry enforces
        // both limits on every request, and moves this deadline as activity goes on.
        let idle = time::Duration::try_from(settings.session_limits.idle)
            .unwrap_or(time::Duration::minutes(30));
        let sessions = SessionManagerLayer::new(HashedIdStore::new(store))
            .with_name(SESSION_COOKIE)
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(settings.secure_cookies())
            .with_expiry(Expiry::OnInactivity(idle));
        let registry = SessionRegistry::new(&stores, settings.session_limits);
        let accounts = Accounts::new(&stores, settings.data_dir.clone(), registry);

        let listener = TcpListener::bind(settings.listen)
            .await
            .map_err(|e| StartupError::Listen(settings.listen, e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| StartupError::Listen(settings.listen, e))?;

        // Elected (or not) before serving: a replica alone on its database leads at once.
        let (election, leader) =
            Election::new(&stores, replica_id(addr.port()), tuning.lease_timing);
        election.attempt(&mut None).await;
        sync.follow(leader.clone());
        let mut lease_loop = Supervisor::new();
        lease_loop.spawn("background lease", {
            let election = election.clone();
            move |stop| election.clone().run(stop)
        });
        spawn_while_leading(&mut loops, "action poller", &leader, {
            let actions = actions.clone();
            move |term| actions.poller(term)
        });
        spawn_while_leading(&mut loops, "sync requests", &leader, {
            let sync = sync.clone();
            move |term| requests::serve(sync.clone(), term)
        });
        // A replica that stops leading cancels its sync before another can be elected (the
        // term outlasts the last renewal by a renewal period): two runs never overlap.
        let server_stop = loops.signal();
        spawn_while_leading(&mut loops, "sync stepping down", &leader, {
            let sync = sync.clone();
            move |mut term| {
                let (sync, server_stop) = (sync.clone(), server_stop.clone());
                async move {
                    term.stopped().await;
                    // A shutdown gives the run its grace in `run_until` instead.
                    if !server_stop.is_stopped() && sync.stop(std::time::Duration::ZERO).await {
                        tracing::warn!("sync cancelled: this replica no longer leads");
                    }
                }
            }
        });

        let leptos_options = LeptosOptions::builder()
            .output_name("endpoint_analytics")
            .site_root(settings.site_root.display().to_string())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .build();
        let list_cache = Arc::new(ListCache::default());
        let software = SoftwareViews::new(SoftwareDevices::new(
            stores.clone(),
            secrets.clone(),
            &tuning.client_options,
        ));
        let backend: SharedBackend = Arc::new(ServerBackend::new(
            list_cache.clone(),
            stores.clone(),
            tuning.login_limits,
            secrets,
            sync.clone(),
            tuning.client_options,
            actions,
            accounts,
            software.clone(),
        ));
        loops.spawn("sync progress sharing", {
            let (sync, store, leader) =
                (sync.clone(), stores.sync_progress.clone(), leader.clone());
            move |stop| {
                crate::sync::shared_progress::share(
                    sync.clone(),
                    store.clone(),
                    leader.clone(),
                    stop,
                )
            }
        });
        spawn_while_leading(&mut loops, "sync schedule", &leader, {
            let (sync, period) = (sync.clone(), tuning.schedule_period);
            move |term| schedule::run(sync.clone(), period, term)
        });
        if let Some(period) = tuning.inactive_check_period {
            let (cache, stores, after) =
                (list_cache.clone(), stores.clone(), settings.inactive_after);
            spawn_while_leading(&mut loops, "inactivity check", &leader, move |term| {
                let cache = cache.clone();
                keep_deciding_inactive(
                    stores.clone(),
                    after,
                    period,
                    {
                        let generation = stores.list_generation.clone();
                        move || {
                            let (cache, generation) = (cache.clone(), generation.clone());
                            tokio::spawn(async move { cache.invalidate(&*generation).await });
                        }
                    },
                    term,
                )
            });
        }
        let context = {
            let backend = backend.clone();
            move || {
                security_headers::render_nonce();
                provide_context(backend.clone());
            }
        };
        let state = AppState {
            leptos_options: leptos_options.clone(),
            stores,
            sync: sync.clone(),
            list_cache: list_cache.clone(),
            inactive_after: settings.inactive_after,
            stopping: loops.signal(),
            backend: backend.clone(),
            software,
        };
        let policy = origin::OriginPolicy::from_public_url(settings.public_url.as_deref());

        let router = routes::plain_routes()
            .into_iter()
            .fold(Router::new(), |router, r| router.route(r.path, r.handler))
            .leptos_routes_with_context(&state, route_list(), context.clone(), {
                let options = leptos_options.clone();
                move || shell(options.clone())
            })
            .fallback(leptos_axum::file_and_error_handler_with_context::<
                AppState,
                _,
            >(context, shell))
            .layer(axum::middleware::from_fn_with_state(
                policy,
                origin::refuse_cross_site,
            ))
            .layer(axum::middleware::from_fn_with_state(
                security_headers::HeaderPolicy::from_public_url(settings.public_url.as_deref()),
                security_headers::add,
            ))
            .layer(sessions)
            .layer(TraceLayer::new_for_http().make_span_with(telemetry::request_span))
            .with_state(state);
        Ok(Self {
            listener,
            router,
            pool,
            sync,
            loops,
            lease_loop,
            election,
            leader,
            shutdown_grace: tuning.shutdown_grace,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub fn sync(&self) -> &SyncService {
        &self.sync
    }

    /// Whether this replica runs the background duties, as it changes.
    pub fn leader(&self) -> &Leader {
        &self.leader
    }

    /// Serves until `shutdown` completes, drains in-flight requests, then stops the
    /// background loops and a sync in progress (each given `Tuning::shutdown_grace`).
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(address = %self.local_addr(), "listening");
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let stopper = self.loops.stopper();
        let served = axum::serve(self.listener, service)
            .with_graceful_shutdown(async move {
                shutdown.await;
                // Before the drain: an open event stream would otherwise hold it forever.
                stopper.stop();
            })
            .await;
        let report = self.loops.shutdown(self.shutdown_grace).await;
        let cancelled = self.sync.stop(self.shutdown_grace).await;
        self.lease_loop.shutdown(self.shutdown_grace).await;
        self.election.release().await;
        tracing::info!(aborted = ?report.aborted, sync_cancelled = cancelled, "stopped");
        served
    }
}

/// The app's routes, generated once per process. Generating them renders the app with
/// resource loading suppressed through a process-wide flag (leptos_server's
/// `SuppressResourceLoad`), and a resource first polled while it is set never loads: a page
/// that another server in the same process was rendering (the integration tests start many)
/// then never finished (leptos issue #4773; seen as attack-suite tests hanging).
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}
