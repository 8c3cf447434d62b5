/**
 * The scripts an EC2 node runs, shipped in the group's bundle next to the node agent. The user data
 * (`userData`) only fetches the bundle and runs `boot.sh`; everything else changes with the bundle,
 * never with the launch template.
 *
 * Every path and address comes from a variable with the production default, so that a test can run
 * the same scripts under a temporary root against local stand-ins (`CACHEFLEET_ROOT`,
 * `CACHEFLEET_METADATA_URL`).
 */

import { BUNDLE_FILES, slotEnvPath } from '../../core/render';

/** The namespace the nodes publish their metrics in. */
export const METRICS_NAMESPACE = 'CacheFleet';

/** The name of the termination lifecycle hook whose action the node completes after `pre-stop`. */
export const PRE_STOP_HOOK_NAME = 'cachefleet-pre-stop';

/** The bundle's layout: scripts at the top, the rendered configuration under `config/`. */
export const BUNDLE_LAYOUT = {
  agent: 'cachefleet-node',
  boot: 'boot.sh',
  lifecycle: 'lifecycle.sh',
  metrics: 'metrics.sh',
  apply: 'apply.sh',
  configDir: 'config',
} as const;

/** Shared shell helpers: instance metadata with an IMDSv2 token, and retried calls. */
const HELPERS = `imds=\${CACHEFLEET_METADATA_URL:-http://169.254.169.254}
retries=\${CACHEFLEET_RETRIES:-5}
retry_delay=\${CACHEFLEET_RETRY_DELAY:-2}

log() { printf '%s: %s\\n' "$prog" "$*" >&2; }

# Runs a command up to $retries times with a doubling delay; then fails naming it and its error.
retry() { # <what> <command> [args...]
  what=$1
  shift
  attempt=1
  delay=$retry_delay
  while :; do
    if out=$("$@" 2>/tmp/cachefleet-retry.$$); then
      rm -f /tmp/cachefleet-retry.$$
      printf '%s\\n' "$out"
      return 0
    fi
    if [ "$attempt" -ge "$retries" ]; then
      log "error: $what failed after $attempt attempts: $(tail -n 3 /tmp/cachefleet-retry.$$ | tr '\\n' ' ')"
      rm -f /tmp/cachefleet-retry.$$
      return 1
    fi
    log "$what failed (attempt $attempt of $retries); retrying in \${delay}s"
    sleep "$delay"
    attempt=$((attempt + 1))
    delay=$((delay * 2))
    if [ "$delay" -gt 30 ]; then delay=30; fi
  done
}

imds_token() {
  retry "instance metadata token" curl -fsS --max-time 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$imds/latest/api/token"
}

imds_get() { # <token> <path below /latest/meta-data/>
  retry "instance metadata $2" curl -fsS --max-time 2 -H "X-aws-ec2-metadata-token: $1" "$imds/latest/meta-data/$2"
}
`;

/**
 * The user data's program: fetch the bundle whose S3 location the group's SSM parameter holds,
 * unpack it and run its `boot.sh` (at boot) or its `apply.sh` (`cachefleet-fetch apply`, run by the
 * group's SSM association when the bundle changes). The same for every slot of a group.
 *
 * @param restartFingerprint a hash of the bundle's restart-relevant text: a change that only a
 * restart applies changes the user data, so the slots are replaced one at a time; a live change
 * does not.
 */
