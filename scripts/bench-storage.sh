#!/usr/bin/env bash
# Measures what S3 storage costs against the folder, in one run: durable 50 KB uploads per second at 16
# connections with wrk, to a backend on the folder and to a backend on S3 (versitygw on loopback, posix
# backend on the same disk), interleaved and repeated (ROUNDS, default 3; median and range); then the Go
# benchmark of reading a 100 KB object from each, what a cache miss costs in the store. Traffic goes to
# 127.0.0.1 only; each wrk run is bounded in time (DUR, default 10s).
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${DUR:-10s}"
CONNS="${CONNS:-16}"
ROUNDS="${ROUNDS:-3}"
FPORT="${FPORT:-15010}" # backend on the folder
SPORT="${SPORT:-15011}" # backend on S3
MPORT="${MPORT:-15012}" # memcache
VPORT="${VPORT:-15013}" # versitygw
. scripts/lib.sh
need_pkg wrk wrk

# versitygw: where s3test looks for it too.
vgw=$(command -v versitygw || true)
for d in "$(go env GOBIN)" "$(go env GOPATH | cut -d: -f1)/bin"; do
  [ -n "$vgw" ] || [ -z "$d" ] || [ ! -x "$d/versitygw" ] || vgw="$d/versitygw"
done
[ -n "$vgw" ] || { echo "versitygw not found: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0" >&2; exit 1; }
for p in "$FPORT" "$SPORT" "$MPORT" "$VPORT"; do refuse_taken bench-storage "127.0.0.1:$p"; done

tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
go build -o "$tmp/" ./memcache/cmd/memcache ./app/cmd/backend ./scripts/mkimage

# Only the S3 listener, on loopback; keep-alive as real S3 services do; none of our environment, since
# versitygw reads listeners and IAM settings from VGW_* variables.
mkdir "$tmp/s3"
env -i PATH="$PATH" HOME="$tmp" "$vgw" --access bench --secret bench-secret --port "127.0.0.1:$VPORT" \
  --keep-alive --quiet posix "$tmp/s3" >"$tmp/versitygw.log" 2>&1 & pids+=($!)
wait_up versitygw "${pids[-1]}" "127.0.0.1:$VPORT"
"$tmp/memcache" -addr "127.0.0.1:$MPORT" -db "sqlite:$tmp/mc.db" -log-level warn & pids+=($!)
wait_up memcache "${pids[-1]}" "127.0.0.1:$MPORT"
# Each backend has its own database: the uploads of one run must not replace rows of the other's.
"$tmp/backend" -addr "127.0.0.1:$FPORT" -memcache "http://127.0.0.1:$MPORT" -db "sqlite:$tmp/file.db" \
  -data "$tmp/file" -storage "file:$tmp/file/images" -log-level warn & pids+=($!)
wait_up backend-folder "${pids[-1]}" "127.0.0.1:$FPORT"
AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret "$tmp/backend" -addr "127.0.0.1:$SPORT" \
  -memcache "http://127.0.0.1:$MPORT" -db "sqlite:$tmp/s3.db" -data "$tmp/s3data" \
  -storage "s3://bench?endpoint=http://127.0.0.1:$VPORT&region=us-east-1" -log-level warn & pids+=($!)
wait_up backend-s3 "${pids[-1]}" "127.0.0.1:$SPORT"

# One multipart body; a key never used before per request (run, wrk thread, count), so every upload writes
# a new object and a new row and none replaces another.
"$tmp/mkimage" -size 51200 > "$tmp/50k.png"
body="$tmp/upload.body"
{
  printf -- '--BOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\nContent-Type: image/png\r\n\r\n'
  cat "$tmp/50k.png"
  printf -- '\r\n--BOUNDARY--\r\n'
} > "$body"
cat > "$tmp/upload.lua" <<LUA
local f = io.open("$body", "rb"); local file = f:read("*all"); f:close()
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
local run, n = "", 0
function init(args) run = args[1] end
wrk.method = "POST"
wrk.headers["Content-Type"] = "multipart/form-data; boundary=BOUNDARY"
request = function()
  n = n + 1
  local key = '--BOUNDARY\r\nContent-Disposition: form-data; name="key"\r\n\r\n' .. run .. '-' .. tid .. '-' .. n .. '\r\n'
  return wrk.format(nil, nil, nil, key .. file)
end
LUA

# cpu PID: the CPU seconds the process has used so far (user + system).
hz=$(getconf CLK_TCK)
cpu() { awk -v hz="$hz" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat"; }
vpid=${pids[0]} fpid=${pids[2]} spid=${pids[3]}

echo "# $(nproc) cores (a shared, noisy VM: compare within a run, not across runs), $(go version | cut -d' ' -f3), $(date -u +%FT%TZ)"
echo "# versitygw $(go version -m "$vgw" | awk '$1 == "mod" { print $3 }') posix on $(df -T "$tmp" | awk 'NR == 2 { print $2 }'), keep-alive; $CONNS connections, $DUR per run, $ROUNDS rounds"
echo "## writes: POST /api/upload (50 KB PNG): object stored (folder: fsynced; S3: acknowledged), then the row committed"
: > "$tmp/results"
for round in $(seq 1 "$ROUNDS"); do
  for target in folder s3; do
    port=$FPORT bpid=$fpid; [ "$target" = s3 ] && port=$SPORT bpid=$spid
    b0=$(cpu "$bpid") v0=$(cpu "$vpid")
    out=$(wrk -t2 -c"$CONNS" -d"$DUR" --latency -s "$tmp/upload.lua" "http://127.0.0.1:$port/api/upload" -- "$round$target")
    rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
    p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
    bad=$(awk '/Non-2xx/ { print $NF }' <<<"$out")
    n=$(awk '/requests in/ { print $1 }' <<<"$out")
    # CPU per upload, in ms: the backend's, and versitygw's (which is idle during the folder's runs).
    cpuinfo=$(awk -v b0="$b0" -v b1="$(cpu "$bpid")" -v v0="$v0" -v v1="$(cpu "$vpid")" -v n="$n" \
      'BEGIN { printf "cpu/upload: backend %.2f ms, versitygw %.2f ms", (b1 - b0) * 1000 / n, (v1 - v0) * 1000 / n }')
    printf 'round %d %-6s %8s uploads/s  p50 %-8s p99 %-8s non-2xx %s  %s\n' "$round" "$target" "$rps" "$p50" "$p99" "${bad:-0}" "$cpuinfo"
    echo "$target $rps $n" >> "$tmp/results"
  done
done
for target in folder s3; do
  awk -v t="$target" '$1 == t { print $2 }' "$tmp/results" | sort -n | awk -v t="$target" '
    { v[NR] = $1 } END { printf "%-6s median %.0f uploads/s (min %.0f, max %.0f, %d runs)\n", t, v[int((NR + 1) / 2)], v[1], v[NR], NR }'
done
# Every answered upload left an object (a few more may have finished after wrk stopped counting).
for target in folder s3; do
  dir="$tmp/file/images"; [ "$target" = s3 ] && dir="$tmp/s3/bench"
  echo "$target: $(awk -v t="$target" '$1 == t { n += $3 } END { print n }' "$tmp/results") uploads answered, $(ls "$dir" | wc -l) objects stored"
done

echo "## reads: one 100 KB object from the store (what a cache miss costs there), Go benchmark, $ROUNDS interleaved runs"
for round in $(seq 1 "$ROUNDS"); do
  go test -run '^$' -bench 'BenchmarkGet' -benchtime 2s ./app/s3store/ | grep '^BenchmarkGet'
done
