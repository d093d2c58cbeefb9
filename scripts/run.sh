#!/usr/bin/env bash
# Runs the memcache nodes and the backends in the foreground; Ctrl-C (or SIGTERM) stops them gracefully.
# Configuration comes from the environment (see README and scripts/env.sh): IMGCACHE_DATA, IMGCACHE_DB,
# IMGCACHE_ADDR, IMGCACHE_MEMCACHE_ADDR, IMGCACHE_BACKENDS, IMGCACHE_MEMCACHE_NODES, IMGCACHE_STORAGE,
# IMGCACHE_LOG_LEVEL, ...
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/env.sh
for j in $(seq 1 "$IMGCACHE_MEMCACHE_NODES"); do refuse_taken "$(service_name memcache "$j")" "$(memcache_addr "$j")"; done
for i in $(seq 1 "$IMGCACHE_BACKENDS"); do refuse_taken "$(service_name backend "$i")" "$(backend_addr "$i")"; done

# The services run in their own sessions (setsid), so a Ctrl-C reaches this script only, which sends each
# one SIGTERM once; a second Ctrl-C kills them at once.
pids=()
stopping=0
# all_alive is true while every service runs.
all_alive() {
  local pid
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || return 1; done
}

# stop STATUS stops every service and exits: with STATUS when they stop cleanly, 1 when one fails to.
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

# The memcache nodes first: the first creates the database file and schema before the others open it.
for j in $(seq 1 "$IMGCACHE_MEMCACHE_NODES"); do
  setsid bin/memcache -addr "$(memcache_addr "$j")" &
  pids+=($!)
  wait_up "$(service_name memcache "$j")" "$!" "$(memcache_addr "$j")"
done
for i in $(seq 1 "$IMGCACHE_BACKENDS"); do
  setsid bin/backend -addr "$(backend_addr "$i")" &
  pids+=($!)
  wait_up "$(service_name backend "$i")" "$!" "$(backend_addr "$i")"
done

echo
echo "imgcache is running:"
for i in $(seq 1 "$IMGCACHE_BACKENDS"); do echo "  backend   http://$(backend_addr "$i")/"; done
for j in $(seq 1 "$IMGCACHE_MEMCACHE_NODES"); do echo "  memcache  http://$(memcache_addr "$j") (node $j)"; done
echo "Press Ctrl-C to stop them."
if [ -t 0 ]; then
  # Job control gives the terminal to the waiting job alone: a Ctrl-C then ends that job, not make, so
  # `make run` ends with this script's status instead of make's "Interrupt".
  set -m
  status=0
  # The job exits 3 on Ctrl-C rather than dying of it: bash would take a job killed by SIGINT as its
  # own interruption and exit through the EXIT trap.
  ( trap 'exit 3' INT; while all_alive; do sleep 0.5; done ) || status=$?
  set +m
  [ "$status" -eq 3 ] && stop 0
else
  wait -n "${pids[@]}" || true
fi
# A service ended by itself, which is a failure: stop the others and exit 1.
stop 1
