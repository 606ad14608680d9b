#!/usr/bin/env bash
# Installs what is missing, builds the release site and starts the console on
# http://127.0.0.1:3000 with its database in ./data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. scripts/env.sh
cargo leptos build --release
mkdir -p data
echo "run: starting the console on http://${EA_LISTEN:-127.0.0.1:3000} (data in ./data)"
if [ ! -s data/endpoint-analytics.db ] && [ -z "${EA_ADMIN_PASSWORD:-}" ]; then
  echo "run: first start; the admin password will be written to data/initial-admin-password"
fi
exec "$CARGO_TARGET_DIR/release/server" --data-dir data --site-root target/site "$@"
