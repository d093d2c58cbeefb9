#!/usr/bin/env bash
# Starts memcache, then the backend, in the background: pid files and logs in the data folder.
# Stop them with scripts/shutdown.sh (make stop).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
# Always build: go build is incremental, and a stale binary would run old code.
make --no-print-directory build >/dev/null

refuse_taken memcache "$IMGCACHE_MEMCACHE_ADDR"
refuse_taken backend "$IMGCACHE_ADDR"

# memcache first: it creates the database file and schema before the backend opens it.
setsid bin/memcache >>"$IMGCACHE_DATA/memcache.log" 2>&1 < /dev/null &
echo $! > "$IMGCACHE_DATA/memcache.pid"
wait_up memcache "$!" "$IMGCACHE_MEMCACHE_ADDR" || { tail -5 "$IMGCACHE_DATA/memcache.log" >&2; exit 1; }

setsid bin/backend >>"$IMGCACHE_DATA/backend.log" 2>&1 < /dev/null &
echo $! > "$IMGCACHE_DATA/backend.pid"
wait_up backend "$!" "$IMGCACHE_ADDR" || { tail -5 "$IMGCACHE_DATA/backend.log" >&2; scripts/shutdown.sh; exit 1; }

echo "imgcache is running:"
echo "  backend   http://${IMGCACHE_ADDR}/   (log $IMGCACHE_DATA/backend.log)"
echo "  memcache  ${IMGCACHE_MEMCACHE_URL}/stats   (log $IMGCACHE_DATA/memcache.log)"
echo "Stop with scripts/shutdown.sh (or make stop)."
