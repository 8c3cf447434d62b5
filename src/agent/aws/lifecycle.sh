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
# The watch runs for the instance's whole life, so it must cost next to nothing: no process at all
# between two tokens. One token (curl's PUT) lasts up to six hours (renewed before it expires, or at
# once when the service refuses it); the state is read every 10 s by bash itself over /dev/tcp, and
# the wait between two reads starts no process either. The termination hook holds the instance for
# 120 s, so 10 s is soon enough.
poll=${CACHEFLEET_LIFECYCLE_POLL:-10}
# Seconds between two extensions of the hook while pre-stop runs (its timeout is 120 s).
heartbeat=${CACHEFLEET_LIFECYCLE_HEARTBEAT:-60}

# The metadata service's address, split for /dev/tcp: http://<host>[:<port>][<path prefix>].
imds_rest=${imds#http://}
imds_hostport=${imds_rest%%/*}
imds_prefix=${imds_rest#"$imds_hostport"}
imds_host=${imds_hostport%:*}
imds_port=80
if [[ $imds_hostport == *:* ]]; then imds_port=${imds_hostport##*:}; fi

# Sets `state` to the instance's target lifecycle state: one GET in HTTP/1.0 (the service closes the
# connection after its answer), each read bounded by 2 s. Fails on anything but a 200 answer. The
# connect itself is not bounded: the service is link-local, it answers or refuses at once.
read_lifecycle_state() { # <token>
  local fd status line body=
  state=
  exec {fd}<>"/dev/tcp/$imds_host/$imds_port" || return 1
  printf 'GET %s/latest/meta-data/autoscaling/target-lifecycle-state HTTP/1.0\r\nHost: %s\r\nX-aws-ec2-metadata-token: %s\r\n\r\n' \
    "$imds_prefix" "$imds_host" "$1" >&"$fd" || { exec {fd}<&-; return 1; }
  IFS= read -r -t 2 -u "$fd" status || { exec {fd}<&-; return 1; }
  while IFS= read -r -t 2 -u "$fd" line && [ -n "${line%$'\r'}" ]; do :; done
  IFS= read -r -t 2 -u "$fd" body || :
  exec {fd}<&-
  [[ $status == "HTTP/1."?" 200"* ]] || return 1
  state=${body%$'\r'}
}

token=
token_born=0
# A pipe that nobody writes to: `read -t` on it waits like sleep(1), without starting a process.
exec {pause}<> <(:)
while :; do
  printf -v now '%(%s)T' -1
  if [ -z "$token" ] || [ $((now - token_born)) -ge 18000 ]; then
    token=$(curl -fsS --max-time 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' "$imds/latest/api/token" 2>/dev/null) || token=
    token_born=$now
  fi
  if [ -n "$token" ]; then
    read_lifecycle_state "$token" 2>/dev/null || token=
    if [ "$state" = Terminated ]; then break; fi
  fi
  read -r -t "$poll" -u "$pause" _ || :
done
log "the instance is terminating: pre-stop"
instance=$(imds_get "$token" instance-id)
group=$(retry "aws autoscaling describe-auto-scaling-instances" aws autoscaling describe-auto-scaling-instances \
  --instance-ids "$instance" --query 'AutoScalingInstances[0].AutoScalingGroupName' --output text)
# pre-stop may outlast the hook's 120 s: a cluster-mode master whose shard goes moves its hash slots
# first when no deploy's apply did. While it runs, the hook is extended every `heartbeat` seconds
# (each extension starts its timeout again); the wait looks at pre-stop every second, starting no
# process.
"$bundle/cachefleet-node" pre-stop &
pre_stop=$!
since=0
while kill -0 "$pre_stop" 2>/dev/null; do
  read -r -t 1 -u "$pause" _ || :
  since=$((since + 1))
  if [ "$since" -ge "$heartbeat" ] && kill -0 "$pre_stop" 2>/dev/null; then
    since=0
    aws autoscaling record-lifecycle-action-heartbeat --lifecycle-hook-name cachefleet-pre-stop \
      --auto-scaling-group-name "$group" --instance-id "$instance" >/dev/null ||
      log "warning: the termination hook was not extended; the termination may go on before pre-stop ends"
  fi
done
wait "$pre_stop" || log "warning: pre-stop failed; the termination continues"
retry "aws autoscaling complete-lifecycle-action" aws autoscaling complete-lifecycle-action \
  --lifecycle-hook-name cachefleet-pre-stop --auto-scaling-group-name "$group" \
  --lifecycle-action-result CONTINUE --instance-id "$instance" >/dev/null
