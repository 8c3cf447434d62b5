#!/bin/bash
# cachefleet-boot (aws platform), run once per instance by the user data's fetch program: prepares
# the node with the agent, writes the systemd units that every later boot runs alone, starts the
# services, waits until they are ready and signals CloudFormation. A failure exits non-zero: the
# fetch program signals FAILURE and marks the instance Unhealthy.
set -euo pipefail
prog=cachefleet-boot
here=$(cd "$(dirname "$0")" && pwd)
bundle=$(dirname "$here")
# shellcheck source=SCRIPTDIR/../lib/common.sh
. "$bundle/lib/common.sh"
root=${CACHEFLEET_ROOT:-}
agent="$bundle/cachefleet-node"
export CACHEFLEET_PLATFORM=aws
export CACHEFLEET_CONFIG_DIR="$bundle/config"
export CACHEFLEET_STATE_DIR=${CACHEFLEET_STATE_DIR:-$root/var/lib/cachefleet}
export CACHEFLEET_RUN_DIR=${CACHEFLEET_RUN_DIR:-$root/run/cachefleet}
export CACHEFLEET_SYSTEMD_DIR=${CACHEFLEET_SYSTEMD_DIR:-$root/etc/systemd/system}
export CACHEFLEET_SYSCTL_DIR=${CACHEFLEET_SYSCTL_DIR:-$root/etc/sysctl.d}
: "${CACHEFLEET_SIGNAL_TIMEOUT:?the user data sets no CACHEFLEET_SIGNAL_TIMEOUT}"

# The deploy waits CACHEFLEET_SIGNAL_TIMEOUT seconds from the instance's launch (its uptime): the
# readiness wait ends a minute before, so that a FAILURE signal still finds the deploy listening.
# Until then a node that makes progress (a replica's full sync, loading a large dataset) is waited for.
uptime_seconds=$(cut -d. -f1 "${CACHEFLEET_PROC_DIR:-/proc}/uptime" 2>/dev/null || echo 0)
CACHEFLEET_READY_DEADLINE=$(($(date +%s) - ${uptime_seconds:-0} + CACHEFLEET_SIGNAL_TIMEOUT - 60))
export CACHEFLEET_READY_DEADLINE

token=$(imds_token)
AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-$(imds_get "$token" placement/region)}
export AWS_DEFAULT_REGION
CACHEFLEET_SLOT=$(imds_get "$token" tags/instance/cachefleet:slot)
CACHEFLEET_CFN_RESOURCE=$(imds_get "$token" tags/instance/cachefleet:cfn-resource)
export CACHEFLEET_SLOT CACHEFLEET_CFN_RESOURCE
prog_slot=$CACHEFLEET_SLOT

# shellcheck source=/dev/null
. "$CACHEFLEET_CONFIG_DIR/fleet.env"
# shellcheck source=/dev/null
. "$CACHEFLEET_CONFIG_DIR/slots/$CACHEFLEET_SLOT.env"
require_env "$CACHEFLEET_CONFIG_DIR/fleet.env" CF_ENGINE CF_PACKAGE
require_env "$CACHEFLEET_CONFIG_DIR/slots/$CACHEFLEET_SLOT.env" CF_SERVICES
if [ "$CF_ENGINE" != memcached ]; then
  CACHEFLEET_VOLUME_ID=$(imds_get "$token" tags/instance/cachefleet:volume-id)
  export CACHEFLEET_VOLUME_ID
fi

# An engine without an Amazon Linux package runs from its pinned image, through wrappers named like
# the package's binaries (install-engine writes them here).
if [ -z "$CF_PACKAGE" ]; then
  export CACHEFLEET_BIN_DIR=${CACHEFLEET_BIN_DIR:-$root/opt/cachefleet-bin}
fi
"$agent" install-engine
"$agent" prepare-kernel

# What the units run with: the paths and settings of this boot (production leaves most unset).
env_file="$bundle/agent.env"
{
  for name in CACHEFLEET_PLATFORM CACHEFLEET_SLOT CACHEFLEET_CONFIG_DIR CACHEFLEET_STATE_DIR CACHEFLEET_RUN_DIR \
    CACHEFLEET_BIN_DIR CACHEFLEET_CFN_STACK CACHEFLEET_CFN_RESOURCE CACHEFLEET_METADATA_URL AWS_DEFAULT_REGION AWS_ENDPOINT_URL \
    CACHEFLEET_VOLUME_ID CACHEFLEET_SYSTEMD_DIR CACHEFLEET_SYSCTL_DIR CACHEFLEET_PROC_DIR CACHEFLEET_SYS_DIR CACHEFLEET_DEV_DIR; do
    if [ -n "${!name:-}" ]; then printf '%s=%s\n' "$name" "${!name}"; fi
  done
} >"$env_file"

units=$("$here/units.sh")
systemctl daemon-reload
# Attaches the volume (formatting it only when blank) and mounts it through its unit, as every
# later boot does.
if [ "$CF_ENGINE" != memcached ]; then "$agent" prepare-storage; fi
"$agent" prepare-network

# shellcheck disable=SC2086 # a list of unit names
systemctl enable --now $units
for service in $CF_SERVICES; do
  "$agent" wait-ready "$service"
done
"$agent" signal success
log "ready: $CF_SERVICES"