export function fetchScript(bundleParameterName: string, stackName: string, restartFingerprint: string): string {
  return `#!/bin/bash
# cachefleet: fetches this group's bundle and boots the node, or applies a new bundle's live
# parameters (\`cachefleet-fetch apply\`). The same for every slot of the group.
# Configuration needing a restart: ${restartFingerprint}
set -euo pipefail
prog=cachefleet-fetch
${HELPERS}
root=\${CACHEFLEET_ROOT:-}
token=$(imds_token)
AWS_DEFAULT_REGION=\${AWS_DEFAULT_REGION:-$(imds_get "$token" placement/region)}
export AWS_DEFAULT_REGION
location=$(retry "aws ssm get-parameter" aws ssm get-parameter --name '${bundleParameterName}' --query Parameter.Value --output text)
dir="$root/opt/cachefleet"
rm -rf "$dir.new"
mkdir -p "$dir.new"
retry "aws s3 cp $location" aws s3 cp --only-show-errors "$location" "$dir.new/bundle.zip" >/dev/null
python3 -m zipfile -e "$dir.new/bundle.zip" "$dir.new"
rm -f "$dir.new/bundle.zip"
chmod 755 "$dir.new/${BUNDLE_LAYOUT.agent}" "$dir.new/${BUNDLE_LAYOUT.boot}" "$dir.new/${BUNDLE_LAYOUT.lifecycle}" "$dir.new/${BUNDLE_LAYOUT.metrics}" "$dir.new/${BUNDLE_LAYOUT.apply}"
if [ "\${1:-boot}" = apply ]; then
  exec "$dir.new/${BUNDLE_LAYOUT.apply}" "$dir"
fi
rm -rf "$dir"
mv "$dir.new" "$dir"
export CACHEFLEET_CFN_STACK='${stackName}'
exec "$dir/${BUNDLE_LAYOUT.boot}"
`;
}

/**
 * \`apply.sh <running bundle>\`: with the node's settings from its boot, sends the new bundle's changed
 * live parameters to the engine (the agent's \`apply-parameters\`), then puts the new bundle in the
 * running one's place, where the services find it at their next start.
 */
export const APPLY_SCRIPT = `#!/bin/bash
# cachefleet: applies a new bundle's live parameters to the running node, then installs the bundle.
set -euo pipefail
prog=cachefleet-apply
new=$(cd "$(dirname "$0")" && pwd)
running=$1
[ -r "$running/agent.env" ] || { echo "$prog: $running/agent.env is missing: the node has not booted" >&2; exit 1; }
cp "$running/agent.env" "$new/agent.env"
set -a
# shellcheck source=/dev/null
. "$new/agent.env"
set +a
if [ -r "$running/${BUNDLE_LAYOUT.configDir}/${BUNDLE_FILES.liveParameters}" ]; then
  # The engine reads the new configuration from the running bundle's path at its next start.
  CACHEFLEET_CONFIG_DIR="$new/${BUNDLE_LAYOUT.configDir}" "$new/${BUNDLE_LAYOUT.agent}" apply-parameters "$running/${BUNDLE_LAYOUT.configDir}/${BUNDLE_FILES.liveParameters}"
fi
rm -rf "$running.old"
mv "$running" "$running.old"
mv "$new" "$running"
rm -rf "$running.old"
echo "$prog: the bundle is installed" >&2
`;

