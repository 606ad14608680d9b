//! `server import-nmap FILE`: the command-line import, run as the real binary.

use std::process::Command;

fn run(dir: &std::path::Path, file: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("--data-dir")
        .arg(dir)
        .args([
            "--admin-password",
            "a-long-enough-password",
            "--log-filter",
            "warn",
            "import-nmap",
        ])
        .arg(file)
        .output()
        .unwrap()
}

async fn endpoints(dir: &std::path::Path) -> i64 {
    let url = format!("sqlite://{}", dir.join("endpoint-analytics.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query_scalar("SELECT COUNT(*) FROM endpoint")
        .fetch_one(&pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn imports_a_scan_and_refuses_a_bad_one_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let scan = dir.path().join("lan.xml");
    std::fs::write(&scan, server::sim::network_xml(42, 30, 5)).unwrap();
    let out = run(dir.path(), &scan);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("imported "), "{stdout}");
    let count = endpoints(dir.path()).await;
    assert!(count >= 30, "{count}");

    let bad = dir.path().join("bad.xml");
    std::fs::write(&bad, "<nmaprun><host>").unwrap();
    let out = run(dir.path(), &bad);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was imported"));
    assert_eq!(endpoints(dir.path()).await, count);
}
