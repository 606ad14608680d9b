#!/usr/bin/env bash
# Runs every check and test: formatting, clippy (server, app for ssr, app for the browser),
# unit and integration tests (the integration tests twice: on SQLite, then on a throwaway
# PostgreSQL cluster), then the browser tests against a freshly built site.
# Exits non-zero as soon as any of them fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. scripts/env.sh

logs=$(mktemp -d)
started=$(date +%s)
step() {
  local name=$1; shift
  local t0; t0=$(date +%s)
  echo "==> $name"
  "$@"
  echo "<== $name ($(( $(date +%s) - t0 )) s)"
}

step "cargo fmt" cargo fmt --all --check
step "clippy server" cargo clippy -p server --all-targets -- -D warnings
step "clippy app (ssr)" cargo clippy -p app --features ssr --all-targets -- -D warnings
step "clippy app (hydrate, wasm32)" cargo clippy -p app --no-default-features --features hydrate \
  --target wasm32-unknown-unknown -- -D warnings
step "cargo test" bash -o pipefail -c "cargo test --workspace --no-fail-fast 2>&1 | tee '$logs/cargo-test.log'"
# The server's integration tests again, each application on a PostgreSQL database of its own
# (tests/support/database.rs) in a cluster that lives as long as this script, and the fault
# matrix (tests/fault_matrix/), whose full disk there is a tablespace on a tmpfs it shrinks.
pg_dir=$(mktemp -d /tmp/ea-postgres.XXXXXX)
trap 'scripts/postgres.sh stop "$pg_dir" >/dev/null 2>&1 || true' EXIT
pg_url=$(scripts/postgres.sh start "$pg_dir")
pg_tests=()
for t in server/tests/*.rs; do
  name=$(basename "$t" .rs)
  pg_tests+=(--test "$name")
done
step "cargo test (PostgreSQL)" bash -eo pipefail -c "export EA_TEST_POSTGRES_URL='$pg_url'
  cargo test -p server ${pg_tests[*]} --no-fail-fast 2>&1 | tee '$logs/cargo-test-postgres.log'
  cargo test -p server --test fault_matrix 2>&1 \
    | tee -a '$logs/cargo-test-postgres.log'"
scripts/postgres.sh stop "$pg_dir"
trap - EXIT
step "build site" cargo leptos build
step "build simulator" cargo build -p server --bin defender-sim
rm -rf end2end/.data
export EA_SERVER_BIN="$CARGO_TARGET_DIR/debug/server"
export EA_SIM_BIN="$CARGO_TARGET_DIR/debug/defender-sim"
step "playwright" bash -o pipefail -c "cd end2end && npx playwright test 2>&1 | tee '$logs/playwright.log'"

# Every step above stops the script on failure, so reaching this line means all passed; the
# counts come from the runners' own summaries.
# awk rather than grep: a count with no match is 0, not a failed pipeline.
count() { awk -v pat="$2" '$0 ~ pat { for (i = 2; i <= NF; i++) if ($i ~ "^" word) s += $(i - 1) } END { print s + 0 }' word="$3" "$1"; }
rust_passed=$(count "$logs/cargo-test.log" '^test result:' 'passed')
rust_failed=$(count "$logs/cargo-test.log" '^test result:' 'failed')
pg_passed=$(count "$logs/cargo-test-postgres.log" '^test result:' 'passed')
pg_failed=$(count "$logs/cargo-test-postgres.log" '^test result:' 'failed')
e2e_passed=$(count "$logs/playwright.log" '^ *[0-9]+ passed' 'passed')
e2e_failed=$(count "$logs/playwright.log" '^ *[0-9]+ failed' 'failed')
echo "cargo tests: $rust_passed passed; on PostgreSQL: $pg_passed passed; browser tests: $e2e_passed passed; $(( $(date +%s) - started )) s"
echo "summary: $(( rust_passed + pg_passed + e2e_passed )) passed, $(( rust_failed + pg_failed + e2e_failed )) failed"
