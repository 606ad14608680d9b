//! What the console leaves on disk: the data directory only its owner can enter, the
//! database (sealed secrets, password hashes, sessions) and its WAL only its owner can read,
//! even where the umask or an earlier version left them open.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::{TestApp, ADMIN_PASSWORD};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn the_data_directory_and_database_are_owner_only() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let app = TestApp::spawn(&data).await;
    // A write, so the WAL and its index exist too.
    let _ = app.admin().await;
    assert_eq!(mode(&data), 0o700);
    // On PostgreSQL the database's files are its server's; the key is still ours.
    let sqlite = !crate::support::database::on_postgres();
    let files: &[&str] = if sqlite {
        &[
            "endpoint-analytics.db",
            "endpoint-analytics.db-wal",
            "endpoint-analytics.db-shm",
            "secret.key",
        ]
    } else {
        &["secret.key"]
    };
    for file in files {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    app.stop().await;

    // A directory and database an earlier version left world-readable are narrowed at start.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let db = data.join("endpoint-analytics.db");
    if sqlite {
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let app = TestApp::spawn(&data).await;
    assert_eq!(mode(&data), 0o700);
    if sqlite {
        assert_eq!(mode(&db), 0o600);
    }
    let res = app
        .login(&crate::support::browser(), "admin", ADMIN_PASSWORD)
        .await;
    assert_eq!(res.status(), 200, "the data survived");
    app.stop().await;
}
