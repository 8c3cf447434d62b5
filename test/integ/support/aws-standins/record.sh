# shellcheck shell=bash
# Sourced by the stand-ins: every stand-in records its call as "<program> [<slot>] <args>".
log_call() { printf '%s [%s] %s\n' "$1" "${CACHEFLEET_SLOT:-boot}" "$2" >>"$STANDIN/calls.log"; }
