#!/usr/bin/env bash
# Import of a generated national phone list through `dncgate lists import`,
# the whole path (read, normalise to E.164, key, sort out duplicates, store),
# into the embedded store and into a Redis on loopback; prints rows/s for
# each and Redis memory per entry (INFO memory before and after).
#
#   bench/import.sh            # 10,000,000 rows
#   ROWS=1000000 bench/import.sh
set -euo pipefail

ROWS=${ROWS:-10000000}
cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
REDIS_PID=
cleanup() {
  [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

go build -o "$WORK/dncgate" ./cmd/dncgate
# Belgian mobile numbers written the way national files do, some repeated.
awk -v n="$ROWS" 'BEGIN { srand(7); for (i = 0; i < n; i++)
  printf "04%02d %02d %02d %02d\n", 70 + int(rand() * 30), int(rand() * 100), int(rand() * 100), int(rand() * 100) }' \
  > "$WORK/be.csv"

# seconds CMD...: run CMD, print its wall time in seconds.
seconds() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

import() { # import CONFIG
  "$WORK/dncgate" lists import be-dncm "$WORK/be.csv" --config "$1" \
    --kind phone --model deny --country BE --max-age 5d --by bench
}

printf '[server]\ndata_dir = "%s/data"\n' "$WORK" > "$WORK/embedded.toml"
"$WORK/dncgate" init --config "$WORK/embedded.toml" >/dev/null
t_emb=$(seconds import "$WORK/embedded.toml")
entries=$(awk '/^entries:/ { print $2 }' "$WORK/out")

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
REDIS_PID=$!
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done
printf '[store]\nbackend = "redis"\nredis_url = "redis://127.0.0.1:%s/0"\n[privacy]\nhmac_key = "%s"\n' \
  "$port" "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$WORK/redis.toml"
mem() { redis-cli -p "$port" info memory | awk -F: '/^used_memory:/ { print $2+0 }'; }
"$WORK/dncgate" init --config "$WORK/redis.toml" >/dev/null
before=$(mem)
t_redis=$(seconds import "$WORK/redis.toml")
after=$(mem)

printf 'rows: %d, distinct entries: %d\n' "$ROWS" "$entries"
printf '%-10s %10s %12s\n' store seconds rows/s
printf '%-10s %10.1f %12.0f\n' embedded "$t_emb" "$(echo "$ROWS / $t_emb" | bc -l)"
printf '%-10s %10.1f %12.0f\n' redis "$t_redis" "$(echo "$ROWS / $t_redis" | bc -l)"
printf 'redis memory per entry: %.2f B\n' "$(echo "($after - $before) / $entries" | bc -l)"
