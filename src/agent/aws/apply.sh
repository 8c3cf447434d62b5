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
: "${CACHEFLEET_SLOT:?$running/agent.env names no CACHEFLEET_SLOT}"
if [ ! -r "$new/config/slots/$CACHEFLEET_SLOT.env" ]; then
  # The new plan has no slot for this node: the deploy removes its group once every node that stays
  # runs the new bundle. The node keeps its bundle until then; the new plan goes beside it, where the
  # agent's leave and pre-stop read it. Leave hands over now (a primary its role, a cluster shard
  # that goes its hash slots), while a failure still fails the deploy and rolls it back.
  rm -rf "$running/config.next"
  mv "$new/config" "$running/config.next"
  # The running agent with its own bundle, as pre-stop will run them; an agent from before `leave`
  # existed leaves through the new one.
  agent="$running/cachefleet-node"
  if ! grep -q '^cmd_leave()' "$agent"; then agent="$new/cachefleet-node"; fi
  CACHEFLEET_CONFIG_DIR="$running/config" "$agent" leave || { rm -rf "$new"; exit 1; }
  rm -rf "$new"
  echo "$prog: slot $CACHEFLEET_SLOT is not in the new bundle: it handed over and leaves the group with this deploy" >&2
  exit 0
fi
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
# shellcheck source=/dev/null
if [ "$(. "$running/config/fleet.env" && echo "$CF_KIND")" = cluster ]; then
  # A changed shard count moves the hash slots now, under the running deploy: to new shards, and
  # off shards that go. The association applies one node at a time; the first node's run moves
  # them (one driver: the cluster's resharding lease), the others find the cluster balanced.
  CACHEFLEET_RESHARD_LEASE_WAIT=${CACHEFLEET_RESHARD_LEASE_WAIT:-600} "$running/cachefleet-node" reshard rebalance
fi
