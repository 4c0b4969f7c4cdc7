#!/usr/bin/env bash
# INSTANCES dncgate instances on one Redis behind haproxy, as a peer of the
# relay bench: haproxy listens on RELAY_PORT (TCP mode, round robin, PROXY v2
# to each instance) and the instances on RELAY_PORT+1..RELAY_PORT+INSTANCES,
# all forwarding to SINK_PORT.
# Usage: fleet.sh start|stop RUNDIR  (env INSTANCES=1, RELAY_PORT, SINK_PORT,
# DNCGATE_REDIS=redis://… required; DNCGATE_BIN overrides the binary).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$HERE/../lib.sh"
cmd=$1; RUNDIR=$2
BIN=${DNCGATE_BIN:-$ROOT/bin/dncgate}
N=${INSTANCES:-1}

listening() { ss -Hltn "sport = :$1" | grep -q LISTEN; }

# haproxy_config: the configuration README "Running several instances" shows,
# with the bench's ports.
haproxy_config() {
  cat <<EOF
global
    maxconn 4000

defaults
    mode tcp
    option redispatch
    retries 2
    timeout connect 5s
    timeout client 5m
    timeout server 5m
    timeout check 2s

frontend smtp
    bind 127.0.0.1:$RELAY_PORT
    default_backend dncgate

backend dncgate
    balance roundrobin
    option smtpchk EHLO lb.bench
EOF
  for i in $(seq "$N"); do
    echo "    server gw$i 127.0.0.1:$((RELAY_PORT + i)) send-proxy-v2 check check-send-proxy inter 1s fall 2 rise 1"
  done
}

case $cmd in
start)
  [ -n "${DNCGATE_REDIS:-}" ] || { echo "fleet.sh: set DNCGATE_REDIS=redis://…" >&2; exit 2; }
  command -v haproxy >/dev/null || { echo "fleet.sh: install haproxy (apt-get install -y haproxy)" >&2; exit 1; }
  [ -x "$BIN" ] || make -C "$ROOT" build >/dev/null
  # One store for all: one key prefix, one digest key, one unsubscribe key file.
  export BEHIND_LB=1 DNCGATE_PREFIX="bench-$(date +%s%N):" DNCGATE_UNSUB_KEYS=$RUNDIR/unsubscribe.keys
  DNCGATE_HMAC=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'); export DNCGATE_HMAC
  : >"$RUNDIR/pids"
  for i in $(seq "$N"); do
    dncgate_config "$RUNDIR/gw$i" "$((RELAY_PORT + i))" "$SINK_PORT" "$DNCGATE_REDIS"
    if [ "$i" = 1 ]; then dncgate_user "$BIN" "$RUNDIR/gw1"; fi
    "$BIN" serve --config "$RUNDIR/gw$i/dncgate.toml" >"$RUNDIR/gw$i.log" 2>&1 &
    echo $! >>"$RUNDIR/pids"
  done
  haproxy_config >"$RUNDIR/haproxy.cfg"
  for i in $(seq "$N"); do
    for _ in $(seq 100); do listening $((RELAY_PORT + i)) && break; sleep 0.1; done
    listening $((RELAY_PORT + i)) || { echo "dncgate $i did not listen" >&2; cat "$RUNDIR/gw$i.log" >&2; exit 1; }
  done
  haproxy -db -f "$RUNDIR/haproxy.cfg" >"$RUNDIR/haproxy.log" 2>&1 &
  echo $! >>"$RUNDIR/pids"
  for _ in $(seq 100); do listening "$RELAY_PORT" && exit 0; sleep 0.1; done
  echo "haproxy did not listen on $RELAY_PORT" >&2; cat "$RUNDIR/haproxy.log" >&2; exit 1
  ;;
stop)
  [ -f "$RUNDIR/pids" ] || exit 0
  pids=$(cat "$RUNDIR/pids")
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  for pid in $pids; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -f "$RUNDIR/pids"
  ;;
esac
