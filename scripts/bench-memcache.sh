#!/usr/bin/env bash
# Measures the memcache service: GET hits of a 15 KB and a 100 KB value at 16 and 64 connections with wrk,
# side by side with redis-benchmark against the Redis on 127.0.0.1:6379, then the resident memory after
# filling a 256 MB cache with 100 KB values. Needs wrk and redis-benchmark (Debian packages wrk,
# redis-tools). Traffic goes to 127.0.0.1 only; each run is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${DUR:-10s}"
PORT="${PORT:-15001}"
tmp=$(mktemp -d)
go build -o "$tmp/" ./memcache/cmd/memcache ./scripts/memfill

. scripts/lib.sh
need_pkg wrk wrk

start() {
  "$tmp/memcache" -addr "127.0.0.1:$PORT" -db "sqlite:$tmp/db-$1.sqlite" -log-level warn &
  pid=$!
  wait_up memcache "$pid" "127.0.0.1:$PORT"
}
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT

start hits
cat > "$tmp/get.lua" <<'LUA'
wrk.method = "POST"
LUA
for size in 15360 102400; do
  head -c $((size / 4 * 3)) /dev/urandom | base64 -w0 > "$tmp/v$size"
  curl -fsS -X POST -H 'Content-Type: application/octet-stream' --data-binary "@$tmp/v$size" \
    "http://127.0.0.1:$PORT/put_into_memcache?key=v$size" >/dev/null
done
echo "# $(nproc) cores, $(go version | cut -d' ' -f3), $(date -u +%FT%TZ)"
printf '%-8s %-6s %14s %14s %8s\n' size conns imgcache_rps redis_rps ratio
for size in 15360 102400; do
  for conns in 16 64; do
    ours=$(wrk -t2 -c"$conns" -d"$DUR" -s "$tmp/get.lua" "http://127.0.0.1:$PORT/get_from_memcache?key=v$size" | awk '/Requests\/sec/ {print $2}')
    theirs=$(redis-benchmark -h 127.0.0.1 -p 6379 -t set,get -d "$size" -c "$conns" -n 200000 -q 2>/dev/null | tr '\r' '\n' | awk '/^GET: [0-9.]+ requests/ {print $2}')
    printf '%-8s %-6s %14.0f %14.0f %8.2f\n' "$size" "$conns" "$ours" "$theirs" "$(awk -v a="$ours" -v b="$theirs" 'BEGIN {print a / b}')"
  done
done
kill $pid; wait $pid 2>/dev/null || true

start mem
sleep 1
"$tmp/memfill" -memcache "http://127.0.0.1:$PORT" -db "sqlite:$tmp/db-mem.sqlite" -pid "$pid" -capacity-mb 256 -value 102400
