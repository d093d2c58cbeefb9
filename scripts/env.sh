# Sourced by the scripts: the configuration they share with `make run`, from the environment (README).
export IMGCACHE_DATA="${IMGCACHE_DATA:-data}"
export IMGCACHE_DB="${IMGCACHE_DB:-sqlite:${IMGCACHE_DATA}/imgcache.db}"
export IMGCACHE_MEMCACHE_ADDR="${IMGCACHE_MEMCACHE_ADDR:-127.0.0.1:5001}"
export IMGCACHE_MEMCACHE_URL="${IMGCACHE_MEMCACHE_URL:-http://${IMGCACHE_MEMCACHE_ADDR}}"
export IMGCACHE_ADDR="${IMGCACHE_ADDR:-127.0.0.1:5000}"
# How many backends and memcache nodes to start (README: several backends, the memcache pool).
export IMGCACHE_BACKENDS="${IMGCACHE_BACKENDS:-1}"
export IMGCACHE_MEMCACHE_NODES="${IMGCACHE_MEMCACHE_NODES:-1}"
mkdir -p "$IMGCACHE_DATA"

case "$IMGCACHE_BACKENDS" in ''|*[!0-9]*) echo "IMGCACHE_BACKENDS=$IMGCACHE_BACKENDS: want a number" >&2; exit 2;; esac
case "$IMGCACHE_MEMCACHE_NODES" in ''|*[!0-9]*) echo "IMGCACHE_MEMCACHE_NODES=$IMGCACHE_MEMCACHE_NODES: want a number" >&2; exit 2;; esac
if [ "$IMGCACHE_BACKENDS" -lt 1 ] || [ "$IMGCACHE_MEMCACHE_NODES" -lt 1 ] || [ "$IMGCACHE_MEMCACHE_NODES" -gt 8 ]; then
  echo "want 1 or more backends (IMGCACHE_BACKENDS) and 1 to 8 memcache nodes (IMGCACHE_MEMCACHE_NODES)" >&2; exit 2
fi

# backend_addr I: backend I's address: IMGCACHE_ADDR for the first, then the ports after it but one
# (5000, 5002, 5003, ...: 5001 is the first memcache node's).
backend_addr() {
  local host="${IMGCACHE_ADDR%:*}" port="${IMGCACHE_ADDR##*:}"
  if [ "$1" -eq 1 ]; then echo "$IMGCACHE_ADDR"; else echo "$host:$((port + $1))"; fi
}

# memcache_addr J: memcache node J's address: IMGCACHE_MEMCACHE_ADDR for the first, then consecutive
# ports from 100 above it (5101, 5102, ...), clear of the backends' ports.
memcache_addr() {
  local host="${IMGCACHE_MEMCACHE_ADDR%:*}" port="${IMGCACHE_MEMCACHE_ADDR##*:}"
  if [ "$1" -eq 1 ]; then echo "$IMGCACHE_MEMCACHE_ADDR"; else echo "$host:$((port + 98 + $1))"; fi
}

# service_name KIND I: the name of pid and log files: memcache, memcache-2, ..., backend, backend-2, ...
service_name() { if [ "$2" -eq 1 ]; then echo "$1"; else echo "$1-$2"; fi; }

. scripts/lib.sh

# The memcache's shared secret: IMGCACHE_MEMCACHE_SECRET, or a random one made once and kept, readable by
# its owner only, in the data folder. Both services read it from the environment, never from a flag
# that ps would show.
if [ -z "${IMGCACHE_MEMCACHE_SECRET:-}" ]; then
  secret_file="$IMGCACHE_DATA/memcache.secret"
  if [ ! -s "$secret_file" ]; then
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$secret_file")
  fi
  IMGCACHE_MEMCACHE_SECRET=$(cat "$secret_file")
fi
export IMGCACHE_MEMCACHE_SECRET
