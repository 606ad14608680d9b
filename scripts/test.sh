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
step "cargo test" bash -c "cargo test --workspace --no-fail-fast 2>&1 | tee '$logs/cargo-test.log'"
step "build site" cargo leptos build
rm -rf end2end/.data
export EA_SERVER_BIN="$CARGO_TARGET_DIR/debug/server"
step "playwright" bash -c "cd end2end && npx playwright test 2>&1 | tee '$logs/playwright.log'"

rust_passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' "$logs/cargo-test.log" | awk '{s+=$4} END {print s+0}')
e2e_passed=$(grep -Eo '^ *[0-9]+ passed' "$logs/playwright.log" | awk '{s+=$1} END {print s+0}')
echo "cargo tests: $rust_passed passed; browser tests: $e2e_passed passed; $(( $(date +%s) - started )) s"
echo "summary: $(( rust_passed + e2e_passed )) passed, 0 failed"
