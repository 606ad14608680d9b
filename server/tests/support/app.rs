//! Test harness: the real application on port 0 with a fresh SQLite file, and a
//! cookie-keeping HTTP client that calls its server fns.

#![allow(dead_code)]

#[path = "database.rs"]
pub mod database;
#[path = "seeded_tenant.rs"]
pub mod seeded_tenant;

use std::path::{Path, PathBuf};

use reqwest::{Client, Response};
use server::config::{Cli, Settings};
use server::startup::{Application, Tuning};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ADMIN_PASSWORD: &str = "admin-test-password";

/// The endpoint list's form as the UI sends it: the first page, riskiest first, filtered by
/// `text` alone.
pub const fn endpoint_list_form<'a>(text: &'a str, page_size: &'a str) -> [(&'a str, &'a str); 9] {
    [
        ("query[q]", text),
        ("query[risk]", ""),
        ("query[profile]", ""),
        ("query[source]", ""),
        ("query[onboarding]", ""),
        ("query[sort]", "risk"),
        ("query[dir]", "desc"),
        ("query[page]", "1"),
        ("query[page_size]", page_size),
    ]
}

pub struct TestApp {
    pub base: String,
    pub data_dir: PathBuf,
    /// The application's pool and sync service, for tests that drive or inspect the inventory.
    pub pool: server::db::Pool,
    pub sync: server::sync::SyncService,
    /// Whether this app leads the background duties among the apps on its database.
    pub leader: server::leadership::Leader,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

pub fn settings(data_dir: &Path, admin_password: Option<&str>) -> Settings {
    Settings::from_cli(Cli {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        data_dir: Some(data_dir.to_owned()),
        database_url: database::url_for(data_dir),
        admin_password: admin_password.map(Into::into),
        site_root: Some(data_dir.join("site")),
        log_filter: Some("warn".into()),
        ..Cli::default()
    })
    .unwrap()
}

impl TestApp {
    pub async fn spawn(data_dir: &Path) -> TestApp {
        Self::spawn_with(settings(data_dir, Some(ADMIN_PASSWORD)), tuning()).await
    }

    pub async fn spawn_with(settings: Settings, tuning: Tuning) -> TestApp {
        server::telemetry::init(&settings.log_filter);
        let data_dir = settings.data_dir.clone();
        let app = Application::build_with(settings, tuning)
            .await
            .expect("app builds");
        let base = format!("http://{}", app.local_addr());
        let pool = app.pool().clone();
        let sync = app.sync().clone();
        let leader = app.leader().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            app.run_until(async {
                let _ = stopped.await;
            })
            .await
            .expect("server runs");
        });
        TestApp {
            base,
            data_dir,
            pool,
            sync,
            leader,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops serving and waits until the server has let go of its port and database.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// POSTs a form to a server fn, as the server fn client does.
    pub async fn call(&self, client: &Client, endpoint: &str, form: &[(&str, &str)]) -> Response {
        client
            .post(self.url(&format!("/api/{endpoint}")))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, client: &Client, username: &str, password: &str) -> Response {
        self.call(
            client,
            "auth/login",
            &[("username", username), ("password", password)],
        )
        .await
    }

    pub async fn admin(&self) -> Client {
        let client = browser();
        let res = self.login(&client, "admin", ADMIN_PASSWORD).await;
        assert_eq!(
            res.status(),
            200,
            "admin login: {}",
            res.text().await.unwrap()
        );
        client
    }

    /// Creates an account through the Administrator-only server fn and returns a signed-in
    /// client for it.
    pub async fn user_with_role(&self, username: &str, role: &str) -> Client {
        let admin = self.admin().await;
        self.create_user(&admin, username, role).await;
        let client = browser();
        assert_eq!(
            self.login(&client, username, USER_PASSWORD).await.status(),
            200
        );
        client
    }
}

/// The password `user_with_role` and `create_user` give new accounts.
pub const USER_PASSWORD: &str = "a-long-enough-password";

impl TestApp {
    /// Creates an account through `users/create` as `admin` and returns its id.
    pub async fn create_user(&self, admin: &Client, username: &str, role: &str) -> i64 {
        let res = self
            .call(
                admin,
                "users/create",
                &[
                    ("username", username),
                    ("password", USER_PASSWORD),
                    ("role", role),
                ],
            )
            .await;
        assert_eq!(
            res.status(),
            200,
            "create user: {}",
            res.text().await.unwrap()
        );
        res.json::<serde_json::Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    /// A new client signed in as `username`, asserting the sign-in succeeded.
    pub async fn signed_in(&self, username: &str, password: &str) -> Client {
        let client = browser();
        let res = self.login(&client, username, password).await;
        assert_eq!(
            res.status(),
            200,
            "sign-in of {username}: {}",
            res.text().await.unwrap()
        );
        client
    }

    /// Resets `id`'s password to `temporary` as `admin`, asserting it worked.
    pub async fn reset_password(&self, admin: &Client, id: i64, temporary: &str) {
        let id = id.to_string();
        let res = self
            .call(
                admin,
                "users/reset_password",
                &[("id", id.as_str()), ("password", temporary)],
            )
            .await;
        assert_eq!(res.status(), 200, "reset: {}", res.text().await.unwrap());
    }

    /// Waits (up to 20 s) until the Defender integration records a finished sync, and returns
    /// its configuration as the `integrations/defender/get` server fn answers.
    pub async fn wait_for_sync(&self, client: &Client) -> serde_json::Value {
        let mut config = serde_json::Value::Null;
        for _ in 0..200 {
            config = self
                .call(client, "integrations/defender/get", &[])
                .await
                .json()
                .await
                .unwrap();
            if config["last_sync_at"].is_string() {
                return config;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("no sync finished: {config:#}");
    }
}

/// Production limits, with Defender client timings shortened for tests.
pub fn tuning() -> Tuning {
    Tuning {
        client_options: server::defender::ClientOptions::for_tests(),
        action_timing: Some(server::actions::ActionTiming::for_tests()),
        // A test that stops mid-sync should not wait the production 10 s for it.
        shutdown_grace: std::time::Duration::from_secs(2),
        ..Tuning::default()
    }
}

/// A client that keeps cookies and does not follow redirects, so tests see them.
pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Records every state of the live progress from now to the end of the next run, as the
/// browser's event stream (`/api/sync/events`) of `app` would see them.
pub fn record_progress(app: &TestApp) -> JoinHandle<Vec<app::model::sync::SyncProgress>> {
    let mut progress = app.sync.progress();
    tokio::spawn(async move {
        let mut seen = Vec::new();
        while progress.changed().await.is_ok() {
            let now = progress.borrow_and_update().clone();
            let finished = !now.running && now.phase == "finished";
            seen.push(now);
            if finished {
                break;
            }
        }
        seen
    })
}
