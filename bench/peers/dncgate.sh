#!/usr/bin/env bash
# dncgate as a peer of the side-by-side relay bench.
# Usage: dncgate.sh start|stop RUNDIR  (env RELAY_PORT, SINK_PORT; DNCGATE_BIN
# overrides the binary; DNCGATE_REDIS=redis://… runs it on that Redis instead
# of the embedded store, DNCGATE_REDIS=start on a redis-server of its own on
# REDIS_PORT (default 6390); DNCGATE_PROFILE=full turns every check on: see
# full_config in ../lib.sh, with CAPS=off and FOOTER=off for the pairs).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$HERE/../lib.sh"
cmd=$1; RUNDIR=$2
BIN=${DNCGATE_BIN:-$ROOT/bin/dncgate}
FULL_DIR=${FULL_DIR:-${TMPDIR:-/tmp}/dncgate-bench-full-$FULL_ENTRIES}

wait_port() { # wait_port PORT: until something listens on it (10 s)
  for _ in $(seq 100); do
    ss -Hltn "sport = :$1" | grep -q LISTEN && return 0
    sleep 0.1
  done
  return 1
}

case $cmd in
start)
  [ -x "$BIN" ] || make -C "$ROOT" build >/dev/null
  : > "$RUNDIR/pids"
  redis=${DNCGATE_REDIS:-}
  if [ "$redis" = start ]; then
    port=${REDIS_PORT:-6390}
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
      --dir "$RUNDIR" >"$RUNDIR/redis.log" 2>&1 &
    echo $! >> "$RUNDIR/pids"
    wait_port "$port" || { echo "redis-server did not listen on $port" >&2; exit 1; }
    redis=redis://127.0.0.1:$port/0
  fi
  dncgate_config "$RUNDIR" "$RELAY_PORT" "$SINK_PORT" "$redis"
  dncgate_user "$BIN" "$RUNDIR"
  if [ "${DNCGATE_PROFILE:-basic}" = full ]; then
    full_files "$FULL_DIR"
    full_import "$BIN" "$RUNDIR/dncgate.toml" "$FULL_DIR"
  fi
  "$BIN" serve --config "$RUNDIR/dncgate.toml" >"$RUNDIR/dncgate.log" 2>&1 &
  echo $! >> "$RUNDIR/pids"
  if ! wait_port "$RELAY_PORT"; then
    echo "dncgate did not listen on $RELAY_PORT" >&2; cat "$RUNDIR/dncgate.log" >&2; exit 1
  fi
  if [ "${DNCGATE_PROFILE:-basic}" = full ]; then
    if [ -z "$redis" ]; then full_warm "$RELAY_PORT" "$RUNDIR/data"; else full_warm "$RELAY_PORT"; fi
  fi
  ;;
stop)
  [ -f "$RUNDIR/pids" ] || exit 0
  # dncgate first (the last line), then its redis-server
  for pid in $(tac "$RUNDIR/pids"); do
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -f "$RUNDIR/pids"
  ;;
esac