/** `boot.sh`: installs the engine, writes the systemd units, starts the services, signals the stack. */
export const BOOT_SCRIPT = `#!/bin/bash
# cachefleet boot (aws platform): prepares the node with the agent, installs the engine, runs its
# services under systemd, waits until they are ready and signals CloudFormation.
set -euo pipefail
prog=cachefleet-boot
${HELPERS}
here=$(cd "$(dirname "$0")" && pwd)
root=\${CACHEFLEET_ROOT:-}
agent="$here/${BUNDLE_LAYOUT.agent}"
systemd_dir=\${CACHEFLEET_SYSTEMD_DIR:-$root/etc/systemd/system}
export CACHEFLEET_PLATFORM=aws
export CACHEFLEET_CONFIG_DIR="$here/${BUNDLE_LAYOUT.configDir}"
export CACHEFLEET_STATE_DIR=\${CACHEFLEET_STATE_DIR:-$root/var/lib/cachefleet}
export CACHEFLEET_RUN_DIR=\${CACHEFLEET_RUN_DIR:-$root/run/cachefleet}

token=$(imds_token)
AWS_DEFAULT_REGION=\${AWS_DEFAULT_REGION:-$(imds_get "$token" placement/region)}
export AWS_DEFAULT_REGION
CACHEFLEET_SLOT=$(imds_get "$token" tags/instance/cachefleet:slot)
CACHEFLEET_CFN_RESOURCE=$(imds_get "$token" tags/instance/cachefleet:cfn-resource)
export CACHEFLEET_SLOT CACHEFLEET_CFN_RESOURCE
prog="cachefleet-boot[$CACHEFLEET_SLOT]"

failed() {
  status=$?
  log "error: the boot failed (exit $status); signalling failure"
  "$agent" signal failure || true
  exit "$status"
}
trap failed ERR

# shellcheck source=/dev/null
. "$CACHEFLEET_CONFIG_DIR/${BUNDLE_FILES.fleetEnv}"
# shellcheck source=/dev/null
. "$CACHEFLEET_CONFIG_DIR/${slotEnvPath('$CACHEFLEET_SLOT')}"

# The engine: the Amazon Linux 2023 package, else the pinned image run with podman on the host network.
CACHEFLEET_BIN_DIR=
if [ -n "$CF_PACKAGE" ]; then
  retry "dnf install $CF_PACKAGE" dnf install -y "$CF_PACKAGE" >/dev/null
else
  retry "dnf install podman" dnf install -y podman >/dev/null
  retry "podman pull $CF_CONTAINER_IMAGE" podman pull -q "$CF_CONTAINER_IMAGE" >/dev/null
  CACHEFLEET_BIN_DIR="$root/opt/cachefleet-bin"
  mkdir -p "$CACHEFLEET_BIN_DIR"
  for binary in server cli; do
    cat >"$CACHEFLEET_BIN_DIR/$CF_BINARY_PREFIX-$binary" <<WRAPPER
#!/bin/sh
exec podman run --rm -i --network host -e REDISCLI_AUTH -v "$CACHEFLEET_STATE_DIR:$CACHEFLEET_STATE_DIR" -v "$CACHEFLEET_RUN_DIR:$CACHEFLEET_RUN_DIR" "$CF_CONTAINER_IMAGE" $CF_ENGINE-$binary "\\$@"
WRAPPER
    chmod 755 "$CACHEFLEET_BIN_DIR/$CF_BINARY_PREFIX-$binary"
  done
fi
export CACHEFLEET_BIN_DIR

"$agent" prepare-kernel
# Memcached keeps nothing on disk: its slots have no data volume.
if [ "$CF_ENGINE" != memcached ]; then "$agent" prepare-storage; fi
"$agent" prepare-network

env_file="$here/agent.env"
{
  for name in CACHEFLEET_PLATFORM CACHEFLEET_SLOT CACHEFLEET_CONFIG_DIR CACHEFLEET_STATE_DIR CACHEFLEET_RUN_DIR \\
    CACHEFLEET_BIN_DIR CACHEFLEET_CFN_STACK CACHEFLEET_CFN_RESOURCE CACHEFLEET_METADATA_URL AWS_DEFAULT_REGION; do
    eval "value=\\\${$name:-}"
    if [ -n "$value" ]; then printf '%s=%s\\n' "$name" "$value"; fi
  done
} >"$env_file"

mkdir -p "$systemd_dir"
unit() { # <name> <description> <ExecStart> [Type]
  cat >"$systemd_dir/$1.service" <<UNIT
[Unit]
Description=$2
After=network-online.target
Wants=network-online.target

[Service]
Type=\${4:-simple}
EnvironmentFile=$env_file
ExecStart=$3
Restart=\${5:-always}
RestartSec=2
LimitNOFILE=1048576

[Install]
WantedBy=multi-user.target
UNIT
}
timer() { # <name> <seconds>
  cat >"$systemd_dir/$1.timer" <<UNIT
[Unit]
Description=cachefleet $1 every $2 s

[Timer]
OnBootSec=$2
OnUnitActiveSec=$2

[Install]
WantedBy=timers.target
UNIT
}

path_unit() { # <name> <file>
  cat >"$systemd_dir/$1.path" <<UNIT
[Unit]
Description=cachefleet $1 when $2 changes

[Path]
PathChanged=$2
Unit=$1.service

[Install]
WantedBy=multi-user.target
UNIT
}

units=
for service in $CF_SERVICES; do
  unit "cachefleet-$service" "cachefleet $service ($CF_FLEET_NAME $CACHEFLEET_SLOT)" "$agent start $service"
  units="$units cachefleet-$service.service"
done
unit cachefleet-metrics "cachefleet metrics" "$here/${BUNDLE_LAYOUT.metrics}" oneshot no
timer cachefleet-metrics 60
units="$units cachefleet-metrics.timer"
if [ -n "$CF_SENTINELS" ]; then
  unit cachefleet-reconcile "cachefleet endpoint records reconciliation" "$agent reconcile" oneshot no
  timer cachefleet-reconcile 10
  units="$units cachefleet-reconcile.timer"
fi
case " $CF_SERVICES " in
  *" sentinel "*)
    # Sentinel's failover hook only records the event (the engine may run in a container without
    # the agent or the AWS CLI): the host publishes the new primary as soon as the file changes.
    unit cachefleet-failover "cachefleet failover publication" "$agent on-failover-event" oneshot no
    path_unit cachefleet-failover "$CACHEFLEET_RUN_DIR/failover-event"
    units="$units cachefleet-failover.path"
    ;;
esac
case " $CF_SERVICES " in
  *" redis "*)
    unit cachefleet-lifecycle "cachefleet pre-stop on termination" "$here/${BUNDLE_LAYOUT.lifecycle}"
    units="$units cachefleet-lifecycle.service"
    ;;
esac

systemctl daemon-reload
# shellcheck disable=SC2086 # a list of unit names
systemctl enable --now $units
for service in $CF_SERVICES; do
  "$agent" wait-ready "$service"
done
"$agent" signal success
log "ready: $CF_SERVICES"
`;

