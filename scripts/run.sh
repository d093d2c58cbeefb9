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
# stop STATUS stops both services and exits: with STATUS when they stop cleanly, 1 when one fails to.
stop() {
  local status=$1
  trap - EXIT
  if [ "$stopping" = 1 ]; then
    kill -KILL "${pids[@]}" 2>/dev/null || true
    exit 1
  fi
  stopping=1
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || status=1
  done
  exit "$status"
}
trap 'stop 0' INT TERM
trap 'stop 1' EXIT

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
if [ -t 0 ]; then
  # Job control gives the terminal to the waiting job alone: a Ctrl-C then ends that job, not make, so
  # `make run` ends with this script's status instead of make's "Interrupt".
  set -m
  status=0
  # The job exits 3 on Ctrl-C rather than dying of it: bash would take a job killed by SIGINT as its
  # own interruption and exit through the EXIT trap.
  ( trap 'exit 3' INT; while kill -0 "${pids[0]}" 2>/dev/null && kill -0 "${pids[1]}" 2>/dev/null; do sleep 0.5; done ) || status=$?
  set +m
  [ "$status" -eq 3 ] && stop 0
else
  wait -n "${pids[@]}" || true
fi
# A service ended by itself, which is a failure: stop the other and exit 1.
stop 1
