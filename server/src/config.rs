//! Typed settings: defaults, then an optional TOML file, then environment, then flags.
//!
//! clap merges flags and environment (a flag wins); the TOML file fills what neither gave.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use app::model::secret_text::SecretText;
use clap::{Parser, Subcommand};
use serde::Deserialize;

use crate::auth::session_registry::SessionLimits;
use crate::endpoints::InactiveAfter;
use crate::sync::HistoryRetention;

const DEFAULT_LISTEN: &str = "127.0.0.1:3000";
const DEFAULT_LOG_FILTER: &str = "info,tower_http=info,sqlx=warn";

/// Endpoint Analytics server.
///
/// Every option can also come from the environment (named in brackets) or from a TOML file
/// given with --config, whose keys are the option names with underscores (e.g.
/// `data_dir = "/var/lib/ea"`). Precedence: flag, then environment, then file, then default.
#[derive(Parser, Debug, Default)]
#[command(name = "server", version)]
pub struct Cli {
    /// Without a command, the server runs.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// TOML configuration file.
    #[arg(long, env = "EA_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:3000].
    #[arg(long, env = "EA_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Directory for the database, the key file and the initial admin password [default: ./data].
    #[arg(long, env = "EA_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// SQLite database URL [default: sqlite://<data-dir>/endpoint-analytics.db].
    #[arg(long, env = "DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// Log filter in tracing's EnvFilter syntax [default: info,tower_http=info,sqlx=warn].
    #[arg(long, env = "EA_LOG", value_name = "FILTER")]
    pub log_filter: Option<String>,
    /// File holding the key that encrypts stored secrets [default: <data-dir>/secret.key].
    #[arg(long, env = "EA_KEY_FILE", value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Password for the `admin` account created on first start (random when absent).
    #[arg(
        long,
        env = "EA_ADMIN_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub admin_password: Option<SecretText>,
    /// Directory with the built site (wasm, JS, CSS) [default: target/site].
    #[arg(long, env = "EA_SITE_ROOT", value_name = "DIR")]
    pub site_root: Option<PathBuf>,
    /// Base64 of the 32-byte key that encrypts stored secrets; overrides the key file.
    #[arg(
        long,
        env = "EA_SECRET_KEY",
        value_name = "BASE64",
        hide_env_values = true
    )]
    pub secret_key: Option<SecretText>,
    /// Base URL of a Defender simulator to configure as a demo tenant on first start
    /// (the integration is created enabled and labelled as a demo) [default: none].
    #[arg(long, env = "EA_DEMO_DEFENDER_URL", value_name = "URL")]
    pub demo_defender_url: Option<String>,
    /// The URL users reach the console at; https makes session cookies Secure and sets the
    /// origin that state-changing requests must come from [default: none].
    #[arg(long, env = "EA_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Seconds between two status checks of an open machine action, whatever the number of
    /// open browser tabs (1 to 300) [default: 10].
    #[arg(long, env = "EA_ACTION_POLL_SECS", value_name = "SECONDS")]
    pub action_poll_secs: Option<u64>,
    /// Days an endpoint may go unseen by every source before it is marked inactive, 1 to 3650
    /// [default: 30].
    #[arg(long, env = "EA_INACTIVE_AFTER_DAYS", value_name = "DAYS")]
    pub inactive_after_days: Option<u32>,
    /// Days each endpoint's risk history is kept, 1 to 3650 [default: 400].
    #[arg(long, env = "EA_HISTORY_DAYS", value_name = "DAYS")]
    pub history_days: Option<u32>,
    /// Minutes without a request after which a session ends, 1 to 1440 [default: 30].
    #[arg(long, env = "EA_SESSION_IDLE_MINUTES", value_name = "MINUTES")]
    pub session_idle_minutes: Option<u32>,
    /// Hours after sign-in at which a session ends however active it is, 1 to 720
    /// [default: 12].
    #[arg(long, env = "EA_SESSION_ABSOLUTE_HOURS", value_name = "HOURS")]
    pub session_absolute_hours: Option<u32>,
}