/**
 * `lifecycle.sh`: waits for the instance's termination (the ASG's lifecycle hook holds it), hands a
 * primary over with the agent's `pre-stop`, then lets the termination continue.
 */
export const LIFECYCLE_SCRIPT = `#!/bin/bash
# cachefleet: a terminating primary hands over before its instance goes (ASG lifecycle hook).
set -uo pipefail
prog=cachefleet-lifecycle
${HELPERS}
here=$(cd "$(dirname "$0")" && pwd)
while :; do
  token=$(imds_token) || { sleep 5; continue; }
  state=$(curl -fsS --max-time 2 -H "X-aws-ec2-metadata-token: $token" "$imds/latest/meta-data/autoscaling/target-lifecycle-state" 2>/dev/null || true)
  if [ "$state" = Terminated ]; then break; fi
  sleep 5
done
log "the instance is terminating: pre-stop"
"$here/${BUNDLE_LAYOUT.agent}" pre-stop || log "warning: pre-stop failed; the termination continues"
instance=$(imds_get "$token" instance-id)
group=$(retry "aws autoscaling describe-auto-scaling-instances" aws autoscaling describe-auto-scaling-instances \\
  --instance-ids "$instance" --query 'AutoScalingInstances[0].AutoScalingGroupName' --output text)
retry "aws autoscaling complete-lifecycle-action" aws autoscaling complete-lifecycle-action \\
  --lifecycle-hook-name ${PRE_STOP_HOOK_NAME} --auto-scaling-group-name "$group" \\
  --lifecycle-action-result CONTINUE --instance-id "$instance" >/dev/null
`;

/** The metrics `metrics.sh` publishes: name, what it measures, the statistic the construct reads. */
export const NODE_METRICS = {
  cpuUtilization: 'CPUUtilization',
  currConnections: 'CurrConnections',
  memoryUsagePercentage: 'DatabaseMemoryUsagePercentage',
  replicationLag: 'ReplicationLag',
} as const;

/**
 * `metrics.sh`: every minute, publishes the node's CPU, connections, memory use and (replicas)
 * replication lag to CloudWatch under the fleet's dimension and the node's.
 */
