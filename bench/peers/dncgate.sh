#!/usr/bin/env bash
# dncgate as a peer of the side-by-side relay bench.
# Usage: dncgate.sh start|stop RUNDIR  (env RELAY_PORT, SINK_PORT; DNCGATE_BIN
# overrides the binary; DNCGATE_REDIS=redis://… runs it on Redis instead of the
# embedded store).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$HERE/../lib.sh"
cmd=$1; RUNDIR=$2
BIN=${DNCGATE_BIN:-$ROOT/bin/dncgate}
case $cmd in
start)
  [ -x "$BIN" ] || make -C "$ROOT" build >/dev/null
  dncgate_config "$RUNDIR" "$RELAY_PORT" "$SINK_PORT" "${DNCGATE_REDIS:-}"
  dncgate_user "$BIN" "$RUNDIR"
  "$BIN" serve --config "$RUNDIR/dncgate.toml" >"$RUNDIR/dncgate.log" 2>&1 &
  echo $! > "$RUNDIR/pids"
  for _ in $(seq 100); do
    ss -Hltn "sport = :$RELAY_PORT" | grep -q LISTEN && exit 0
    sleep 0.1
  done
  echo "dncgate did not listen on $RELAY_PORT" >&2; cat "$RUNDIR/dncgate.log" >&2; exit 1
  ;;
stop)
  [ -f "$RUNDIR/pids" ] || exit 0
  pid=$(cat "$RUNDIR/pids")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$RUNDIR/pids"
  ;;
esac
