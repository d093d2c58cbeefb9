#!/usr/bin/env bash
# Starts the memcache nodes, then the backends, in the background: pid files and logs in the data
# folder. IMGCACHE_MEMCACHE_NODES and IMGCACHE_BACKENDS say how many (README). Stop them with
# scripts/shutdown.sh (make stop).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
# Always build: go build is incremental, and a stale binary would run old code.
make --no-print-directory build >/dev/null

for j in $(seq 1 "$IMGCACHE_MEMCACHE_NODES"); do refuse_taken "$(service_name memcache "$j")" "$(memcache_addr "$j")"; done
for i in $(seq 1 "$IMGCACHE_BACKENDS"); do refuse_taken "$(service_name backend "$i")" "$(backend_addr "$i")"; done

# start NAME ADDR CMD...: one service in its own session, its pid file and log in the data folder.
start() {
  local name=$1 addr=$2; shift 2
  setsid "$@" >>"$IMGCACHE_DATA/$name.log" 2>&1 < /dev/null &
  echo $! > "$IMGCACHE_DATA/$name.pid"
  wait_up "$name" "$!" "$addr" || { tail -5 "$IMGCACHE_DATA/$name.log" >&2; scripts/shutdown.sh; exit 1; }
}

# The memcache nodes first: the first creates the database file and schema before the others open it.
for j in $(seq 1 "$IMGCACHE_MEMCACHE_NODES"); do
  start "$(service_name memcache "$j")" "$(memcache_addr "$j")" bin/memcache -addr "$(memcache_addr "$j")"
done
for i in $(seq 1 "$IMGCACHE_BACKENDS"); do
  start "$(service_name backend "$i")" "$(backend_addr "$i")" bin/backend -addr "$(backend_addr "$i")"
done

echo "imgcache is running (logs in $IMGCACHE_DATA):"
for i in $(seq 1 "$IMGCACHE_BACKENDS"); do echo "  backend   http://$(backend_addr "$i")/"; done
for j in $(seq 1 "$IMGCACHE_MEMCACHE_NODES"); do echo "  memcache  http://$(memcache_addr "$j") (node $j)"; done
echo "Stop with scripts/shutdown.sh (or make stop)."
