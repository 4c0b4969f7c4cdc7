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
# DNCGATE_PROFILE=full adds the [[lists]] and [[caps]] of full_config
# (CAPS=off leaves the caps out); the lists are filled by full_import.
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
    # smtplat sends the same message every time: with the default 72h the
    # delivered markers would make every timed transaction after the first
    # an "already delivered" that never reaches the sink. The markers are
    # still read and written for every message.
    printf '[limits]\nmax_conns_per_ip = 2000\nremember_delivered = "1ms"\n\n'
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
    elif [ -n "${COMMIT_DELAY:-}" ]; then
      printf '\n[ledger]\ncommit_delay = "%s"\n' "$COMMIT_DELAY"
    fi
    if [ -n "$redis" ]; then
      # a fresh key prefix per start, as the embedded store gets a fresh file
      case $redis in
      cluster:*) # cluster:HOST:PORT,HOST:PORT,...
        printf '\n[store]\nbackend = "redis"\nredis_cluster = ["%s"]\nprefix = "%s"\n' \
          "$(echo "${redis#cluster:}" | sed 's/,/", "/g')" "${DNCGATE_PREFIX:-bench-$(date +%s%N):}" ;;
      *)
        printf '\n[store]\nbackend = "redis"\nredis_url = "%s"\nprefix = "%s"\n' "$redis" "${DNCGATE_PREFIX:-bench-$(date +%s%N):}" ;;
      esac
      printf '\n[privacy]\nhmac_key = "%s"\n' "${DNCGATE_HMAC:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
    fi
    if [ -n "${PPROF_PORT:-}" ]; then
      # profiles of the run: curl -H "Authorization: Bearer $(cat RUNDIR/pprof.token)"
      #   http://127.0.0.1:PPROF_PORT/debug/pprof/profile?seconds=10
      head -c 24 /dev/urandom | base64 > "$rundir/pprof.token"
      printf '\n[web]\nlisten = "127.0.0.1:%s"\npprof = true\npprof_token_file = "%s/pprof.token"\n' "$PPROF_PORT" "$rundir"
    fi
    if [ "${DNCGATE_PROFILE:-basic}" = full ]; then full_config; fi
  } > "$rundir/dncgate.toml"
}

# The "everything on" profile (DNCGATE_PROFILE=full): five lists that
# govern every bench recipient (the opt-out list, a company e-mail list, a
# national phone list reached through the CRM contacts, a domain list and a
# hashed list), CRM contacts, and three caps (recipient, recipient domain,
# rep) whose limits the bench never reaches, so every recipient reserves
# and commits a slot in each. FULL_ENTRIES (default 1,000,000) is the size
# of the phone list; the e-mail lists and the contacts get a fifth of it,
# the opt-outs a tenth, the domains a hundredth.
FULL_ENTRIES=${FULL_ENTRIES:-1000000}

full_config() {
  printf '\n[policy]\ndefault_country = "FR"\n'
  local l
  for l in "company-deny email all" "fr-dnc phone FR" "domain-deny domain all" "hashed-deny email-sha256 all"; do
    set -- $l
    printf '\n[[lists]]\nname = "%s"\nkind = "%s"\nmodel = "deny"\ncountries = ["%s"]\nmax_age = "30d"\nsource = "the bench"\n' "$1" "$2" "$3"
  done
  [ "${CAPS:-on}" = off ] && return
  printf '\n[[caps]]\nname = "recipient-30d"\nscope = "recipient"\nlimit = 100000000\nwindow = "720h"\n'
  printf '\n[[caps]]\nname = "domain-day"\nscope = "recipient-domain"\nlimit = 100000000\nwindow = "24h"\n'
  printf '\n[[caps]]\nname = "rep-day"\nscope = "rep"\nlimit = 100000000\nwindow = "24h"\ncount = "recipients"\n'
}

