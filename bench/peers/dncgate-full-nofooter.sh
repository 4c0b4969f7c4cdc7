#!/usr/bin/env bash
# dncgate-full without the footer and unsubscribe headers: the footer
# on/off pair (see dncgate.sh).
DNCGATE_PROFILE=full FOOTER=off exec "$(dirname "$0")/dncgate.sh" "$@"
