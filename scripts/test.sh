#!/usr/bin/env bash
# Runs every check and test: formatting, clippy (server, app for ssr, app for the browser),
# unit and integration tests, then the browser tests against a freshly built site.
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
step "build site" cargo leptos build
step "build simulator" cargo build -p server --bin defender-sim
rm -rf end2end/.data
export EA_SERVER_BIN="$CARGO_TARGET_DIR/debug/server"
export EA_SIM_BIN="$CARGO_TARGET_DIR/debug/defender-sim"
step "playwright" bash -o pipefail -c "cd end2end && npx playwright test 2>&1 | tee '$logs/playwright.log'"

# Every step above stops the script on failure, so reaching this line means all passed; the
# counts come from the runners' own summaries.
rust_passed=$(grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed' "$logs/cargo-test.log" | awk '{s+=$4} END {print s+0}')
rust_failed=$(grep -Eo '[0-9]+ failed;' "$logs/cargo-test.log" | awk '{s+=$1} END {print s+0}')
e2e_passed=$(grep -Eo '^ *[0-9]+ passed' "$logs/playwright.log" | awk '{s+=$1} END {print s+0}')
e2e_failed=$(grep -Eo '^ *[0-9]+ failed' "$logs/playwright.log" | awk '{s+=$1} END {print s+0}')
echo "cargo tests: $rust_passed passed; browser tests: $e2e_passed passed; $(( $(date +%s) - started )) s"
echo "summary: $(( rust_passed + e2e_passed )) passed, $(( rust_failed + e2e_failed )) failed"
