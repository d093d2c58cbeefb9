#!/usr/bin/env bash
# Measures the backend with both services running, with wrk (Debian package wrk) at CONNS connections
# (default 16): /api/key/<key> cache hits spread at random over KEYS cached 15 KB images (default 200),
# then durable 50 KB uploads, each under a new key. Traffic goes to 127.0.0.1 only; each run is bounded
# in time (DUR, default 8s).
#
# BASELINE=<commit> builds that commit in a temporary git worktree and runs it beside the current tree,
# each with its own services, database and data folder, in ROUNDS interleaved rounds (default 5; 1
# without a baseline; the side that goes first alternates). It prints each side's hits/s, uploads/s and
# p50/p99 per round, then per figure the ratio of the medians (current ÷ baseline) with the min–max of
# the rounds' ratios. The baseline is started with the flags stage 1 had: -addr -memcache -db -data.
#
# DB=sqlite (default; a file in each side's folder) or DB=mysql: root@tcp(127.0.0.1:3306), a uniquely
# named database per side, dropped at the end.
# BACKENDS=N starts N backends per side on the one database, folder and memcache, and splits the
# connections over them, one wrk each: their requests/s are summed. ONLY=reads skips the uploads.
# The current side's /metrics give the database queries per read, the mean batch of row lookups and
# the mean group of a commit.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${DUR:-8s}"
CONNS="${CONNS:-16}"
BPORT="${BPORT:-15000}"
MPORT="${MPORT:-15002}"
BACKENDS="${BACKENDS:-1}"
ONLY="${ONLY:-}"
KEYS="${KEYS:-200}"
DB="${DB:-sqlite}"
BASELINE="${BASELINE:-}"
ROUNDS="${ROUNDS:-$([ -n "$BASELINE" ] && echo 5 || echo 1)}"
MYSQL_ADDR=127.0.0.1:3306
number() { case "$2" in ''|*[!0-9]*|0) echo "$1=$2: want a number from 1" >&2; exit 2;; esac; }
number BACKENDS "$BACKENDS"; number ROUNDS "$ROUNDS"; number KEYS "$KEYS"; number CONNS "$CONNS"
case "$DB" in sqlite|mysql) ;; *) echo "DB=$DB: want sqlite or mysql" >&2; exit 2;; esac

. scripts/lib.sh
need_pkg wrk wrk
[ "$DB" = mysql ] && need_pkg mysql mariadb-client

