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
# The watch runs for the instance's whole life, so it must cost next to nothing: one token for up to
# six hours (renewed before it expires, or at once when the service refuses it) and one metadata
# read every 10 s. The termination hook holds the instance for 120 s, so 10 s is soon enough.
poll=${CACHEFLEET_LIFECYCLE_POLL:-10}
token=
token_born=0
while :; do
  printf -v now '%(%s)T' -1
  if [ -z "$token" ] || [ $((now - token_born)) -ge 18000 ]; then
    token=$(curl -fsS --max-time 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' "$imds/latest/api/token" 2>/dev/null) || token=
    token_born=$now
  fi
  if [ -n "$token" ]; then
    state=$(curl -fsS --max-time 2 -H "X-aws-ec2-metadata-token: $token" "$imds/latest/meta-data/autoscaling/target-lifecycle-state" 2>/dev/null) || token=
    if [ "${state:-}" = Terminated ]; then break; fi
  fi
  sleep "$poll"
done
log "the instance is terminating: pre-stop"
"$bundle/cachefleet-node" pre-stop || log "warning: pre-stop failed; the termination continues"
instance=$(imds_get "$token" instance-id)
group=$(retry "aws autoscaling describe-auto-scaling-instances" aws autoscaling describe-auto-scaling-instances \
  --instance-ids "$instance" --query 'AutoScalingInstances[0].AutoScalingGroupName' --output text)
retry "aws autoscaling complete-lifecycle-action" aws autoscaling complete-lifecycle-action \
  --lifecycle-hook-name cachefleet-pre-stop --auto-scaling-group-name "$group" \
  --lifecycle-action-result CONTINUE --instance-id "$instance" >/dev/null
