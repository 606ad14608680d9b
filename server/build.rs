//! Rebuilds when migrations change: `sqlx::migrate!` embeds them at compile time.
//! Cargo reads build-script instructions from standard output.

use std::io::Write;

fn main() {
    writeln!(std::io::stdout(), "cargo:rerun-if-changed=migrations")
        .expect("cargo reads the build script's standard output");
}
