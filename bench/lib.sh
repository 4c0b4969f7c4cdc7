# shellcheck shell=bash
# Helpers shared by the bench scripts: start dncgate on a throwaway data folder
# with a config that trusts the loopback client network (smtp-source cannot
# authenticate) and forwards to an SMTP sink.

# dncgate_config RUNDIR PORT SINK_PORT [REDIS_URL]: write RUNDIR/dncgate.toml.
# FOOTER=off turns the footer (and the unsubscribe headers) off; otherwise
# every copy gets them, with the company details below. Several instances on
# one Redis share DNCGATE_PREFIX, DNCGATE_HMAC (fresh ones otherwise) and
# the unsubscribe keys DNCGATE_UNSUB_KEYS (each its own otherwise);
# BEHIND_LB=1 makes the listener expect PROXY headers from 127.0.0.1. LEDGER=off
# runs the relay without its send ledger ([ledger] bench_only): for the
# on/off pair of the bench alone.
dncgate_config() {
  local rundir=$1 port=$2 sink=$3 redis=${4:-}
  mkdir -p "$rundir/data"
  {
    printf '[server]\nhostname = "bench.localhost"\ndata_dir = "%s/data"\n' "$rundir"
    if [ "${BEHIND_LB:-0}" = 1 ]; then printf 'trusted_proxies = ["127.0.0.1"]\n'; fi
    printf '\n[[listener]]\nname = "bench"\naddress = "127.0.0.1:%s"\ntls = "none"\n' "$port"
    if [ "${BEHIND_LB:-0}" = 1 ]; then printf 'proxy_protocol = true\n'; fi
    printf '  [[listener.trusted]]\n  network = "127.0.0.0/8"\n  identity = "bench@example.com"\n\n'
    # keep as many upstream connections as the bench runs sessions
    printf '[upstream]\nurl = "smtp://127.0.0.1:%s"\nmax_idle_conns = 32\n\n' "$sink"
    printf '[limits]\nmax_conns_per_ip = 2000\n\n'
    printf '[log]\nlevel = "warn"\n'
    if [ "${FOOTER:-on}" = off ]; then
      printf '\n[footer]\nenabled = false\n'
    else
      printf '\n[footer]\ncompany = "Bench SAS"\npostal_address = "1 rue du Banc, Paris"\n'
      printf 'privacy_url = "https://bench.example/privacy"\nsource = "the bench"\n'
      printf 'purpose = "measuring"\nlegal_basis = "legitimate interest"\n'
      printf '\n[unsubscribe]\nbase_url = "https://u.bench.example"\nmailto_domain = "u.bench.example"\n'
      if [ -n "${DNCGATE_UNSUB_KEYS:-}" ]; then printf 'keys_file = "%s"\n' "$DNCGATE_UNSUB_KEYS"; fi
    fi
    if [ "${LEDGER:-on}" = off ]; then
      printf '\n[ledger]\nenabled = false\nbench_only = true\n'
    fi
    if [ -n "$redis" ]; then
      # a fresh key prefix per start, as the embedded store gets a fresh file
      printf '\n[store]\nbackend = "redis"\nredis_url = "%s"\nprefix = "%s"\n' "$redis" "${DNCGATE_PREFIX:-bench-$(date +%s%N):}"
      printf '\n[privacy]\nhmac_key = "%s"\n' "${DNCGATE_HMAC:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
    fi
  } > "$rundir/dncgate.toml"
}

# dncgate_user BIN RUNDIR: creates the store, then the identity the trusted
# network maps to
dncgate_user() {
  "$1" init --config "$2/dncgate.toml" >/dev/null
  head -c 24 /dev/urandom | base64 | "$1" users add bench@example.com --config "$2/dncgate.toml" \
    --role rep --send-as @example.com --password-stdin >/dev/null
}
