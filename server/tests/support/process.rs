//! The real `server` binary as a child process, for tests that must kill it: start it on a
//! data directory, wait for `/readyz`, log in over HTTP, `kill -9` it, start it again on the
//! same files. Its log lines are kept so tests can look for an error the admin would read.
//!
//! ```ignore
//! let mut server = ServerProcess::start(dir.path()).await;
//! let admin = server.admin().await;
//! server.kill9();
//! let server = server.restart().await;
//! ```

#![allow(dead_code)]

// Also a module of `support/app.rs`: the test binaries include either file or both.
#[allow(clippy::duplicate_mod)]
#[path = "database.rs"]
mod database;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Client, Response};

pub const ADMIN_PASSWORD: &str = "admin-process-password";

/// Liveness deadlines, not speed limits: long enough for a loaded CI machine, short enough
/// that a hung child does not hang the suite.
const READY_DEADLINE: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(50);

/// How to start the server. Everything else comes from its defaults.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    pub data_dir: PathBuf,
    /// `DATABASE_URL`; `None` = the default file in the data directory.
    pub database_url: Option<String>,
    /// Extra environment, e.g. `("EA_DEMO_DEFENDER_URL", url)`.
    pub env: Vec<(String, String)>,
}

impl ServerOptions {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_owned(),
            database_url: database::url_for(data_dir),
            env: Vec::new(),
        }
    }
}

/// A running (or exited) server child process.
pub struct ServerProcess {
    options: ServerOptions,
    child: Child,
    /// `http://127.0.0.1:PORT`, known once the server logged its address.
    pub base: String,
    logs: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Starts the server and waits until `/readyz` answers 200; panics with its log if it
    /// exits or never gets ready.
    pub async fn start(data_dir: &Path) -> ServerProcess {
        Self::start_with(ServerOptions::new(data_dir)).await
    }

    pub async fn start_with(options: ServerOptions) -> ServerProcess {
        let mut server = Self::spawn(options);
        if let Err(e) = server.wait_ready().await {
            panic!("server did not get ready: {e}\n{}", server.logs());
        }
        server
    }

    /// Starts the server without waiting for it; see [`ServerProcess::wait_ready`] and
    /// [`ServerProcess::wait_exit`].
    pub fn spawn(options: ServerOptions) -> ServerProcess {
        let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            // Plain text logs: the address is read from the "listening" line.
            .env("NO_COLOR", "1")
            .env("EA_LISTEN", "127.0.0.1:0")
            .env("EA_DATA_DIR", &options.data_dir)
            .env("EA_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("EA_SITE_ROOT", options.data_dir.join("site"))
            .env("EA_LOG", "info,tower_http=warn,sqlx=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(url) = &options.database_url {
            command.env("DATABASE_URL", url);
        }
        for (k, v) in &options.env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("the server binary starts");
        let logs = Arc::new(Mutex::new(Vec::new()));
        collect_lines(child.stdout.take().expect("piped stdout"), logs.clone());
        collect_lines(child.stderr.take().expect("piped stderr"), logs.clone());
        ServerProcess {
            options,
            child,
            base: String::new(),
            logs,
        }
    }

    /// Waits for the listening address in the log, then for `/readyz` to answer 200.
    pub async fn wait_ready(&mut self) -> Result<(), String> {
        let http = Client::new();
        let started = tokio::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("the server exited with {status}"));
            }
            if self.base.is_empty() {
                if let Some(addr) = self.logged_address() {
                    self.base = format!("http://{addr}");
                }
            }
            if !self.base.is_empty() {
                let ready = http.get(format!("{}/readyz", self.base)).send().await;
                if ready.is_ok_and(|r| r.status() == 200) {
                    return Ok(());
                }
            }
            if started.elapsed() > READY_DEADLINE {
                return Err("no /readyz before the deadline".into());
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits for the process to exit by itself (e.g. a startup failure).
    pub async fn wait_exit(&mut self) -> Option<ExitStatus> {
        let started = tokio::time::Instant::now();
        while started.elapsed() < READY_DEADLINE {
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the log readers drain what the process wrote last.
                tokio::time::sleep(POLL).await;
                return Some(status);
            }
            tokio::time::sleep(POLL).await;
        }
        None
    }

    fn logged_address(&self) -> Option<String> {
        let logs = self.logs.lock().unwrap();
        logs.iter()
            .filter(|l| l.contains("listening"))
            .find_map(|l| {
                let rest = &l[l.find("address=")? + "address=".len()..];
                Some(rest.split_whitespace().next()?.to_owned())
            })
    }

    /// Everything the process wrote to stdout and stderr so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    pub fn data_dir(&self) -> &Path {
        &self.options.data_dir
    }

    /// The PostgreSQL database the server runs on, when it is not the default SQLite file.
    pub fn database_url(&self) -> Option<&str> {
        self.options.database_url.as_deref()
    }

    /// The SQLite file the server uses by default.
    pub fn db_path(&self) -> PathBuf {
        self.options.data_dir.join("endpoint-analytics.db")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL (`Child::kill` on Unix): no shutdown code runs. Waits for the process to go.
    pub fn kill9(&mut self) -> ExitStatus {
        let _ = self.child.kill();
        self.child.wait().expect("the killed server is reaped")
    }

    /// SIGTERM, as a service manager stops the server; returns at once (see `wait_exit`).
    pub fn terminate(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM {}: {status}", self.pid());
    }

    /// Kills the process if it still runs, then starts the server again on the same files.
    pub async fn restart(mut self) -> ServerProcess {
        self.kill9();
        ServerProcess::start_with(self.options.clone()).await
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

    /// A cookie-keeping client signed in as `admin`.
    pub async fn admin(&self) -> Client {
        let client = Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let res = self
            .call(
                &client,
                "auth/login",
                &[("username", "admin"), ("password", ADMIN_PASSWORD)],
            )
            .await;
        let status = res.status();
        assert_eq!(status, 200, "admin login: {}", res.text().await.unwrap());
        client
    }

    /// The sync journal as the `sync/journal` server fn returns it, newest first.
    pub async fn journal(&self, client: &Client) -> Vec<serde_json::Value> {
        let res = self.call(client, "sync/journal", &[]).await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// Polls the journal until it holds `runs` runs and the newest has finished; returns
    /// the newest.
    pub async fn wait_for_run(&self, client: &Client, runs: usize) -> serde_json::Value {
        let started = tokio::time::Instant::now();
        loop {
            let journal = self.journal(client).await;
            if journal.len() >= runs && journal[0]["outcome"] != "Running" {
                return journal[0].clone();
            }
            assert!(
                started.elapsed() < READY_DEADLINE,
                "no finished run number {runs}: {journal:#?}\n{}",
                self.logs()
            );
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Never leave a server behind when a test fails.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads a child's pipe line by line on a thread, into `into`.
fn collect_lines(pipe: impl Read + Send + 'static, into: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            into.lock().unwrap().push(strip_ansi(&line));
        }
    });
}

/// Drops ANSI colour sequences, in case the logger colours despite `NO_COLOR`.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
