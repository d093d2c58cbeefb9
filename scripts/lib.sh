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