/// One-off tasks against the configured database.
#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// Import an nmap XML report (`nmap -oX`) into the endpoint inventory, then exit. The whole
    /// file is checked first; a bad file changes nothing.
    ImportNmap {
        /// The XML file.
        file: PathBuf,
    },
}

/// The same options as read from the TOML file.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    log_filter: Option<String>,
    key_file: Option<PathBuf>,
    admin_password: Option<SecretText>,
    site_root: Option<PathBuf>,
    public_url: Option<String>,
    secret_key: Option<SecretText>,
    demo_defender_url: Option<String>,
    action_poll_secs: Option<u64>,
    inactive_after_days: Option<u32>,
    history_days: Option<u32>,
    session_idle_minutes: Option<u32>,
    session_absolute_hours: Option<u32>,
}

/// Resolved settings the server runs with.
#[derive(Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub log_filter: String,
    pub key_file: PathBuf,
    pub admin_password: Option<String>,
    pub site_root: PathBuf,
    pub public_url: Option<String>,
    pub secret_key: Option<String>,
    pub demo_defender_url: Option<String>,
    pub action_poll_interval: std::time::Duration,
    pub inactive_after: InactiveAfter,
    pub history: HistoryRetention,
    /// Tests shorten these to seconds, which the options do not offer.
    pub session_limits: SessionLimits,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &without_password(&self.database_url))
            .field("log_filter", &self.log_filter)
            .field("key_file", &self.key_file)
            .field(
                "admin_password",
                &self.admin_password.as_ref().map(|_| "[redacted]"),
            )
            .field("site_root", &self.site_root)
            .field("public_url", &self.public_url)
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "[redacted]"),
            )
            .field("demo_defender_url", &self.demo_defender_url)
            .field("action_poll_interval", &self.action_poll_interval)
            .field("inactive_after", &self.inactive_after)
            .field("history", &self.history)
            .field("session_limits", &self.session_limits)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the configuration file {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("public_url must start with http:// or https://, got {0:?}")]
    PublicUrl(String),
    #[error("action_poll_secs must be between 1 and 300, got {0}")]
    ActionPoll(u64),
    #[error("inactive_after_days must be between 1 and 3650, got {0}")]
    InactiveAfterDays(u32),
    #[error("history_days must be between 1 and 3650, got {0}")]
    HistoryDays(u32),
    #[error("session_idle_minutes must be between 1 and 1440, got {0}")]
    SessionIdle(u32),
    #[error("session_absolute_hours must be between 1 and 720, got {0}")]
    SessionAbsolute(u32),
}

impl Settings {
    /// Reads flags and environment of this process, then the TOML file they name.
    pub fn load() -> Result<Self, ConfigError> {
        Self::from_cli(Cli::parse())
    }

    /// Reads flags and environment, and the command given, if any.
    pub fn load_with_command() -> Result<(Self, Option<Command>), ConfigError> {
        let mut cli = Cli::parse();
        let command = cli.command.take();
        Ok((Self::from_cli(cli)?, command))
    }

