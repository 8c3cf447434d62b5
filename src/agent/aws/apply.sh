#!/bin/bash
# cachefleet-apply <running bundle>: run from a new bundle's staging directory by
# `cachefleet-fetch apply`. With the node's settings from its boot, sends the new bundle's changed
# live parameters to the engine (the agent's apply-parameters), then puts the new bundle in the
# running one's place, where the services find it at their next start.
set -euo pipefail
prog=cachefleet-apply
here=$(cd "$(dirname "$0")" && pwd)
new=$(dirname "$here")
running=${1:?usage: apply.sh <running bundle directory>}
# One apply at a time on a node: each run has its own staging directory, but only one may swap.
# The check below comes after the lock: while another apply swaps, the running directory is briefly
# not there.
exec 9>>"$running.lock"
flock 9
[ -r "$running/agent.env" ] || { echo "$prog: $running/agent.env is missing: the node has not booted" >&2; exit 1; }
cp "$running/agent.env" "$new/agent.env"
set -a
# shellcheck source=/dev/null
. "$new/agent.env"
set +a
if [ -r "$running/config/live-parameters" ]; then
  # The engine reads the new configuration from the running bundle's path at its next start.
  CACHEFLEET_CONFIG_DIR="$new/config" "$new/cachefleet-node" apply-parameters "$running/config/live-parameters"
fi
# The old bundle leaves through a directory of this run's own, too.
retired=$(mktemp -d "$running.old.XXXXXX")
mv "$running" "$retired/bundle"
mv "$new" "$running"
rm -rf "$retired"
echo "$prog: the bundle is installed" >&2
