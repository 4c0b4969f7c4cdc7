#!/usr/bin/env bash
# dncgate-full without its [[caps]]: the caps on/off pair (see dncgate.sh).
DNCGATE_PROFILE=full CAPS=off exec "$(dirname "$0")/dncgate.sh" "$@"
