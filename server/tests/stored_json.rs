//! JSON as each backend stores it: TEXT on SQLite, `jsonb` on PostgreSQL (its migration
//! 0005), written and read through `server::db::JsonText` by the same SQL on both.

#[path = "support/app.rs"]
mod support;

use serde_json::{json, Value};
use server::db::{self, IntegrationStore, Pool};

/// Every column that holds JSON, by table.
const JSON_COLUMNS: &[(&str, &str)] = &[
    ("endpoint", "hostnames"),
    ("endpoint", "ips"),
    ("endpoint", "open_ports"),
    ("endpoint", "os_matches"),
    ("endpoint", "merge_evidence"),
    ("endpoint", "mac_conflicts"),
    ("defender_machine", "ip_addresses"),
    ("vulnerability", "exploit_types"),
    ("profile", "definition"),
    ("integration", "settings"),
    ("endpoint_assessment", "profiles_considered"),
    ("endpoint_assessment", "risk"),
    ("endpoint_assessment", "defender_risk"),
    ("sync_run", "missing_permissions"),
    ("sync_progress", "progress"),
];

async fn open(dir: &std::path::Path) -> Pool {
    let url = support::settings(dir, None).database_url;
    db::open(&url).await.expect("the database opens")
}

#[tokio::test]
async fn json_columns_have_the_backends_json_type() {
    let dir = tempfile::tempdir().unwrap();
    let pool = open(dir.path()).await;
    for (table, column) in JSON_COLUMNS {
        let declared: String = server::on_pool!(&pool, |db| {
            if POSTGRES {
                sqlx::query_scalar(
                    "SELECT data_type FROM information_schema.columns \
                     WHERE table_name = $1 AND column_name = $2",
                )
                .bind(table)
                .bind(column)
                .fetch_one(db)
                .await
                .unwrap()
            } else {
                sqlx::query_scalar("SELECT type FROM pragma_table_info($1) WHERE name = $2")
                    .bind(table)
                    .bind(column)
                    .fetch_one(db)
                    .await
                    .unwrap()
            }
        });
        let expected = match pool {
            Pool::Sqlite(_) => "TEXT",
            Pool::Postgres(_) => "jsonb",
        };
        assert_eq!(declared, expected, "{table}.{column}");
    }
    pool.close().await;
}

fn save<'a>(settings: &'a str) -> db::integration::Save<'a> {
    db::integration::Save {
        kind: "defender",
        enabled: false,
        settings,
        secret_sealed: None,
        demo: false,
        next_sync_at: None,
        actor: "test",
    }
}

/// What is written reads back as the same JSON value (PostgreSQL normalises the text: key
/// order and spacing), and on PostgreSQL text that is not JSON is refused with the stored row
/// left as it was.
#[tokio::test]
async fn stored_json_reads_back_as_the_value_written() {
    let dir = tempfile::tempdir().unwrap();
    let pool = open(dir.path()).await;
    let written = json!({
        "tenant_id": "3b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d",
        "client_id": "c",
        "cloud": "commercial",
        "note": "Zürich \"HQ\" <b>\u{1f512}</b>\n",
        "nested": {"z": [1, 2.5, null, true], "a": {}},
    });
    pool.save(save(&written.to_string())).await.unwrap();
    let stored = pool.get("defender").await.unwrap().unwrap();
    let read: Value = serde_json::from_str(&stored.settings).unwrap();
    assert_eq!(read, written);

    let refused = pool.save(save("{\"tenant_id\": ")).await;
    match pool {
        Pool::Postgres(_) => {
            let err = refused.expect_err("jsonb refuses what is not JSON");
            assert!(err.to_string().contains("json"), "{err}");
            let kept = pool.get("defender").await.unwrap().unwrap();
            let kept: Value = serde_json::from_str(&kept.settings).unwrap();
            assert_eq!(kept, written);
        }
        // SQLite's TEXT takes any text: the code that reads it reports it unreadable.
        Pool::Sqlite(_) => assert!(refused.is_ok()),
    }
    pool.close().await;
}
