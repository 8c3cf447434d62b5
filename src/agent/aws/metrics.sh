#!/bin/bash
# cachefleet-metrics: every minute (its timer), publishes this node's CPU, connections, memory use
# and (replicas) replication lag to CloudWatch, namespace CacheFleet, under the fleet's dimension
# and the node's. The metricXxx methods of the constructs read these names.
set -euo pipefail
prog=cachefleet-metrics
here=$(cd "$(dirname "$0")" && pwd)
bundle=$(dirname "$here")
# shellcheck source=SCRIPTDIR/../lib/common.sh
. "$bundle/lib/common.sh"
export CACHEFLEET_CONFIG_DIR="$bundle/config"
# shellcheck source=/dev/null
. "$CACHEFLEET_CONFIG_DIR/fleet.env"
token=$(imds_token)
fleet=$(imds_get "$token" tags/instance/cachefleet:fleet)
slot=$(imds_get "$token" tags/instance/cachefleet:slot)
proc=${CACHEFLEET_PROC_DIR:-/proc}
cpu_sample() { awk '$1 == "cpu" { idle = $5 + $6; total = 0; for (i = 2; i <= NF; i++) total += $i; print idle, total }' "$proc/stat"; }
first=$(cpu_sample)
sleep 1
second=$(cpu_sample)
cpu=$(printf '%s %s\n' "$first" "$second" | awk '{ busy = ($4 - $2) - ($3 - $1); total = $4 - $2; print (total > 0) ? int(100 * busy / total) : 0 }')

data="CPUUtilization=$cpu"
# shellcheck source=/dev/null
. "$CACHEFLEET_CONFIG_DIR/slots/$slot.env"
case $CF_ENGINE in
  memcached)
    stats=$(exec 3<>"/dev/tcp/$CF_ADDRESS/$CF_PORT" && printf 'stats\r\nquit\r\n' >&3 && tr -d '\r' <&3) || stats=
    conns=$(printf '%s\n' "$stats" | awk '$2 == "curr_connections" { print $3 }')
    used=$(printf '%s\n' "$stats" | awk '$2 == "bytes" { print $3 }')
    limit=$(printf '%s\n' "$stats" | awk '$2 == "limit_maxbytes" { print $3 }')
    ;;
  *)
    case " $CF_SERVICES " in
      *" redis "*) ;;
      *) CF_PORT= ;;
    esac
    run_dir=${CACHEFLEET_RUN_DIR:-/run/cachefleet}
    cli=${CACHEFLEET_BIN_DIR:+$CACHEFLEET_BIN_DIR/}$CF_BINARY_PREFIX-cli
    info=
    [ -z "$CF_PORT" ] || info=$(REDISCLI_AUTH=$(cat "$run_dir/secrets/app-password") "$cli" --no-auth-warning --user "$CF_APP_USER" -h "$CF_ADDRESS" -p "$CF_PORT" INFO 2>/dev/null | tr -d '\r') || info=
    field() { printf '%s\n' "$info" | sed -n "s/^$1://p"; }
    conns=$(field connected_clients)
    used=$(field used_memory)
    limit=$(field maxmemory)
    lag=$(field master_last_io_seconds_ago)
    if [ -n "$lag" ] && [ "$lag" -ge 0 ]; then data="$data ReplicationLag=$lag"; fi
    ;;
esac
if [ -n "${conns:-}" ]; then data="$data CurrConnections=$conns"; fi
if [ -n "${used:-}" ] && [ -n "${limit:-}" ] && [ "$limit" -gt 0 ]; then
  data="$data DatabaseMemoryUsagePercentage=$((100 * used / limit))"
fi

metrics=
for pair in $data; do
  name=${pair%%=*}
  value=${pair#*=}
  metrics="$metrics MetricName=$name,Value=$value,Dimensions=[{Name=Fleet,Value=$fleet}]"
  metrics="$metrics MetricName=$name,Value=$value,Dimensions=[{Name=Fleet,Value=$fleet},{Name=Node,Value=$slot}]"
done
# shellcheck disable=SC2086 # one argument per datum
retry "aws cloudwatch put-metric-data" aws cloudwatch put-metric-data --namespace CacheFleet --metric-data $metrics >/dev/null
