//! Owner-only permissions for what holds the console's data: the data directory (0700) and the
//! SQLite database with its WAL and shared-memory files (0600). Sealed secrets, password
//! hashes and sessions live in that database, so other local users must not read it.

use std::path::Path;

/// Makes an existing directory 0700.
pub fn private_dir(path: &Path) -> std::io::Result<()> {
    set_mode(path, 0o700)
}

/// Makes the database file owner-only before SQLite opens it: a new file is created empty
/// with mode 0600 (SQLite accepts an empty file as a new database and gives its `-wal` and
/// `-shm` files the main file's mode); an existing one, with its companions, loses its group
/// and other bits but keeps the owner's, so a file made read-only on purpose stays so.
pub fn private_database_file(path: &Path) -> std::io::Result<()> {
    if !path.exists() {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        drop(options.open(path)?);
    }
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let file = Path::new(&file);
        if file.exists() {
            owner_only(file)?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn owner_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 == 0 {
        return Ok(());
    }
    set_mode(path, mode & 0o700)
}

#[cfg(not(unix))]
fn owner_only(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_directory_and_database_are_owner_only() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        std::fs::create_dir(&dir).unwrap();
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let db = dir.join("x.db");
        private_database_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        assert_eq!(std::fs::metadata(&db).unwrap().len(), 0);
    }

    #[test]
    fn existing_files_are_narrowed_and_kept() {
        let root = tempfile::tempdir().unwrap();
        let db = root.path().join("x.db");
        std::fs::write(&db, b"contents").unwrap();
        std::fs::write(root.path().join("x.db-wal"), b"log").unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        let read_only = root.path().join("ro.db");
        std::fs::write(&read_only, b"").unwrap();
        std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o444)).unwrap();
        private_database_file(&read_only).unwrap();
        assert_eq!(mode(&read_only), 0o400, "read-only stays read-only");
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        private_database_file(&db).unwrap();
        private_dir(root.path()).unwrap();
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&root.path().join("x.db-wal")), 0o600);
        assert_eq!(mode(root.path()), 0o700);
        assert_eq!(std::fs::read(&db).unwrap(), b"contents");
    }
}
