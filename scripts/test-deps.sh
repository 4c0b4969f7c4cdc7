#!/usr/bin/env bash
# Installs the programs the test suite runs, only those that are missing:
# redis-server and redis-cli (the Redis store and end-to-end tests), swaks
# (end-to-end tests) with Perl's TLS modules, chromium (the unsubscribe page's
# browser test), a C compiler (go test -race needs cgo), PostgreSQL (the
# ledger's tests start their own server from its binaries) and
# systemd-analyze (the unit file's check; it runs without systemd as PID 1)
# python3 (a client sending with smtplib), haproxy (the load balancer in
# front of several instances) and Postfix's smtp-sink (an upstream that
# announces PIPELINING).
# Quiet when everything is there; safe to run again.
set -euo pipefail

# command -> Debian packages that provide it
declare -A provider=(
  [redis-server]="redis-server"
  [redis-cli]="redis-tools"
  [swaks]="swaks"
  [cc]="gcc libc6-dev"
  [chromium]="chromium"
  [postgres]="postgresql"
  [systemd-analyze]="systemd"
  [python3]="python3"
  [haproxy]="haproxy"
  [smtp-sink]="postfix"
)

# has CMD: on PATH, or for postgres in Debian's versioned folder, which the
# package does not put on PATH.
has() {
  command -v "$1" >/dev/null 2>&1 && return 0
  [ "$1" = postgres ] && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

missing=()
for cmd in redis-server redis-cli swaks cc chromium postgres systemd-analyze python3 haproxy smtp-sink; do
  if ! has "$cmd"; then
    read -r -a pkgs <<<"${provider[$cmd]}"
    missing+=("${pkgs[@]}")
  fi
done
# swaks speaks TLS (the STARTTLS and implicit TLS tests) only with these Perl
# modules, which it merely recommends.
if ! perl -MNet::SSLeay -MIO::Socket::SSL -e 1 >/dev/null 2>&1; then
  missing+=(libnet-ssleay-perl libio-socket-ssl-perl)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

install_hint() {
  echo "test-deps: missing test programs; install them with:" >&2
  echo "  apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || install_hint
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  # Without a terminal (CI), fail at once rather than wait for a password.
  if [ -t 0 ]; then as_root=(sudo); else as_root=(sudo -n); fi
else
  install_hint
fi

echo "test-deps: installing ${missing[*]}" >&2
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
