//! The server binary: settings, telemetry, startup, serve until Ctrl-C or SIGTERM.

use std::io::Write;
use std::process::ExitCode;

use server::config::{Command, Settings};
use server::startup::Application;
use server::telemetry;

#[tokio::main]
async fn main() -> ExitCode {
    let (settings, command) = match Settings::load_with_command() {
        Ok(loaded) => loaded,
        Err(e) => return fail(&e),
    };
    telemetry::init(&settings.log_filter);
    if let Some(Command::ImportNmap { file }) = command {
        return import_nmap(&settings, &file).await;
    }
    tracing::info!(?settings, "starting");
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error = %e, "startup failed");
            return fail(&e);
        }
    };
    match app.run_until(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// `server import-nmap FILE`: the same import as Endpoints > Import, from the command line.
async fn import_nmap(settings: &Settings, file: &std::path::Path) -> ExitCode {
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(e) => return fail(&format!("cannot read {}: {e}", file.display())),
    };
    if let Err(e) = std::fs::create_dir_all(&settings.data_dir) {
        return fail(&format!(
            "cannot create {}: {e}",
            settings.data_dir.display()
        ));
    }
    let pool = match server::db::open(&settings.database_url).await {
        Ok(pool) => pool,
        Err(e) => return fail(&e),
    };
    match server::endpoints::import_nmap(
        &server::db::Stores::new(&pool),
        &bytes,
        settings.inactive_after,
    )
    .await
    {
        Ok(r) => {
            let _ = writeln!(
                std::io::stdout(),
                "imported {} hosts: {} new endpoints, {} updated, {} attached by IP, {} without a MAC skipped",
                r.observations, r.added, r.updated, r.attached_by_ip, r.skipped_without_mac
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("nothing was imported: {e}")),
    }
}

fn fail(err: &dyn std::fmt::Display) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "error: {err}");
    ExitCode::FAILURE
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
