#!/usr/bin/env bash
# What a larger memcache pool is worth: the 80:20 mix with LRU, once on each pool size (NODES, default
# "1 2 4"), every node with the same capacity (the default share of the data set), each run in its own
# folder reports/out/pool-nodes-N (listed on the Benchmarks page), then a table of the hit rate and the
# saturation by pool size from each run's summary.md, printed and written to reports/out/pool-summary.md.
# Extra arguments go to every loadgen run (e.g. -repeat 1, -backends 2).
set -euo pipefail
cd "$(dirname "$0")/.."
NODES="${NODES:-1 2 4}"
OUT="${OUT:-reports/out}"
[ -x bin/loadgen ] || { echo "bin/loadgen missing: run make build" >&2; exit 1; }

for n in $NODES; do
  echo "==> pool of $n memcache node(s)"
  bin/loadgen -nodes "$n" -mixes 80:20 -policies LRU -out "$OUT/pool-nodes-$n" "$@"
done

# The summary row of the 80:20 LRU cell of each run: | mix | policy | cache MB | runs | sustained
# throughput | saturated between | p99 there | hit rate | ...
{
  echo "| memcache nodes | cache MB a node | runs | sustained throughput (/s) | saturated between (/s offered) | p99 there (ms) | hit rate |"
  echo "|--:|--:|--:|--:|--:|--:|--:|"
  for n in $NODES; do
    awk -F'|' -v n="$n" '$2 ~ /^ *80:20 *$/ && $3 ~ /^ *LRU *$/ { printf "| %s |%s|%s|%s|%s|%s|%s|\n", n, $4, $5, $6, $7, $8, $9; found = 1 }
      END { if (!found) printf "| %s | – | – | – | – | – | (no result) |\n", n }' "$OUT/pool-nodes-$n/summary.md" 2>/dev/null ||
      echo "| $n | – | – | – | – | – | (no summary.md) |"
  done
} | tee "$OUT/pool-summary.md"
echo "pool summary: $OUT/pool-summary.md"
