#!/usr/bin/env bash
# Stops what scripts/start.sh started: SIGTERM by pid file (backend first), then waits up to 15 s each.
# Never kills by port and never uses sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
status=0
for name in backend memcache; do
  pidfile="$IMGCACHE_DATA/$name.pid"
  [ -f "$pidfile" ] || { echo "$name: not running (no $pidfile)"; continue; }
  pid=$(cat "$pidfile")
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "$name: not running (stale pid $pid)"; rm -f "$pidfile"; continue
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$name (pid $pid) did not stop within 15 s; it is still running" >&2; status=1
  else
    echo "$name stopped"; rm -f "$pidfile"
  fi
done
exit $status