tmp=$(mktemp -d)
pids=()
dbs=()
worktree=""
cleanup() {
  [ "${#pids[@]}" -gt 0 ] && kill "${pids[@]}" 2>/dev/null
  wait 2>/dev/null
  for d in "${dbs[@]}"; do mysql -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS \`$d\`" || true; done
  [ -n "$worktree" ] && git worktree remove --force "$worktree" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

sides=(current)
mkdir -p "$tmp/current/bin"
go build -o "$tmp/current/bin/" ./memcache/cmd/memcache ./app/cmd/backend ./scripts/mkimage
if [ -n "$BASELINE" ]; then
  commit=$(git rev-parse --verify --quiet "$BASELINE^{commit}") || { echo "BASELINE=$BASELINE: no such commit" >&2; exit 2; }
  worktree="$tmp/src"
  git worktree add --quiet --detach "$worktree" "$commit"
  mkdir -p "$tmp/baseline/bin"
  (cd "$worktree" && go build -o "$tmp/baseline/bin/" ./memcache/cmd/memcache ./app/cmd/backend)
  git worktree remove --force "$worktree"
  worktree=""
  sides+=(baseline)
fi

# start_side SIDE OFFSET: the side's memcache and backends on ports offset by OFFSET; records its
# backends' ports in $tmp/SIDE/ports.
start_side() {
  local side=$1 off=$2 dir="$tmp/$1" dsn mport=$((MPORT + $2))
  if [ "$DB" = mysql ]; then
    local name="imgcache_bench_${side}_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
    dbs+=("$name")
    dsn="mysql:root@tcp($MYSQL_ADDR)/$name"
  else
    dsn="sqlite:$dir/imgcache.db"
  fi
  refuse_taken "$side memcache" "127.0.0.1:$mport"
  IMGCACHE_LOG_LEVEL=warn "$dir/bin/memcache" -addr "127.0.0.1:$mport" -db "$dsn" & pids+=($!)
  wait_up "$side memcache" "$!" "127.0.0.1:$mport"
  : > "$dir/ports"
  for i in $(seq 0 $((BACKENDS - 1))); do
    local port=$((BPORT + off + 10 * i))
    refuse_taken "$side backend $((i + 1))" "127.0.0.1:$port"
    IMGCACHE_LOG_LEVEL=warn "$dir/bin/backend" -addr "127.0.0.1:$port" -memcache "http://127.0.0.1:$mport" \
      -db "$dsn" -data "$dir/data" & pids+=($!)
    wait_up "$side backend $((i + 1))" "$!" "127.0.0.1:$port"
    echo "$port" >> "$dir/ports"
  done
}

"$tmp/current/bin/mkimage" -size 15360 > "$tmp/15k.png"
"$tmp/current/bin/mkimage" -size 51200 > "$tmp/50k.png"
off=0
for side in "${sides[@]}"; do
  start_side "$side" "$off"
  off=$((off + 100))
  port=$(head -1 "$tmp/$side/ports")
  # KEYS images, each read once so that the cache holds it.
  seq 1 "$KEYS" | xargs -P 4 -I{} curl -fsS -o /dev/null -F key=h{} -F "file=@$tmp/15k.png" "http://127.0.0.1:$port/api/upload"
  seq 1 "$KEYS" | xargs -P 4 -I{} curl -fsS -o /dev/null -X POST "http://127.0.0.1:$port/api/key/h{}"
done

cat > "$tmp/read.lua" <<LUA
local n = 0
setup = function(thread) n = n + 1; thread:set("id", n) end
init = function(args) math.randomseed(os.time() * 1000 + (id or 0) * 7919) end
wrk.method = "POST"
request = function() return wrk.format(nil, "/api/key/h" .. math.random($KEYS)) end
LUA
# Uploads: one multipart body, a new key per request so every upload writes a new row and file.
body="$tmp/upload.body"
{
  printf -- '--BOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\nContent-Type: image/png\r\n\r\n'
  cat "$tmp/50k.png"
  printf -- '\r\n--BOUNDARY--\r\n'
} > "$body"
# The thread's id is in the key: wrk's threads draw the same random numbers.
cat > "$tmp/upload.lua" <<LUA
local f = io.open("$body", "rb"); local file = f:read("*all"); f:close()
local n, t = 0, 0
setup = function(thread) t = t + 1; thread:set("id", t) end
wrk.method = "POST"
wrk.headers["Content-Type"] = "multipart/form-data; boundary=BOUNDARY"
request = function()
  n = n + 1
  local key = '--BOUNDARY\r\nContent-Disposition: form-data; name="key"\r\n\r\nk' .. (id or 0) .. '-' .. n .. '-' .. math.random(1e9) .. '\r\n'
  return wrk.format(nil, nil, nil, key .. file)
end
LUA

# metric SIDE NAME: the sum of a counter's series over the side's backends whose line starts with NAME.
metric() {
  local port
  while read -r port; do
    curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null || true
  done < "$tmp/$1/ports" | awk -v m="$2" 'index($0, m) == 1 {s += $NF} END {printf "%.0f\n", s}'
}
# counters SIDE: the counters the read and write paths' batching is judged by, on one line.
counters() {
  echo "$(metric "$1" 'imgcache_image_reads_total{') $(metric "$1" 'imgcache_db_queries_total{op="get_images"') \
$(metric "$1" 'imgcache_db_batched_total{op="get_images"') $(metric "$1" 'imgcache_http_requests_total{route="/api/upload"') \
$(metric "$1" 'imgcache_db_queries_total{op="put_images"') $(metric "$1" 'imgcache_db_batched_total{op="put_images"')"
}

# run SIDE PHASE ROUND: one wrk per backend of SIDE at once, CONNS split over them; appends
# "side phase round requests/s p50_ms p99_ms errors" to $tmp/results (p50/p99 of the first backend).
run() {
  local side=$1 phase=$2 round=$3 c=$(( (CONNS + BACKENDS - 1) / BACKENDS )) i=0 wrks=() port script path
  if [ "$phase" = hits ]; then script="$tmp/read.lua"; path=/api/key/h1; else script="$tmp/upload.lua"; path=/api/upload; fi
  rm -f "$tmp"/wrk.*
  while read -r port; do
    wrk -t$(( BACKENDS > 1 ? 1 : 2 )) -c"$c" -d"$DUR" --latency -s "$script" "http://127.0.0.1:$port$path" > "$tmp/wrk.$i" & wrks+=($!)
    i=$((i + 1))
  done < "$tmp/$side/ports"
  wait "${wrks[@]}"
  awk -v side="$side" -v phase="$phase" -v round="$round" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps += $2 }
    FNR == 1 { file++ }
    file == 1 && $1 == "50%" { p50 = ms($2) }
    file == 1 && $1 == "99%" { p99 = ms($2) }
    /Non-2xx/ { err += $NF }
    /Socket errors/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
    END { printf "%s %s %d %.0f %.3f %.3f %d\n", side, phase, round, rps, p50, p99, err }' "$tmp"/wrk.* >> "$tmp/results"
  tail -1 "$tmp/results" | awk '{printf "  %-8s %-7s round %d: %9.0f req/s  p50 %7.3f ms  p99 %7.3f ms%s\n", $1, $2, $3, $4, $5, $6, ($7 ? "  ERRORS " $7 : "")}'
}

echo "# $(nproc) cores, $(go version | cut -d' ' -f3), $(date -u +%FT%TZ), DB=$DB, $CONNS connections, $DUR a run, $ROUNDS round(s), $BACKENDS backend(s) a side, hits over $KEYS keys of 15 KB, uploads of 50 KB"
echo "# current: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (with uncommitted changes)')${BASELINE:+, baseline: $(git rev-parse --short "$BASELINE")}"
phases=(hits)
[ "$ONLY" = reads ] || phases+=(uploads)
: > "$tmp/results"
before=$(counters current)
for r in $(seq 1 "$ROUNDS"); do
  order=("${sides[@]}")
  [ $((r % 2)) = 0 ] && [ "${#sides[@]}" = 2 ] && order=(baseline current)
  for phase in "${phases[@]}"; do
    for side in "${order[@]}"; do run "$side" "$phase" "$r"; done
  done
done
after=$(counters current)

echo "## medians over $ROUNDS round(s)"
awk -v cmp="${#sides[@]}" '
  function median(a, n,   i, j, t, b) {
    for (i = 1; i <= n; i++) b[i] = a[i]
    for (i = 2; i <= n; i++) for (j = i; j > 1 && b[j-1] > b[j]; j--) { t = b[j]; b[j] = b[j-1]; b[j-1] = t }
    return n % 2 ? b[(n+1)/2] : (b[n/2] + b[n/2+1]) / 2
  }
  { k = $1 SUBSEP $2; n[k]++; rps[k, n[k]] = $4; p50[k, n[k]] = $5; p99[k, n[k]] = $6; rounds[$2] = n[k]; errs += $7 }
  END {
    split("hits uploads", phases, " ")
    for (pi = 1; pi <= 2; pi++) {
      ph = phases[pi]; if (!(ph in rounds)) continue
      for (s = 1; s <= 2; s++) {
        side = s == 1 ? "current" : "baseline"; k = side SUBSEP ph
        if (!(k in n)) continue
        for (i = 1; i <= n[k]; i++) { a[i] = rps[k, i]; b[i] = p50[k, i]; c[i] = p99[k, i] }
        mr[side] = median(a, n[k]); m50[side] = median(b, n[k]); m99[side] = median(c, n[k])
        printf "%-8s %-8s %9.0f req/s  p50 %7.3f ms  p99 %7.3f ms\n", ph, side, mr[side], m50[side], m99[side]
      }
      if (cmp == 2) {
        lo = 1e18; hi = 0; lo99 = 1e18; hi99 = 0
        for (i = 1; i <= rounds[ph]; i++) {
          r = rps["current", ph, i] / rps["baseline", ph, i]; if (r < lo) lo = r; if (r > hi) hi = r
          q = p99["current", ph, i] / p99["baseline", ph, i]; if (q < lo99) lo99 = q; if (q > hi99) hi99 = q
        }
        printf "%-8s ratio current/baseline: req/s %.2fx (rounds %.2f-%.2f), p99 %.2fx (rounds %.2f-%.2f)\n",
          ph, mr["current"] / mr["baseline"], lo, hi, m99["current"] / m99["baseline"], lo99, hi99
      }
    }
    if (errs) printf "WARNING: %d failed requests (non-2xx or socket errors): the figures are not comparable\n", errs
  }' "$tmp/results"
echo "## current side's batching, from its /metrics (all rounds)"
echo "$before $after" | awk '{
  reads = $7 - $1; q = $8 - $2; batched = $9 - $3; ups = $10 - $4; g = $11 - $5; grouped = $12 - $6
  if (reads > 0 && q > 0) printf "reads %d, row-lookup queries %d: %.3f queries a read, mean batch %.1f\n", reads, q, q / reads, batched / q
  if (ups > 0 && g > 0) printf "uploads %d, commits %d: mean group %.1f, %.3f commits (database log syncs) an upload\n", ups, g, grouped / g, g / ups
}'
