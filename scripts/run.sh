#!/usr/bin/env bash
# Runs memcache and the backend in the foreground; Ctrl-C (or SIGTERM) stops both gracefully.
# Configuration comes from the environment (see README): IMGCACHE_DATA, IMGCACHE_DB, IMGCACHE_ADDR,
# IMGCACHE_MEMCACHE_ADDR, IMGCACHE_MEMCACHE_URL, IMGCACHE_LOG_LEVEL.
set -euo pipefail
cd "$(dirname "$0")/.."

export IMGCACHE_DATA="${IMGCACHE_DATA:-data}"
export IMGCACHE_DB="${IMGCACHE_DB:-sqlite:${IMGCACHE_DATA}/imgcache.db}"
export IMGCACHE_MEMCACHE_ADDR="${IMGCACHE_MEMCACHE_ADDR:-127.0.0.1:5001}"
export IMGCACHE_MEMCACHE_URL="${IMGCACHE_MEMCACHE_URL:-http://${IMGCACHE_MEMCACHE_ADDR}}"
export IMGCACHE_ADDR="${IMGCACHE_ADDR:-127.0.0.1:5000}"
mkdir -p "$IMGCACHE_DATA"

# answers HOST:PORT: true once something accepts connections there (bash only, no curl needed).
answers() { local hp="${1#*://}"; hp="${hp%%/*}"; (exec 3<>"/dev/tcp/${hp%:*}/${hp##*:}") 2>/dev/null; }

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
for _ in $(seq 1 100); do
  answers "$IMGCACHE_MEMCACHE_ADDR" && break
  kill -0 "${pids[0]}" 2>/dev/null || { echo "memcache did not start (see above)" >&2; exit 1; }
  sleep 0.1
done

setsid bin/backend &
pids+=($!)
for _ in $(seq 1 100); do
  answers "$IMGCACHE_ADDR" && break
  kill -0 "${pids[1]}" 2>/dev/null || { echo "backend did not start (see above)" >&2; exit 1; }
  sleep 0.1
done

echo
echo "imgcache is running:"
echo "  backend   http://${IMGCACHE_ADDR}/"
echo "  memcache  ${IMGCACHE_MEMCACHE_URL}/stats"
echo "Press Ctrl-C to stop both."
wait -n "${pids[@]}" || true
