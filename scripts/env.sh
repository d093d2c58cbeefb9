# Sourced by the scripts: the configuration they share with `make run`, from the environment (README).
export IMGCACHE_DATA="${IMGCACHE_DATA:-data}"
export IMGCACHE_DB="${IMGCACHE_DB:-sqlite:${IMGCACHE_DATA}/imgcache.db}"
export IMGCACHE_MEMCACHE_ADDR="${IMGCACHE_MEMCACHE_ADDR:-127.0.0.1:5001}"
export IMGCACHE_MEMCACHE_URL="${IMGCACHE_MEMCACHE_URL:-http://${IMGCACHE_MEMCACHE_ADDR}}"
export IMGCACHE_ADDR="${IMGCACHE_ADDR:-127.0.0.1:5000}"
mkdir -p "$IMGCACHE_DATA"

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
