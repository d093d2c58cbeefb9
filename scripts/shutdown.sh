#!/usr/bin/env bash
# Stops what scripts/start.sh started: SIGTERM by pid file (backend first), then waits up to 15 s each.
# Never kills by port and never uses sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
status=0
# Backends first, then the memcache nodes, whatever their number: every pid file start.sh wrote.
shopt -s nullglob
pidfiles=("$IMGCACHE_DATA"/backend*.pid "$IMGCACHE_DATA"/memcache*.pid)
[ ${#pidfiles[@]} -gt 0 ] || echo "nothing to stop: no pid files in $IMGCACHE_DATA (started with another IMGCACHE_DATA? set it as it was)"
for pidfile in "${pidfiles[@]}"; do
  name=$(basename "$pidfile" .pid)
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
