#!/usr/bin/env bash
# End-to-end relay throughput and latency: Postfix's smtp-source sends MSGS
# messages of SIZE bytes, one recipient each, over SESSIONS parallel sessions,
# (a) straight into smtp-sink (the ceiling) and (b) through dncgate into
# smtp-sink, interleaved REPS times. Then one transaction at a time is timed
# (LAT_N transactions) for both. Prints medians and the dncgate/ceiling ratio.
#
# Knobs: MSGS=10000 SESSIONS=20 SIZE=4096 REPS=3 LAT_N=2000 SINK_PORT=2600
#        RELAY_PORT=2530 DNCGATE_REDIS=redis://127.0.0.1:6379 (Redis store)
#        FOOTER=on|off|both: dncgate with the footer and unsubscribe headers
#        (default), without, or both interleaved in one run, with the ratio.
#        LEDGER=on|off|both: dncgate with its send ledger (the embedded one
#        here; the default), without ([ledger] bench_only), or both
#        interleaved, with the ratio, and the disk's flush timed beside
#        them (bench/fsynclat). One of FOOTER and LEDGER may be both.
#        SCALE=1: instead, the scale curve: haproxy in front of 1, 2 and 3
#        dncgate instances on one Redis (bench/peers/fleet.sh; a throwaway
#        redis-server on REDIS_PORT=6391 unless DNCGATE_REDIS is set),
#        interleaved with the ceiling, with each one's ratio to 1 instance.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
MSGS=${MSGS:-10000} SESSIONS=${SESSIONS:-20} SIZE=${SIZE:-4096} REPS=${REPS:-3}
LAT_N=${LAT_N:-2000} SINK_PORT=${SINK_PORT:-2600} RELAY_PORT=${RELAY_PORT:-2530}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dncgate-bench.XXXXXX")
SINKPID="" PEERDIR="" PEERSCRIPT="" REDISPID=""

need_postfix_tools() {
  command -v smtp-source >/dev/null && command -v smtp-sink >/dev/null && return
  [ "$(id -u)" = 0 ] || { echo "install Debian's postfix package (smtp-source, smtp-sink)" >&2; exit 1; }
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix >/dev/null
}

