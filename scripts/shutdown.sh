#!/usr/bin/env bash
# Stops what scripts/start.sh started: SIGTERM by pid file (backend first), then waits up to 15 s each.
# The pid files are in the data folder, IMGCACHE_DATA (default data). When it holds none, this lists
# the imgcache services of this checkout that run with another data folder, and how to stop them.
# Never kills by port or by name, and never uses sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
status=0
# Backends first, then the memcache nodes, whatever their number: every pid file start.sh wrote.
shopt -s nullglob
pidfiles=0
for pidfile in "$IMGCACHE_DATA"/backend*.pid "$IMGCACHE_DATA"/memcache*.pid; do
  name=$(basename "$pidfile" .pid)
  pidfiles=$((pidfiles + 1))
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
[ "$pidfiles" -gt 0 ] && exit $status

# No pid file here: look, without touching them, for this checkout's services (by their executable, in
# /proc, so Linux only) and read the data folder each was started with from its environment.
root=$(pwd -P)
found=0
for proc in /proc/[0-9]*; do
  exe=$(readlink "$proc/exe" 2>/dev/null) || continue
  exe=${exe% (deleted)}
  case "$exe" in "$root/bin/backend" | "$root/bin/memcache") ;; *) continue ;; esac
  pid=${proc#/proc/}
  name=${exe##*/}
  data=$(tr '\0' '\n' < "$proc/environ" 2>/dev/null | sed -n 's/^IMGCACHE_DATA=//p' | tail -1)
  data=${data:-data}
  case "$data" in /*) ;; *) data="$(readlink "$proc/cwd" 2>/dev/null)/$data" ;; esac
  found=1
  if grep -qx "$pid" "$data"/"$name"*.pid 2>/dev/null; then
    echo "$name (pid $pid) runs with IMGCACHE_DATA=$data: stop it with  IMGCACHE_DATA=$data make stop"
  else
    echo "$name (pid $pid) runs with IMGCACHE_DATA=$data but has no pid file there (started by hand?): stop it where it runs (Ctrl-C), or with  kill $pid"
  fi
done
if [ "$found" = 1 ]; then
  exit 1
fi
echo "Nothing to stop under IMGCACHE_DATA=$IMGCACHE_DATA. Services started with another data folder are stopped with"
echo "  IMGCACHE_DATA=that-folder make stop"
