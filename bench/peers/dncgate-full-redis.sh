#!/usr/bin/env bash
# dncgate with every check on, on a redis-server of its own (see dncgate.sh).
DNCGATE_PROFILE=full DNCGATE_REDIS=start exec "$(dirname "$0")/dncgate.sh" "$@"
