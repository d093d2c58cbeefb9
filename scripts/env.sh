# Sourced by the scripts: the configuration they share with `make run`, from the environment (README).
export IMGCACHE_DATA="${IMGCACHE_DATA:-data}"
export IMGCACHE_DB="${IMGCACHE_DB:-sqlite:${IMGCACHE_DATA}/imgcache.db}"
export IMGCACHE_MEMCACHE_ADDR="${IMGCACHE_MEMCACHE_ADDR:-127.0.0.1:5001}"
export IMGCACHE_MEMCACHE_URL="${IMGCACHE_MEMCACHE_URL:-http://${IMGCACHE_MEMCACHE_ADDR}}"
export IMGCACHE_ADDR="${IMGCACHE_ADDR:-127.0.0.1:5000}"
mkdir -p "$IMGCACHE_DATA"

# answers HOST:PORT: true once something accepts connections there (bash only, no curl needed).
answers() { local hp="${1#*://}"; hp="${hp%%/*}"; local h="${hp%:*}"; (exec 3<>"/dev/tcp/${h:-127.0.0.1}/${hp##*:}") 2>/dev/null; }

# wait_up NAME PID ADDR: waits until ADDR answers, failing if the process died first.
wait_up() {
  for _ in $(seq 1 100); do
    answers "$3" && return 0
    kill -0 "$2" 2>/dev/null || { echo "$1 did not start" >&2; return 1; }
    sleep 0.1
  done
  echo "$1 did not answer on $3 within 10 s" >&2
  return 1
}

# refuse_taken NAME ADDR: a clear refusal when the port is already in use.
refuse_taken() {
  if answers "$2"; then
    echo "$1: $2 is already in use (another imgcache? run scripts/shutdown.sh, or set the address)" >&2
    return 1
  fi
}