# full_files DIR: the generated list and contact files, made once per
# FULL_ENTRIES and kept in DIR. None of them holds a bench recipient
# (rcpt@example.net, 1rcpt@example.net, ...): every one is allowed, after
# every list was asked.
full_files() {
  local dir=$1 n=$FULL_ENTRIES
  [ -f "$dir/done" ] && return
  mkdir -p "$dir"
  awk -v n="$n" 'BEGIN { srand(11); for (i = 0; i < n; i++)
    printf "06 %02d %02d %02d %02d\n", 10 + int(rand() * 90), int(rand() * 100), int(rand() * 100), int(rand() * 100) }' > "$dir/fr-dnc.csv"
  awk -v n="$((n / 5))" 'BEGIN { for (i = 0; i < n; i++) printf "person%d@firm%d.example.org\n", i, i % 5000 }' > "$dir/company-deny.csv"
  awk -v n="$((n / 10))" 'BEGIN { for (i = 0; i < n; i++) printf "gone%d@firm%d.example.org\n", i, i % 5000 }' > "$dir/opt-out.csv"
  awk -v n="$((n / 100))" 'BEGIN { for (i = 0; i < n; i++) printf "deny%d.example.org\n", i }' > "$dir/domain-deny.csv"
  python3 -c 'import hashlib, sys
n = int(sys.argv[1])
print("\n".join(hashlib.sha256(("hashed%d@firm%d.example.org" % (i, i % 5000)).encode()).hexdigest() for i in range(n)))' "$((n / 5))" > "$dir/hashed-deny.csv"
  # the contacts: the bench recipients with a French business phone that
  # no list holds (09 numbers), then the rest of the CRM
  { echo "email,phone,country,type"
    for i in "" 1 2 3 4 5 6 7 8 9 10; do printf '%srcpt@example.net,+33 9 70 00 00 %02d,FR,business\n' "$i" "${i:-0}"; done
    awk -v n="$((n / 5))" 'BEGIN { srand(13); for (i = 0; i < n; i++)
      printf "contact%d@firm%d.example.org,07 %02d %02d %02d %02d,FR,business\n", i, i % 5000, 10 + int(rand() * 90), int(rand() * 100), int(rand() * 100), int(rand() * 100) }'
  } > "$dir/contacts.csv"
  touch "$dir/done"
}

# full_import BIN CONFIG DIR: fills the lists and contacts of the full
# profile from DIR.
full_import() {
  local bin=$1 cfg=$2 dir=$3 l
  for l in opt-out company-deny fr-dnc domain-deny hashed-deny; do
    "$bin" lists import "$l" "$dir/$l.csv" --config "$cfg" --force --by bench >/dev/null
  done
  "$bin" contacts import "$dir/contacts.csv" --config "$cfg" --by bench >/dev/null
}

# full_warm PORT DATA_DIR: one recipient checked at RCPT (the session ends
# there, so nothing reaches the sink), as a running gateway would have
# checked many; on the embedded store, waits until the gateway has built
# the five lists' index files, which a lookup starts (until then lookups
# go through SQL, which is not the state a gateway runs in).
full_warm() {
  swaks --server 127.0.0.1:"$1" --from bench@example.com --to rcpt@example.net \
    --quit-after RCPT >/dev/null 2>&1 || { echo "the warm-up RCPT failed" >&2; return 1; }
  [ -n "${2:-}" ] || return 0
  local dir=$2/dncgate.db-lists
  for _ in $(seq 600); do
    [ "$(find "$dir" -name '*.idx' 2>/dev/null | wc -l)" -ge 5 ] && return 0
    sleep 0.1
  done
  echo "the list index files were not built in $dir" >&2; return 1
}

# dncgate_user BIN RUNDIR: creates the store, then the identity the trusted
# network maps to
dncgate_user() {
  "$1" init --config "$2/dncgate.toml" >/dev/null
  head -c 24 /dev/urandom | base64 | "$1" users add bench@example.com --config "$2/dncgate.toml" \
    --role rep --send-as @example.com --password-stdin >/dev/null
}
