#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, all of it inside one directory.
#
#   scripts/postgres.sh start DIR   prints postgres://postgres@127.0.0.1:PORT/postgres
#   scripts/postgres.sh stop DIR    stops the cluster and removes DIR
#
# DIR/data is the cluster, DIR/log its log (initdb's and pg_ctl's output too), DIR/run its
# unix socket. The server listens on 127.0.0.1 only, trusts local and loopback connections
# and runs without fsync (unless EA_PG_DURABLE=1): nothing in it is meant to survive.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
command=$1
[ -n "$2" ] || usage
# Absolute, because the server programs run from another directory as another user.
dir=$(realpath -m -- "$2")
data=$dir/data
log=$dir/log
run=$dir/run
# Ports tried in turn; several clusters (parallel CI jobs) each take the next free one.
first_port=55432
last_port=55531
# The server programs run as postgres, which may not be able to enter the caller's directory
# (initdb fails where it cannot read its working directory, e.g. /root).
cd /

say() { echo "postgres.sh: $*" >&2; }
die() {
  say "$*"
  exit 1
}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# initdb refuses to run as root, and the cluster's files must belong to its server's user.
as_postgres() {
  if [ "$(id -un)" = postgres ]; then
    "$@"
  elif [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    sudo -u postgres -- "$@"
  fi
}

# Runs a server program as postgres with its output appended to DIR/log (opened by postgres,
# so pg_ctl can go on writing the server's log there); stdout stays the URL's alone.
logged() {
  as_postgres sh -c 'log=$1; shift; exec "$@" >>"$log" 2>&1' sh "$log" "$@"
}

# A PostgreSQL program: PATH first (/usr/local/bin may link to it), then Debian's
# /usr/lib/postgresql/<major>/bin, newest major first.
find_bin() {
  local name=$1 found bindir
  if found=$(command -v "$name" 2>/dev/null) && [ -x "$found" ]; then
    echo "$found"
    return 0
  fi
  for bindir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$bindir/$name" ]; then
      echo "$bindir/$name"
      return 0
    fi
  done
  return 1
}

# Debian's postgresql, when initdb (or the postgres user) is missing. Installing again is a
# no-op, so this is safe to repeat.
install_postgres() {
  if find_bin initdb >/dev/null && id postgres >/dev/null 2>&1; then
    return 0
  fi
  say "installing Debian's postgresql"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
  # The server package would create and start a "main" cluster on port 5432 that nothing
  # uses; postgresql-common's createcluster.conf can say not to, before the server comes.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    postgresql-common >&2
  local conf=/etc/postgresql-common/createcluster.conf
  if ! grep -q '^[[:space:]]*create_main_cluster' "$conf" 2>/dev/null; then
    echo 'create_main_cluster = false' | as_root tee -a "$conf" >/dev/null
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    postgresql >&2
  find_bin initdb >/dev/null || die "initdb still not found after installing postgresql"
}

# Whether nothing listens on 127.0.0.1:$1: a bind test with SO_REUSEADDR as the server's own
# (connections of a stopped cluster linger in TIME_WAIT and must not hold the port); ss when
# there is no python3.
port_free() {
  if command -v python3 >/dev/null 2>&1; then
    python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
EOF
  else
    [ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
  fi
}

# The postmaster's pid from DIR/data/postmaster.pid, if that process is alive and is this
# cluster's server (a crashed server's pid may have gone to another process since). A zombie
# is not alive: where init reaps late, a stopped or crashed server stays one for a while, and
# pg_ctl would take it for a running server.
live_pid() {
  local pid state
  [ -f "$data/postmaster.pid" ] || return 1
  pid=$(as_postgres head -n 1 "$data/postmaster.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$state" ] && [ "$state" != Z ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-D $data " || return 1
  echo "$pid"
}

# The port of the cluster running in DIR/data and accepting connections, if there is one
# (line 4 of postmaster.pid).
running_port() {
  local pg_isready=$1 port
  live_pid >/dev/null || return 1
  port=$(as_postgres sed -n 4p "$data/postmaster.pid" 2>/dev/null) || return 1
  [ -n "$port" ] || return 1
  if [ -n "$pg_isready" ]; then
    "$pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -t 5 || return 1
  fi
  echo "$port"
}

start() {
  install_postgres
  local initdb pg_ctl pg_isready port attempt logged_before
  initdb=$(find_bin initdb)
  pg_ctl=$(find_bin pg_ctl)
  pg_isready=$(find_bin pg_isready || true)

  # Started before and still running: the same cluster, the same URL.
  if port=$(running_port "$pg_isready"); then
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    return 0
  fi

  as_root mkdir -p "$dir"
  as_root chown postgres: "$dir"
  # Readable by all, so the caller can read the log; initdb makes DIR/data owner-only.
  as_root chmod 755 "$dir"
  as_postgres test -w "$dir" ||
    die "the postgres user cannot write $dir: every directory above it must be searchable by others (o+x)"
  as_postgres mkdir -p "$run"
  as_postgres touch "$log"
  # The socket path has a 107-byte limit; the port adds at most 5 digits.
  [ ${#run} -le 90 ] || die "$dir is too long for a unix socket path; use a shorter DIR"

  # A server that died leaves its postmaster.pid and socket lock file, naming a pid that may
  # live on as a zombie, and the new server would refuse to start beside them. A live server
  # that does not answer is an error, not something to start beside.
  if live_pid >/dev/null; then
    die "a server runs in $data but does not accept connections (log: $log)"
  fi
  as_postgres rm -f "$data/postmaster.pid"
  as_postgres find "$run" -maxdepth 1 -name '.s.PGSQL.*' -delete
  # A leftover of a start that failed half way is thrown away, not repaired.
  if [ ! -f "$data/PG_VERSION" ]; then
    as_postgres rm -rf "$data"
    logged "$initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync ||
      { tail -n 20 "$log" >&2 || true; die "initdb failed (log: $log)"; }
    # Settings that do not depend on the port. initdb's pg_hba.conf trusts only the unix
    # socket and 127.0.0.1/::1, and listen_addresses keeps the server off other interfaces.
    as_postgres tee -a "$data/postgresql.conf" >/dev/null <<EOF

# scripts/postgres.sh: a throwaway test cluster.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$run'
# Many tests run at once, each with a pool of up to 8 connections.
max_connections = 300
EOF
    # Test data: speed over durability. Benchmarks (EA_PG_DURABLE=1) keep fsync and full
    # page writes, and commit as SQLite's WAL with synchronous=NORMAL does (a power cut may
    # lose the last commits, never corrupt), so the two backends' figures compare.
    if [ "${EA_PG_DURABLE:-}" != 1 ]; then
      as_postgres tee -a "$data/postgresql.conf" >/dev/null <<EOF
fsync = off
full_page_writes = off
EOF
    fi
    as_postgres tee -a "$data/postgresql.conf" >/dev/null <<EOF
synchronous_commit = off
EOF
  fi

  # The port is taken at start: another cluster may bind it between the check and the
  # server's own bind, so a start that fails on its port moves on to the next.
  port=$first_port
  for attempt in $(seq 1 20); do
    while [ "$port" -le "$last_port" ] && ! port_free "$port"; do
      port=$((port + 1))
    done
    [ "$port" -le "$last_port" ] || die "no free port in $first_port..$last_port"
    logged_before=$(wc -l <"$log")
    if logged "$pg_ctl" start -D "$data" -l "$log" -w -t 60 -o "-p $port"; then
      break
    fi
    # Only this attempt's lines tell why it failed.
    if ! tail -n +"$((logged_before + 1))" "$log" |
      grep -q "could not bind\|Address already in use\|could not create any TCP/IP sockets"; then
      tail -n 20 "$log" >&2 || true
      die "the server did not start (log: $log)"
    fi
    say "port $port was taken, trying the next one"
    port=$((port + 1))
    [ "$attempt" -lt 20 ] || die "the server did not start (log: $log)"
  done

  # pg_ctl -w waits for the postmaster to be ready; this also proves the TCP listener.
  if [ -n "$pg_isready" ]; then
    for _ in $(seq 1 100); do
      "$pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres && break
      sleep 0.1
    done
    "$pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres ||
      die "the server does not accept connections on 127.0.0.1:$port (log: $log)"
  fi
  echo "postgres://postgres@127.0.0.1:$port/postgres"
}

stop() {
  # Never remove a directory that is obviously not a cluster's.
  case "$dir" in
  / | /tmp | /root | /home | /var | /usr | "${HOME:-/root}") die "refusing to remove $dir" ;;
  esac
  [ -e "$dir" ] || return 0
  local pg_ctl pid
  # A start that failed before the server ran leaves no live postmaster: nothing to stop.
  if pid=$(live_pid); then
    if pg_ctl=$(find_bin pg_ctl); then
      as_postgres "$pg_ctl" stop -D "$data" -m fast -w -t 30 >/dev/null 2>&1 ||
        as_postgres "$pg_ctl" stop -D "$data" -m immediate -w -t 30 >/dev/null 2>&1 ||
        true
    fi
    # Last resort, so no server outlives its directory: this cluster's own postmaster.
    if live_pid >/dev/null; then
      as_root kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  as_root rm -rf -- "$dir"
}

case "$command" in
start) start ;;
stop) stop ;;
*) usage ;;
esac
