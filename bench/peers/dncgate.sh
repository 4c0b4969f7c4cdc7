#!/usr/bin/env bash
# dncgate as a peer of the side-by-side relay bench.
# Usage: dncgate.sh start|stop RUNDIR  (env RELAY_PORT, SINK_PORT; DNCGATE_BIN
# overrides the binary; DNCGATE_REDIS=redis://… runs it on that Redis instead
# of the embedded store, DNCGATE_REDIS=start on a redis-server of its own on
# REDIS_PORT (default 6390), DNCGATE_REDIS=cluster on a 3-master Redis
# Cluster of its own on REDIS_PORT..+2; DNCGATE_PROFILE=full turns every check on: see
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
  elif [ "$redis" = cluster ]; then
    # three masters on REDIS_PORT, +1, +2, no replicas: the slots split
    # three ways, as on a real cluster
    port=${REDIS_PORT:-6390} nodes=""
    for p in "$port" $((port + 1)) $((port + 2)); do
      mkdir -p "$RUNDIR/redis-$p"
      redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly no --cluster-enabled yes \
        --cluster-config-file "$RUNDIR/redis-$p/nodes.conf" --dir "$RUNDIR/redis-$p" >"$RUNDIR/redis-$p.log" 2>&1 &
      echo $! >> "$RUNDIR/pids"
      wait_port "$p" || { echo "redis-server did not listen on $p" >&2; exit 1; }
      nodes="$nodes 127.0.0.1:$p"
    done
    # shellcheck disable=SC2086
    redis-cli --cluster create $nodes --cluster-yes >"$RUNDIR/cluster-create.log" 2>&1
    # every node must see the cluster whole before the gateway starts
    for _ in $(seq 300); do
      ok=0
      for p in "$port" $((port + 1)) $((port + 2)); do
        redis-cli -p "$p" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && ok=$((ok + 1))
      done
      [ "$ok" = 3 ] && break
      sleep 0.1
    done
    [ "$ok" = 3 ] || { echo "the Redis Cluster on $port..$((port + 2)) did not come up" >&2; cat "$RUNDIR/cluster-create.log" >&2; exit 1; }
    redis=cluster:$(echo $nodes | tr ' ' ',')
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
