#!/bin/bash
# cachefleet-lifecycle: a terminating primary hands over before its instance goes. Waits for the
# instance's termination (the group's lifecycle hook holds it), hands a primary over with the
# agent's pre-stop, then lets the termination continue.
set -uo pipefail
prog=cachefleet-lifecycle
here=$(cd "$(dirname "$0")" && pwd)
bundle=$(dirname "$here")
# shellcheck source=SCRIPTDIR/../lib/common.sh
. "$bundle/lib/common.sh"
while :; do
  token=$(imds_token) || { sleep 5; continue; }
  state=$(curl -fsS --max-time 2 -H "X-aws-ec2-metadata-token: $token" "$imds/latest/meta-data/autoscaling/target-lifecycle-state" 2>/dev/null || true)
  if [ "$state" = Terminated ]; then break; fi
  sleep 5
done
log "the instance is terminating: pre-stop"
"$bundle/cachefleet-node" pre-stop || log "warning: pre-stop failed; the termination continues"
instance=$(imds_get "$token" instance-id)
group=$(retry "aws autoscaling describe-auto-scaling-instances" aws autoscaling describe-auto-scaling-instances \
  --instance-ids "$instance" --query 'AutoScalingInstances[0].AutoScalingGroupName' --output text)
retry "aws autoscaling complete-lifecycle-action" aws autoscaling complete-lifecycle-action \
  --lifecycle-hook-name cachefleet-pre-stop --auto-scaling-group-name "$group" \
  --lifecycle-action-result CONTINUE --instance-id "$instance" >/dev/null