export const METRICS_SCRIPT = `#!/bin/bash
# cachefleet: publishes this node's metrics to CloudWatch (namespace ${METRICS_NAMESPACE}).
set -euo pipefail
prog=cachefleet-metrics
${HELPERS}
here=$(cd "$(dirname "$0")" && pwd)
export CACHEFLEET_CONFIG_DIR="$here/${BUNDLE_LAYOUT.configDir}"
# shellcheck source=/dev/null
. "$CACHEFLEET_CONFIG_DIR/${BUNDLE_FILES.fleetEnv}"
token=$(imds_token)
fleet=$(imds_get "$token" tags/instance/cachefleet:fleet)
slot=$(imds_get "$token" tags/instance/cachefleet:slot)
proc=\${CACHEFLEET_PROC_DIR:-/proc}
cpu_sample() { awk '$1 == "cpu" { idle = $5 + $6; total = 0; for (i = 2; i <= NF; i++) total += $i; print idle, total }' "$proc/stat"; }
first=$(cpu_sample)
sleep 1
second=$(cpu_sample)
cpu=$(printf '%s %s\\n' "$first" "$second" | awk '{ busy = ($4 - $2) - ($3 - $1); total = $4 - $2; print (total > 0) ? int(100 * busy / total) : 0 }')

data="${NODE_METRICS.cpuUtilization}=$cpu"
# shellcheck source=/dev/null
. "$CACHEFLEET_CONFIG_DIR/${slotEnvPath('$slot')}"
case $CF_ENGINE in
  memcached)
    stats=$(exec 3<>"/dev/tcp/$CF_ADDRESS/$CF_PORT" && printf 'stats\\r\\nquit\\r\\n' >&3 && tr -d '\\r' <&3) || stats=
    conns=$(printf '%s\\n' "$stats" | awk '$2 == "curr_connections" { print $3 }')
    used=$(printf '%s\\n' "$stats" | awk '$2 == "bytes" { print $3 }')
    limit=$(printf '%s\\n' "$stats" | awk '$2 == "limit_maxbytes" { print $3 }')
    ;;
  *)
    case " $CF_SERVICES " in
      *" redis "*) ;;
      *) CF_PORT= ;;
    esac
    run_dir=\${CACHEFLEET_RUN_DIR:-/run/cachefleet}
    cli=\${CACHEFLEET_BIN_DIR:+$CACHEFLEET_BIN_DIR/}$CF_BINARY_PREFIX-cli
    info=
    [ -z "$CF_PORT" ] || info=$(REDISCLI_AUTH=$(cat "$run_dir/secrets/app-password") "$cli" --no-auth-warning --user "$CF_APP_USER" -h "$CF_ADDRESS" -p "$CF_PORT" INFO 2>/dev/null | tr -d '\\r') || info=
    field() { printf '%s\\n' "$info" | sed -n "s/^$1://p"; }
    conns=$(field connected_clients)
    used=$(field used_memory)
    limit=$(field maxmemory)
    lag=$(field master_last_io_seconds_ago)
    if [ -n "$lag" ] && [ "$lag" -ge 0 ]; then data="$data ${NODE_METRICS.replicationLag}=$lag"; fi
    ;;
esac
if [ -n "\${conns:-}" ]; then data="$data ${NODE_METRICS.currConnections}=$conns"; fi
if [ -n "\${used:-}" ] && [ -n "\${limit:-}" ] && [ "$limit" -gt 0 ]; then
  data="$data ${NODE_METRICS.memoryUsagePercentage}=$((100 * used / limit))"
fi

metrics=
for pair in $data; do
  name=\${pair%%=*}
  value=\${pair#*=}
  metrics="$metrics MetricName=$name,Value=$value,Dimensions=[{Name=Fleet,Value=$fleet}]"
  metrics="$metrics MetricName=$name,Value=$value,Dimensions=[{Name=Fleet,Value=$fleet},{Name=Node,Value=$slot}]"
done
# shellcheck disable=SC2086 # one argument per datum
retry "aws cloudwatch put-metric-data" aws cloudwatch put-metric-data --namespace ${METRICS_NAMESPACE} --metric-data $metrics >/dev/null
`;