cleanup() {
  [ -n "$SINKPID" ] && kill "$SINKPID" 2>/dev/null || true
  [ -n "$PEERDIR" ] && "$PEERSCRIPT" stop "$PEERDIR" || true
  [ -n "$REDISPID" ] && kill "$REDISPID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

wait_port() { # wait_port PORT listening|free
  for _ in $(seq 150); do
    if ss -Hltn "sport = :$1" | grep -q LISTEN; then [ "$2" = listening ] && return 0
    else [ "$2" = free ] && return 0; fi
    sleep 0.1
  done
  echo "port $1 not $2" >&2; return 1
}

sink_start() { # sink_start MAXMSGS (0 = until stopped)
  local m=(); [ "$1" -gt 0 ] && m=(-M "$1")
  wait_port "$SINK_PORT" free
  smtp-sink -c -u root "${m[@]}" 127.0.0.1:"$SINK_PORT" 1024 >"$WORK/sink.out" 2>&1 &
  SINKPID=$!
  wait_port "$SINK_PORT" listening
}

sink_stop() { kill "$SINKPID" 2>/dev/null || true; wait "$SINKPID" 2>/dev/null || true; SINKPID=""; }

# run PEER REP: one throughput run and one latency run; appends to results.csv
run() {
  local peer=$1 rep=$2 port=$SINK_PORT t0 t1 got footer=on ledger=on instances
  [ "$peer" != sink ] && port=$RELAY_PORT
  [ "$peer" = dncgate-nofooter ] && footer=off
  [ "$peer" = dncgate-noledger ] && ledger=off
  sink_start "$MSGS"
  if [ "$peer" != sink ]; then
    PEERDIR=$WORK/peer; rm -rf "$PEERDIR"; mkdir -p "$PEERDIR"
    PEERSCRIPT=$ROOT/bench/peers/dncgate.sh instances=1
    case $peer in fleet-*) PEERSCRIPT=$ROOT/bench/peers/fleet.sh instances=${peer#fleet-} ;; esac
    FOOTER=$footer LEDGER=$ledger RELAY_PORT=$RELAY_PORT SINK_PORT=$SINK_PORT DNCGATE_BIN=$ROOT/bin/dncgate \
      INSTANCES=$instances "$PEERSCRIPT" start "$PEERDIR"
  fi
  t0=$(date +%s.%N)
  smtp-source -m "$MSGS" -s "$SESSIONS" -l "$SIZE" -f bench@example.com \
    -t rcpt@example.net 127.0.0.1:"$port" >"$WORK/source.out" 2>&1 &
  local src=$!
  ( sleep 300; kill "$SINKPID" 2>/dev/null ) & local dog=$!
  wait "$SINKPID" || true
  t1=$(date +%s.%N)
  kill "$dog" 2>/dev/null || true; wait "$dog" 2>/dev/null || true
  wait "$src" || true   # the sink may exit before its last reply
  got=$(tr '\r' '\n' <"$WORK/sink.out" | grep -o 'mesg=[0-9]*' | tail -1 | cut -d= -f2)
  SINKPID=""
  sink_start 0
  "$WORK/latency" -addr 127.0.0.1:"$port" -n "$LAT_N" -size "$SIZE" >"$WORK/lat.json"
  sink_stop
  if [ "$peer" != sink ]; then "$PEERSCRIPT" stop "$PEERDIR"; PEERDIR=""; fi
  # the ledger's pairs: what a flush of the disk costs now, beside them
  if [ "$peer" = dncgate-noledger ]; then
    "$WORK/fsynclat" -dir "$WORK" -n 300 | tr -d '{}"' | tr ',' '\n' | grep _ms | cut -d: -f2 | paste -sd, >>"$WORK/fsync.csv"
  fi
  local p50 p99
  p50=$(grep -o '"p50_ms":[0-9.]*' "$WORK/lat.json" | cut -d: -f2)
  p99=$(grep -o '"p99_ms":[0-9.]*' "$WORK/lat.json" | cut -d: -f2)
  echo "$peer,$rep,${got:-0},$(echo "$t1 - $t0" | bc -l),$p50,$p99" >>"$WORK/results.csv"
  printf '%-8s rep %d: %s/%s delivered in %.2fs; latency p50 %s ms p99 %s ms\n' \
    "$peer" "$rep" "${got:-0}" "$MSGS" "$(echo "$t1 - $t0" | bc -l)" "$p50" "$p99" >&2
}

need_postfix_tools
command -v bc >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bc >/dev/null
make -C "$ROOT" -s build
(cd "$ROOT" && go build -o "$WORK/latency" ./bench/latency && go build -o "$WORK/fsynclat" ./bench/fsynclat)
# redis_start: a throwaway redis-server for the scale curve, unless given one.
redis_start() {
  [ -n "${DNCGATE_REDIS:-}" ] && return
  local port=${REDIS_PORT:-6391}
  wait_port "$port" free
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" \
    --logfile "$WORK/redis.log" &
  REDISPID=$!
  wait_port "$port" listening
  export DNCGATE_REDIS=redis://127.0.0.1:$port/0
}

case ${FOOTER:-on},${LEDGER:-on} in
  on,on) PEERS="sink dncgate" ;;
  off,on) PEERS="sink dncgate-nofooter" ;;
  both,on) PEERS="sink dncgate-nofooter dncgate" ;;
  on,off) PEERS="sink dncgate-noledger" ;;
  on,both) PEERS="sink dncgate-noledger dncgate" ;;
  *) echo "FOOTER and LEDGER are on, off or both, and only one of them is not on" >&2; exit 2 ;;
esac
if [ "${SCALE:-0}" = 1 ]; then
  PEERS="sink fleet-1 fleet-2 fleet-3"
  command -v haproxy >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
  redis_start
