# Sourced by the scripts: the configuration they share with `make run`, from the environment (README).
export IMGCACHE_DATA="${IMGCACHE_DATA:-data}"
export IMGCACHE_DB="${IMGCACHE_DB:-sqlite:${IMGCACHE_DATA}/imgcache.db}"
export IMGCACHE_MEMCACHE_ADDR="${IMGCACHE_MEMCACHE_ADDR:-127.0.0.1:5001}"
export IMGCACHE_MEMCACHE_URL="${IMGCACHE_MEMCACHE_URL:-http://${IMGCACHE_MEMCACHE_ADDR}}"
export IMGCACHE_ADDR="${IMGCACHE_ADDR:-127.0.0.1:5000}"
mkdir -p "$IMGCACHE_DATA"

. scripts/lib.sh
