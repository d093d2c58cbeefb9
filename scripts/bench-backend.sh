#!/usr/bin/env bash
# Measures the backend with both services running: /api/key/<key> cache hits of a 15 KB image, and
# durable 50 KB uploads, each at 16 connections with wrk (Debian package wrk). Traffic goes to 127.0.0.1
# only; each run is bounded in time (DUR, default 10s).
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${DUR:-10s}"
CONNS="${CONNS:-16}"
BPORT="${BPORT:-15000}"
MPORT="${MPORT:-15002}"
tmp=$(mktemp -d)
go build -o "$tmp/" ./memcache/cmd/memcache ./app/cmd/backend ./scripts/mkimage

. scripts/lib.sh
"$tmp/memcache" -addr "127.0.0.1:$MPORT" -db "sqlite:$tmp/imgcache.db" -log-level warn & mpid=$!
trap 'kill $mpid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
wait_up memcache "$mpid" "127.0.0.1:$MPORT"
"$tmp/backend" -addr "127.0.0.1:$BPORT" -memcache "http://127.0.0.1:$MPORT" -db "sqlite:$tmp/imgcache.db" -data "$tmp/data" -log-level warn & bpid=$!
trap 'kill $bpid $mpid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
wait_up backend "$bpid" "127.0.0.1:$BPORT"

"$tmp/mkimage" -size 15360 > "$tmp/15k.png"
"$tmp/mkimage" -size 51200 > "$tmp/50k.png"
curl -fsS -F key=hit15k -F "file=@$tmp/15k.png" "http://127.0.0.1:$BPORT/api/upload" >/dev/null
curl -fsS -X POST "http://127.0.0.1:$BPORT/api/key/hit15k" >/dev/null # fills the cache

echo "# $(nproc) cores, $(go version | cut -d' ' -f3), $(date -u +%FT%TZ), $CONNS connections, $DUR"
cat > "$tmp/read.lua" <<'LUA'
wrk.method = "POST"
LUA
echo "## reads: POST /api/key/hit15k (15 KB image, cache hits)"
wrk -t2 -c"$CONNS" -d"$DUR" --latency -s "$tmp/read.lua" "http://127.0.0.1:$BPORT/api/key/hit15k" | grep -E "Requests/sec|50%|99%|Non-2xx|Socket errors"
curl -fsS "http://127.0.0.1:$MPORT/stats"; echo

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
wrk -t2 -c"$CONNS" -d"$DUR" --latency -s "$tmp/upload.lua" "http://127.0.0.1:$BPORT/api/upload" | grep -E "Requests/sec|50%|99%|Non-2xx|Socket errors"
echo "images stored: $(ls "$tmp/data/images" | wc -l)"