fi
# Odd repetitions run the peers in order, even ones in reverse (ABBA):
# a machine that slows down or speeds up over the run then weighs on each
# peer alike instead of on the one that always comes last.
REVERSED=$(echo "$PEERS" | tr ' ' '\n' | tac | paste -sd' ')
for rep in $(seq "$REPS"); do
  order=$PEERS; [ $((rep % 2)) = 0 ] && order=$REVERSED
  for p in $order; do run "$p" "$rep"; done
done
echo
echo "MSGS=$MSGS SESSIONS=$SESSIONS SIZE=$SIZE REPS=$REPS LAT_N=$LAT_N store=${DNCGATE_REDIS:-embedded} FOOTER=${FOOTER:-on} LEDGER=${LEDGER:-on} SCALE=${SCALE:-0} ($(nproc) cores)"
awk -F, -v msgs="$MSGS" '
  function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                                  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  $3 == msgs { k = $1; n[k]++; r[k, n[k]] = msgs / $4; p5[k, n[k]] = $5; p9[k, n[k]] = $6; byrep[k, $2] = msgs / $4 }
  END {
    for (k in n) { for (i = 1; i <= n[k]; i++) { x[i] = r[k, i]; y[i] = p5[k, i]; z[i] = p9[k, i] }
                   R[k] = med(x, n[k]); P5[k] = med(y, n[k]); P9[k] = med(z, n[k]) }
    printf "| path | runs ok | msg/s | vs ceiling | p50 ms | p99 ms |\n|---|---|---|---|---|---|\n"
    name["sink"] = "ceiling (smtp-source -> smtp-sink)"; name["dncgate"] = "dncgate, footer and ledger on"
    name["dncgate-nofooter"] = "dncgate, footer off"; name["dncgate-noledger"] = "dncgate, ledger off"
    for (i = 1; i <= 3; i++) name["fleet-" i] = "haproxy -> " i " dncgate on one Redis"
    m = split(peers, order, " ")
    for (i = 1; i <= m; i++) { k = order[i]; if (!n[k]) { printf "| %s | 0 | - | - | - | - |\n", name[k]; continue }
      printf "| %s | %d | %.0f | %.2f | %.2f | %.2f |\n", name[k],
        n[k], R[k], (R["sink"] ? R[k] / R["sink"] : 0), P5[k], P9[k] }
    for (i = 2; i <= 3; i++) if (n["fleet-1"] && n["fleet-" i])
      printf "%s%d instances / 1 instance throughput: %.2f\n", (i == 2 ? "\n" : ""), i, R["fleet-" i] / R["fleet-1"]
    if (n["dncgate"] && n["dncgate-nofooter"])
      printf "\nfooter on / footer off throughput: %.2f (target 0.80)\n", R["dncgate"] / R["dncgate-nofooter"]
    if (n["dncgate"] && n["dncgate-noledger"])
      printf "\nledger on / ledger off throughput: %.2f (target 0.90)\n", R["dncgate"] / R["dncgate-noledger"]
    # the same ratio within each repetition, where the two ran minutes apart at most
    for (a = 1; a <= 2; a++) {
      on = (a == 1 ? "dncgate-nofooter" : "dncgate-noledger"); what = (a == 1 ? "footer" : "ledger")
      if (!n["dncgate"] || !n[on]) continue
      np = 0; line = ""
      for (i = 1; i <= reps; i++) if ((("dncgate", i) in byrep) && ((on, i) in byrep)) {
        pr[++np] = byrep["dncgate", i] / byrep[on, i]; line = line sprintf("%s%.2f", (np > 1 ? ", " : ""), pr[np]) }
      if (np) printf "%s on / off within each repetition: %s; median %.2f\n", what, line, med(pr, np)
    }
  }' peers="$PEERS" reps="$REPS" "$WORK/results.csv"
if [ -s "$WORK/fsync.csv" ]; then
  awk -F, '{ a[NR] = $1; b[NR] = $2; c[NR] = $3 }
    function med(x, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
                                    return n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2 }
    END { printf "disk flush (8 pages appended, fsync) in the same run, median of %d: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms\n", NR, med(a, NR), med(b, NR), med(c, NR) }' "$WORK/fsync.csv"
fi
