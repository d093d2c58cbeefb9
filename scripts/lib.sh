# Sourced by the scripts: the helpers they share to wait for a service and to refuse a taken port.

# answers HOST:PORT: true once something accepts connections there (bash only, no curl needed).
answers() { local hp="${1#*://}"; hp="${hp%%/*}"; local h="${hp%:*}"; (exec 3<>"/dev/tcp/${h:-127.0.0.1}/${hp##*:}") 2>/dev/null; }

# wait_up NAME PID ADDR: waits until ADDR answers, failing if the process died first or after 10 s.
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

# need_pkg CMD PACKAGE: makes sure CMD is on PATH, installing Debian's PACKAGE when it is missing and
# this is root with apt-get (as on our machines); otherwise a clear refusal.
need_pkg() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing $2 (Debian package) for $1" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 ||
      { DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }
  fi
  command -v "$1" >/dev/null 2>&1 || { echo "$1 is needed: install Debian's $2 package" >&2; return 1; }
}
