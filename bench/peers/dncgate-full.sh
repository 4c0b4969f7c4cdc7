#!/usr/bin/env bash
# dncgate with every check on, on the embedded store (see dncgate.sh).
DNCGATE_PROFILE=full exec "$(dirname "$0")/dncgate.sh" "$@"
