#!/usr/bin/env bash
# Every figure of the scaling issue in one go: the side-by-side run of
# run-peers.sh (the smtp-source → smtp-sink ceiling, Postfix, and dncgate
# with every check and the footer on the embedded store, on one Redis and
# on a 3-master Redis Cluster, interleaved A B C A B C), then the scale
# curve (1, 2 and 3 instances behind HAProxy on one Redis, bench/run.sh
# SCALE=1), each printing msg/s and ratios.
#
#   SIDE_BY_SIDE=/path/to/run-peers.sh bench/all.sh
#
# SIDE_BY_SIDE names the side-by-side bench's script (it brings the
# Postfix peer and the smtp-source/smtp-sink tools); the dncgate peers
# come from bench/peers. Knobs pass through: MSGS, SESSIONS, SIZE, REPS,
# WORKLOADS (default "r1 r5"), LAT_N.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${SIDE_BY_SIDE:?set SIDE_BY_SIDE to the run-peers.sh of the side-by-side bench, which brings the Postfix peer}"
[ -x "$SIDE_BY_SIDE" ] || [ -f "$SIDE_BY_SIDE" ] || { echo "bench/all.sh: $SIDE_BY_SIDE: no such script" >&2; exit 2; }
make -C "$ROOT" build >/dev/null
echo "== side by side: ceiling, Postfix, dncgate (everything on) on the embedded store, one Redis, a Redis Cluster"
PEER_DIRS="$ROOT/bench/peers${PEER_DIRS:+ $PEER_DIRS}" \
  PEERS="sink postfix dncgate-full dncgate-full-redis dncgate-full-cluster" \
  FANOUT_PEERS="dncgate-full dncgate-full-redis dncgate-full-cluster" \
  WORKLOADS=${WORKLOADS:-"r1 r5"} \
  bash "$SIDE_BY_SIDE"
echo "== the scale curve: 1, 2, 3 instances behind HAProxy on one Redis"
SCALE=1 "$ROOT/bench/run.sh"