    pub fn from_cli(cli: Cli) -> Result<Self, ConfigError> {
        let file = match &cli.config {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        let data_dir = cli
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("data"));
        let database_url = cli.database_url.or(file.database_url).unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                data_dir.join("endpoint-analytics.db").display()
            )
        });
        let key_file = cli
            .key_file
            .or(file.key_file)
            .unwrap_or_else(|| data_dir.join("secret.key"));
        let public_url = cli.public_url.or(file.public_url);
        if let Some(url) = &public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConfigError::PublicUrl(url.clone()));
            }
        }
        let action_poll_secs = cli.action_poll_secs.or(file.action_poll_secs).unwrap_or(10);
        if !(1..=300).contains(&action_poll_secs) {
            return Err(ConfigError::ActionPoll(action_poll_secs));
        }
        let inactive_after = match cli.inactive_after_days.or(file.inactive_after_days) {
            None => InactiveAfter::default(),
            Some(days) => InactiveAfter::days(days).ok_or(ConfigError::InactiveAfterDays(days))?,
        };
        let history = match cli.history_days.or(file.history_days) {
            None => HistoryRetention::default(),
            Some(days) => HistoryRetention::days(days).ok_or(ConfigError::HistoryDays(days))?,
        };
        let defaults = SessionLimits::default();
        let session_limits = SessionLimits {
            idle: match cli.session_idle_minutes.or(file.session_idle_minutes) {
                None => defaults.idle,
                Some(m @ 1..=1440) => std::time::Duration::from_secs(u64::from(m) * 60),
                Some(m) => return Err(ConfigError::SessionIdle(m)),
            },
            absolute: match cli.session_absolute_hours.or(file.session_absolute_hours) {
                None => defaults.absolute,
                Some(h @ 1..=720) => std::time::Duration::from_secs(u64::from(h) * 3600),
                Some(h) => return Err(ConfigError::SessionAbsolute(h)),
            },
        };
        Ok(Settings {
            session_limits,
            action_poll_interval: std::time::Duration::from_secs(action_poll_secs),
            listen: cli
                .listen
                .or(file.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid default address")),
            database_url,
            log_filter: cli
                .log_filter
                .or(file.log_filter)
                .unwrap_or_else(|| DEFAULT_LOG_FILTER.to_owned()),
            key_file,
            admin_password: cli
                .admin_password
                .or(file.admin_password)
                .map(SecretText::into_inner),
            site_root: cli
                .site_root
                .or(file.site_root)
                .unwrap_or_else(|| PathBuf::from("target/site")),
            public_url,
            secret_key: cli
                .secret_key
                .or(file.secret_key)
                .map(SecretText::into_inner),
            demo_defender_url: cli.demo_defender_url.or(file.demo_defender_url),
            inactive_after,
            history,
            data_dir,
        })
    }

    /// Session cookies get the Secure flag when users reach the console over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

/// The database URL as it may be logged: a PostgreSQL URL can carry its password
/// (`postgres://user:password@host/db`), which the start-up log line must not show.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    match rest[..at].split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:[redacted]{}", &rest[at..]),
        None => url.to_owned(),
    }
}

fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|source| ConfigError::Parse {
        path: path.to_owned(),
        source: Box::new(source),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_password_is_not_shown() {
        let s = Settings::from_cli(Cli {
            data_dir: Some("/x".into()),
            database_url: Some("postgres://ea:S3cret%40pw@db.example:5432/ea".into()),
            ..Cli::default()
        })
        .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("S3cret"), "{shown}");
        assert!(
            shown.contains("postgres://ea:[redacted]@db.example:5432/ea"),
            "{shown}"
        );
        assert_eq!(without_password("sqlite:///x/a.db"), "sqlite:///x/a.db");
        assert_eq!(
            without_password("postgres://ea@127.0.0.1/ea"),
            "postgres://ea@127.0.0.1/ea"
        );
    }

    #[test]
    fn defaults_derive_from_the_data_dir() {
        let s = Settings::from_cli(Cli {
            data_dir: Some("/x".into()),
            ..Cli::default()
        })
        .unwrap();
        assert_eq!(s.database_url, "sqlite:///x/endpoint-analytics.db");
        assert_eq!(s.key_file, PathBuf::from("/x/secret.key"));
        assert_eq!(s.listen.to_string(), DEFAULT_LISTEN);
        assert!(!s.secure_cookies());
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ea.toml");
        std::fs::write(&path, "listen = \"0.0.0.0:8080\"\nlog_filter = \"debug\"\n").unwrap();
        let cli = Cli {
            config: Some(path),
            log_filter: Some("warn".into()),
            ..Cli::default()
        };
        let s = Settings::from_cli(cli).unwrap();
        assert_eq!(s.listen.to_string(), "0.0.0.0:8080");
        assert_eq!(s.log_filter, "warn");
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ea.toml");
        std::fs::write(&path, "lisen = \"0.0.0.0:8080\"\n").unwrap();
        let err = Settings::from_cli(Cli {
            config: Some(path),
            ..Cli::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("not valid"), "{err}");
    }

    #[test]
    fn debug_output_hides_the_admin_password() {
        let cli = Cli {
            admin_password: Some("hunter2-hunter2".into()),
            ..Cli::default()
        };
        assert!(!format!("{cli:?}").contains("hunter2"));
        let s = Settings::from_cli(cli).unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn debug_of_the_file_settings_hides_secrets() {
        let file: FileSettings = toml::from_str(
            "admin_password = \"hunter2-hunter2\"\nsecret_key = \"c2VjcmV0LWtleS1ieXRlcw==\"\n",
        )
        .unwrap();
        let shown = format!("{file:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("c2VjcmV0"),
            "{shown}"
        );
        assert_eq!(file.admin_password.unwrap().expose(), "hunter2-hunter2");
    }

    #[test]
    fn the_inactive_threshold_comes_from_flags_or_the_file_and_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ea.toml");
        std::fs::write(&path, "inactive_after_days = 90\n").unwrap();
        let from = |file: bool, flag: Option<u32>| {
            Settings::from_cli(Cli {
                config: file.then(|| path.clone()),
                inactive_after_days: flag,
                ..Cli::default()
            })
        };
        let days = |d: u32| InactiveAfter::days(d).unwrap();
        assert_eq!(from(false, None).unwrap().inactive_after, days(30));
        assert_eq!(from(true, None).unwrap().inactive_after, days(90));
        assert_eq!(from(true, Some(7)).unwrap().inactive_after, days(7));
        for bad in [0, 3651] {
            let err = from(false, Some(bad)).unwrap_err().to_string();
            assert!(err.contains("between 1 and 3650"), "{err}");
        }
        std::fs::write(&path, "inactive_after_days = 0\n").unwrap();
        assert!(from(true, None).is_err(), "the file's value is checked too");
    }

    #[test]
    fn https_public_url_makes_cookies_secure() {
        let cli = Cli {
            public_url: Some("https://ea.example".into()),
            ..Cli::default()
        };
        assert!(Settings::from_cli(cli).unwrap().secure_cookies());
        let bad = Cli {
            public_url: Some("ea.example".into()),
            ..Cli::default()
        };
        assert!(Settings::from_cli(bad).is_err());
    }

    #[test]
    fn session_limits_come_from_flags_or_the_file_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ea.toml");
        std::fs::write(
            &path,
            "session_idle_minutes = 15\nsession_absolute_hours = 8\n",
        )
        .unwrap();
        let minutes = |m: u64| std::time::Duration::from_secs(m * 60);
        let s = Settings::from_cli(Cli::default()).unwrap();
        assert_eq!(s.session_limits.idle, minutes(30));
        assert_eq!(s.session_limits.absolute, minutes(12 * 60));
        let s = Settings::from_cli(Cli {
            config: Some(path.clone()),
            session_absolute_hours: Some(2),
            ..Cli::default()
        })
        .unwrap();
        assert_eq!(s.session_limits.idle, minutes(15));
        assert_eq!(s.session_limits.absolute, minutes(120));
        for (idle, absolute) in [
            (Some(0), None),
            (Some(1441), None),
            (None, Some(0)),
            (None, Some(721)),
        ] {
            let cli = Cli {
                session_idle_minutes: idle,
                session_absolute_hours: absolute,
                ..Cli::default()
            };
            assert!(Settings::from_cli(cli).is_err(), "{idle:?} {absolute:?}");
        }
    }

    #[test]
    fn the_action_poll_interval_is_bounded() {
        let s = Settings::from_cli(Cli::default()).unwrap();
        assert_eq!(s.action_poll_interval.as_secs(), 10);
        for bad in [0, 301] {
            let cli = Cli {
                action_poll_secs: Some(bad),
                ..Cli::default()
            };
            assert!(Settings::from_cli(cli).is_err(), "{bad}");
        }
    }
}
