#!/usr/bin/env bash
# The benchmarks on PostgreSQL: a throwaway cluster that writes to disk as SQLite does
# (scripts/postgres.sh with EA_PG_DURABLE=1: fsync on, commits not waited for, like SQLite's
# WAL with synchronous=NORMAL), each named benchmark run against it
# (EA_BENCH_POSTGRES_URL), then the cluster removed. Without names: the three that have a
# PostgreSQL column in BENCHMARKS.md.
#
#   scripts/bench-postgres.sh [endpoint_list] [vulnerability_page] [software_page] [remodel] [full_sync]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
[ $# -gt 0 ] || set -- endpoint_list remodel full_sync
dir=$(mktemp -d /tmp/ea-bench-postgres.XXXXXX)
trap 'scripts/postgres.sh stop "$dir" >/dev/null 2>&1 || true' EXIT
url=$(EA_PG_DURABLE=1 scripts/postgres.sh start "$dir")
for bench in "$@"; do
  EA_BENCH_POSTGRES_URL="$url" cargo bench -p server --bench "$bench"
done
