#!/bin/bash
# cachefleet-fetch: the user data's program, the same for every slot of a group. It fetches the
# bundle whose S3 location the group's SSM parameter holds and runs its aws/boot.sh (at boot), or
# its aws/apply.sh (`cachefleet-fetch apply`, run by the group's SSM association when the bundle
# changes).
#
# The user data sets, above a copy of lib/common.sh and this text: CACHEFLEET_BUNDLE_PARAMETER,
# CACHEFLEET_CFN_STACK, CACHEFLEET_SIGNAL_TIMEOUT (seconds the deploy waits for the boot's signal),
# and a comment with the hash of the configuration that only a restart applies (a change of it
# changes the user data, so the slots are replaced one at a time).
if ! declare -F retry >/dev/null; then
  # Run from the source tree: the helpers are beside it.
  # shellcheck source=SCRIPTDIR/../lib/common.sh
  . "$(dirname "$0")/../lib/common.sh"
fi
prog=cachefleet-fetch
mode=${1:-boot}

# A boot that fails, here or in boot.sh, ends the instance loudly: a deploy waiting for it gets
# FAILURE at once rather than at its timeout, and in every case the group replaces the instance
# (outside a deploy nothing else would: the instance would run on without a node). Set before
# anything that can fail; a failed `apply` only fails its SSM command.
boot_failed() {
  local status=$? token instance resource
  trap - EXIT
  if [ "$status" -eq 0 ] || [ "$mode" != boot ]; then exit "$status"; fi
  log "error: the boot failed (exit $status): signalling FAILURE and marking the instance Unhealthy"
  if token=$(imds_token) && instance=$(imds_get "$token" instance-id); then
    if [ -z "${AWS_DEFAULT_REGION:-}" ]; then
      AWS_DEFAULT_REGION=$(imds_get "$token" placement/region) && export AWS_DEFAULT_REGION
    fi
    if resource=$(imds_get "$token" tags/instance/cachefleet:cfn-resource); then
      # Refused when no deploy waits for this instance (nothing to tell then): one attempt.
      aws cloudformation signal-resource --stack-name "$CACHEFLEET_CFN_STACK" --logical-resource-id "$resource" \
        --unique-id "$instance" --status FAILURE >/dev/null 2>&1 || log "no deploy took the FAILURE signal (none waits for this instance)"
    fi
    retry "aws autoscaling set-instance-health" aws autoscaling set-instance-health --instance-id "$instance" \
      --health-status Unhealthy --no-should-respect-grace-period >/dev/null || log "error: cannot mark the instance Unhealthy"
  else
    log "error: no instance metadata: cannot signal the failure"
  fi
  exit "$status"
}
trap boot_failed EXIT
set -euo pipefail

: "${CACHEFLEET_BUNDLE_PARAMETER:?the user data sets no CACHEFLEET_BUNDLE_PARAMETER}" "${CACHEFLEET_CFN_STACK:?the user data sets no CACHEFLEET_CFN_STACK}"
root=${CACHEFLEET_ROOT:-}
token=$(imds_token)
AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-$(imds_get "$token" placement/region)}
export AWS_DEFAULT_REGION
location=$(retry "aws ssm get-parameter" aws ssm get-parameter --name "$CACHEFLEET_BUNDLE_PARAMETER" --query Parameter.Value --output text)
dir="$root/opt/cachefleet"
mkdir -p "$root/opt"
# A staging directory of this run's own, beside the target: two runs (a boot and an association, or
# two associations) never unpack into each other's files.
stage=$(mktemp -d "$dir.new.XXXXXX")
retry "aws s3 cp $location" aws s3 cp --only-show-errors "$location" "$stage/bundle.zip" >/dev/null
python3 -m zipfile -e "$stage/bundle.zip" "$stage"
rm -f "$stage/bundle.zip"
chmod 755 "$stage/cachefleet-node" "$stage"/aws/*.sh
if [ "$mode" = apply ]; then
  "$stage/aws/apply.sh" "$dir" || { rm -rf "$stage"; exit 1; }
  exit 0
fi
rm -rf "$dir"
mv "$stage" "$dir"
export CACHEFLEET_CFN_STACK CACHEFLEET_SIGNAL_TIMEOUT
# A child, not exec: this program's trap reports boot.sh's failure too.
"$dir/aws/boot.sh"
