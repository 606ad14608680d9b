//! A disk that fills up under a PostgreSQL database: the database is made in a tablespace on a
//! tmpfs of its own, which the test then shrinks to what is in use, so the next write that
//! needs a new block fails with `ENOSPC` (SQLSTATE 53100), as a full data disk does. SQLite's
//! counterpart is a page limit on the file (`ours::full_disk`).
//!
//! Needs root (to mount) and the PostgreSQL server on this machine, as `scripts/test.sh` runs
//! it: its cluster runs as the `postgres` user, from whom the tablespace's files are.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::database::{self, admin};

pub struct SmallDisk {
    /// Holds the mount point; readable by the `postgres` user on the way to it.
    _holder: tempfile::TempDir,
    mount: PathBuf,
    tablespace: String,
    database: String,
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl SmallDisk {
    /// Makes the database of applications started on `data_dir` on a fresh 64 MB disk.
    pub fn for_data_dir(data_dir: &Path) -> SmallDisk {
        let holder = tempfile::tempdir().unwrap();
        run("chmod", &["0755", &holder.path().display().to_string()]);
        let mount = holder.path().join("disk");
        std::fs::create_dir(&mount).unwrap();
        let uid = run("id", &["-u", "postgres"]).trim().to_owned();
        let gid = run("id", &["-g", "postgres"]).trim().to_owned();
        run(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("size=64m,mode=0700,uid={uid},gid={gid}"),
                "tmpfs",
                &mount.display().to_string(),
            ],
        );
        let database = database::name_for(data_dir);
        let tablespace = format!("{database}_disk");
        admin(vec![
            format!(
                "CREATE TABLESPACE {tablespace} LOCATION '{}'",
                mount.display()
            ),
            format!("CREATE DATABASE {database} TABLESPACE {tablespace}"),
        ])
        .expect("the test disk's tablespace and database");
        SmallDisk {
            _holder: holder,
            mount,
            tablespace,
            database,
        }
    }

    fn resize(&self, size: &str) {
        run(
            "mount",
            &[
                "-o",
                &format!("remount,size={size}"),
                &self.mount.display().to_string(),
            ],
        );
    }

    /// No room beyond what the database holds now.
    pub fn fill(&self) {
        let used = run(
            "df",
            &["--output=used", "-k", &self.mount.display().to_string()],
        );
        let used_kb: u64 = used.lines().nth(1).unwrap().trim().parse().unwrap();
        self.resize(&format!("{used_kb}k"));
    }

    /// Room again.
    pub fn free(&self) {
        self.resize("64m");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Best effort: the cluster is removed at the end of the run anyway, the mount is not.
        let _ = admin(vec![
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database),
            format!("DROP TABLESPACE IF EXISTS {}", self.tablespace),
        ]);
        let mount = self.mount.display().to_string();
        if Command::new("umount")
            .arg(&mount)
            .status()
            .map(|s| !s.success())
            .unwrap_or(true)
        {
            let _ = Command::new("umount").args(["-l", &mount]).status();
        }
    }
}
