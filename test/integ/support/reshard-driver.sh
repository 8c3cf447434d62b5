#!/bin/sh
# The resharding library (src/agent/lib/cluster-slots.sh) run as the node agent runs it, for
# test/integ/cluster-reshard.test.ts: sources lib/common.sh, the library and a fleet.env, defines
# cluster_cli as the agent does (the admin user, its password in REDISCLI_AUTH), then runs one entry
# point.
#
# usage: reshard-driver.sh <fleet.env> <entry point> [arguments...]
# environment:
#   RESHARD_CLI                  redis-cli or valkey-cli
#   RESHARD_ADMIN_PASSWORD_FILE  the admin password
#   RESHARD_TRACE                a file: every call, its node, arguments and stdin lines (the
#                                MIGRATE password replaced by ***), appended
#   RESHARD_KILL_AFTER           an extended regular expression; with RESHARD_KILL_COUNT=n, the whole
#                                driver (its process group) is SIGKILLed right after the n-th call
#                                whose text matches: a driver that dies between two commands
# shellcheck source-path=SCRIPTDIR
set -u
here=$(dirname "$0")
lib=$here/../../../src/agent/lib
# shellcheck source=../../../src/agent/lib/common.sh
. "$lib/common.sh"
# shellcheck source=../../../src/agent/lib/cluster-slots.sh
. "$lib/cluster-slots.sh"
# shellcheck disable=SC1090
. "$1"
shift
prog=reshard-driver
ADMIN_PASSWORD=$(cat "$RESHARD_ADMIN_PASSWORD_FILE") || exit 1
call_dir=$(mktemp -d "${TMPDIR:-/tmp}/reshard-driver.XXXXXX") || exit 1
trap 'rm -rf "$call_dir"' EXIT

cluster_cli() ( # <host> <port> [cli options] [command...]
  cc_host=$1
  cc_port=$2
  shift 2
  REDISCLI_AUTH=$ADMIN_PASSWORD
  export REDISCLI_AUTH
  cc_command=
  for cc_arg in "$@"; do
    case $cc_arg in -*) ;; *) cc_command=1 ;; esac
  done
  cc_in=$call_dir/in.$$
  if [ -n "$cc_command" ]; then : >"$cc_in"; else cat >"$cc_in"; fi
  {
    printf '%s:%s %s\n' "$cc_host" "$cc_port" "$*"
    sed -e 's/^/  /' -e 's/\(AUTH2 "[^"]*"\) "\([^"\\]\|\\.\)*"/\1 "***"/' "$cc_in"
  } >"$call_dir/call.$$"
  timeout 60 "$RESHARD_CLI" --no-auth-warning --user "$CF_ADMIN_USER" -h "$cc_host" -p "$cc_port" "$@" <"$cc_in"
  cc_status=$?
  if [ -n "${RESHARD_TRACE:-}" ]; then cat "$call_dir/call.$$" >>"$RESHARD_TRACE"; fi
  if [ -n "${RESHARD_KILL_AFTER:-}" ] && grep -Eq -- "$RESHARD_KILL_AFTER" "$call_dir/call.$$"; then
    # One counter per driver run (the directory is this run's), kept across the subshells.
    printf 'x\n' >>"$call_dir/matches"
    if [ "$(wc -l <"$call_dir/matches")" -ge "${RESHARD_KILL_COUNT:-1}" ]; then kill -s KILL 0; fi
  fi
  rm -f "$cc_in" "$call_dir/call.$$"
  exit "$cc_status"
)

"$@"
