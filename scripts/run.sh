#!/usr/bin/env bash
# Installs what is missing, builds the release site, starts the Defender simulator as a demo
# tenant (its LAN scan imported on first start) and the console on http://127.0.0.1:3000 (database in ./data). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. scripts/env.sh
cargo leptos build --release
cargo build --release -p server --bin defender-sim
mkdir -p data

sim_listen=${EA_DEMO_SIM_LISTEN:-127.0.0.1:8950}
"$CARGO_TARGET_DIR/release/defender-sim" --listen "$sim_listen" --seed 42 --machines 200 \
  --network-xml data/demo-network.xml &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  curl -fsS "http://$sim_listen/_sim/state" >/dev/null 2>&1 && break
  sleep 0.2
done

echo "run: console on http://${EA_LISTEN:-127.0.0.1:3000}, Defender demo tenant at http://$sim_listen"
if [ ! -s data/endpoint-analytics.db ]; then
  # First start: the simulator's view of the local network, so discovery and Defender overlap.
  "$CARGO_TARGET_DIR/release/server" --data-dir data import-nmap data/demo-network.xml
  [ -n "${EA_ADMIN_PASSWORD:-}" ] ||
    echo "run: first start; the admin password will be written to data/initial-admin-password"
fi
"$CARGO_TARGET_DIR/release/server" --data-dir data --site-root target/site \
  --demo-defender-url "http://$sim_listen" "$@"
