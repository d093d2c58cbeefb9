#!/usr/bin/env bash
# Measures the backend with both services running: /api/key/<key> cache hits of a 15 KB image, and
# durable 50 KB uploads, each at 16 connections with wrk (Debian package wrk). Traffic goes to 127.0.0.1
# only; each run is bounded in time (DUR, default 10s).
#
# BACKENDS=N starts N backends (ports BPORT, BPORT+10, ...) on the one SQLite file, folder and
# memcache, and splits the connections over them, one wrk each: their requests/s are summed.
# ONLY=reads skips the uploads.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${DUR:-10s}"
CONNS="${CONNS:-16}"
BPORT="${BPORT:-15000}"
MPORT="${MPORT:-15002}"
BACKENDS="${BACKENDS:-1}"
ONLY="${ONLY:-}"
case "$BACKENDS" in ''|*[!0-9]*|0) echo "BACKENDS=$BACKENDS: want a number from 1" >&2; exit 2;; esac
tmp=$(mktemp -d)
go build -o "$tmp/" ./memcache/cmd/memcache ./app/cmd/backend ./scripts/mkimage

. scripts/lib.sh
need_pkg wrk wrk
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
"$tmp/memcache" -addr "127.0.0.1:$MPORT" -db "sqlite:$tmp/imgcache.db" -log-level warn & pids+=($!)
wait_up memcache "$!" "127.0.0.1:$MPORT"
ports=()
for i in $(seq 0 $((BACKENDS - 1))); do
  port=$((BPORT + 10 * i))
  refuse_taken "backend $((i + 1))" "127.0.0.1:$port"
  "$tmp/backend" -addr "127.0.0.1:$port" -memcache "http://127.0.0.1:$MPORT" -db "sqlite:$tmp/imgcache.db" -data "$tmp/data" -log-level warn & pids+=($!)
  wait_up "backend $((i + 1))" "$!" "127.0.0.1:$port"
  ports+=("$port")
done

# wrk_all SCRIPT PATH: one wrk per backend, CONNS split over them, at once; prints each one's
# figures and, with several, the summed requests/s.
wrk_all() {
  local c=$(( (CONNS + BACKENDS - 1) / BACKENDS )) i=0 wrks=()
  rm -f "$tmp"/wrk.*
  for port in "${ports[@]}"; do
    wrk -t$(( BACKENDS > 1 ? 1 : 2 )) -c"$c" -d"$DUR" --latency -s "$1" "http://127.0.0.1:$port$2" > "$tmp/wrk.$i" & wrks+=($!)
    i=$((i + 1))
  done
  wait "${wrks[@]}"
  for j in $(seq 0 $((i - 1))); do
    [ "$BACKENDS" -gt 1 ] && echo "backend $((j + 1)):"
    grep -E "Requests/sec|50%|99%|Non-2xx|Socket errors" "$tmp/wrk.$j"
  done
  if [ "$BACKENDS" -gt 1 ]; then
    awk '/Requests\/sec/ {s += $2; n++} END {printf "Requests/sec, all %d backends: %.2f\n", n, s}' "$tmp"/wrk.*
  fi
}

"$tmp/mkimage" -size 15360 > "$tmp/15k.png"
"$tmp/mkimage" -size 51200 > "$tmp/50k.png"
curl -fsS -F key=hit15k -F "file=@$tmp/15k.png" "http://127.0.0.1:$BPORT/api/upload" >/dev/null
curl -fsS -X POST "http://127.0.0.1:$BPORT/api/key/hit15k" >/dev/null # fills the cache

echo "# $(nproc) cores, $(go version | cut -d' ' -f3), $(date -u +%FT%TZ), $CONNS connections, $DUR, $BACKENDS backend(s)"
cat > "$tmp/read.lua" <<'LUA'
wrk.method = "POST"
LUA
echo "## reads: POST /api/key/hit15k (15 KB image, cache hits)"
wrk_all "$tmp/read.lua" /api/key/hit15k
curl -fsS "http://127.0.0.1:$MPORT/stats"; echo
[ "$ONLY" = reads ] && exit 0

# Uploads: one multipart body, a new key per request so every upload writes a new row and file.
body="$tmp/upload.body"
{
  printf -- '--BOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\nContent-Type: image/png\r\n\r\n'
  cat "$tmp/50k.png"
  printf -- '\r\n--BOUNDARY--\r\n'
} > "$body"
cat > "$tmp/upload.lua" <<LUA
local f = io.open("$body", "rb"); local file = f:read("*all"); f:close()
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "multipart/form-data; boundary=BOUNDARY"
request = function()
  n = n + 1
  local key = '--BOUNDARY\r\nContent-Disposition: form-data; name="key"\r\n\r\nk' .. n .. '-' .. math.random(1e9) .. '\r\n'
  return wrk.format(nil, nil, nil, key .. file)
end
LUA
echo "## writes: POST /api/upload (50 KB PNG, durable)"
wrk_all "$tmp/upload.lua" /api/upload
echo "images stored: $(ls "$tmp/data/images" | wc -l)"
