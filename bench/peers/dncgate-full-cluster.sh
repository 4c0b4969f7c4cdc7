#!/usr/bin/env bash
# dncgate with every check on, on a 3-master Redis Cluster of its own (see dncgate.sh).
DNCGATE_PROFILE=full DNCGATE_REDIS=cluster exec "$(dirname "$0")/dncgate.sh" "$@"
