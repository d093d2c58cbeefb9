#!/usr/bin/env bash
# Runs memcache and the backend in the foreground; Ctrl-C (or SIGTERM) stops both gracefully.
# Configuration comes from the environment (see README): IMGCACHE_DATA, IMGCACHE_DB, IMGCACHE_ADDR,
# IMGCACHE_MEMCACHE_ADDR, IMGCACHE_MEMCACHE_URL, IMGCACHE_LOG_LEVEL.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/env.sh
refuse_taken memcache "$IMGCACHE_MEMCACHE_ADDR"
refuse_taken backend "$IMGCACHE_ADDR"

# The services run in their own sessions (setsid), so a Ctrl-C reaches this script only, which sends each
# one SIGTERM once; a second Ctrl-C kills them at once.
pids=()
stopping=0
stop() {
  if [ "$stopping" = 1 ]; then
    kill -KILL "${pids[@]}" 2>/dev/null || true
    exit 1
  fi
  stopping=1
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  exit 0
}
trap stop INT TERM EXIT

# memcache first: it creates the database file and schema before the backend opens it.
setsid bin/memcache &
pids+=($!)
wait_up memcache "${pids[0]}" "$IMGCACHE_MEMCACHE_ADDR"
setsid bin/backend &
pids+=($!)
wait_up backend "${pids[1]}" "$IMGCACHE_ADDR"

echo
echo "imgcache is running:"
echo "  backend   http://${IMGCACHE_ADDR}/"
echo "  memcache  ${IMGCACHE_MEMCACHE_URL}/stats"
echo "Press Ctrl-C to stop both."
wait -n "${pids[@]}" || true
