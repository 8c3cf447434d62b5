#!/bin/bash
# cachefleet-units: writes the systemd units of this node (aws platform) into CACHEFLEET_SYSTEMD_DIR
# and prints the names of those to enable. Run by boot.sh once per instance; after that, every boot
# is systemd's alone (cloud-init runs the user data once), so everything a boot needs is here:
#
# - the data volume's .mount unit, on the volume's by-id path; the engines require it
#   (RequiresMountsFor=), so a missing volume stops them instead of letting them start empty on the
#   root disk;
# - cachefleet-kernel.service: the kernel settings at every boot, before the engines
#   (systemd-sysctl applies the sysctl.d file; transparent huge pages have no sysctl);
# - cachefleet-storage.service: grows the filesystem to the volume's size at every boot;
# - cachefleet-volume-check.service: marks the instance Unhealthy when the volume is not mounted;
# - the engines, each waiting for its slot's address (the interface's address appears after boot);
# - the timers; the path units that act on Sentinel's hooks (a failover, any other event); the
#   termination hook.
#
# Environment (as boot.sh exports it): CACHEFLEET_CONFIG_DIR, CACHEFLEET_SLOT, CACHEFLEET_STATE_DIR,
# CACHEFLEET_RUN_DIR, CACHEFLEET_SYSTEMD_DIR, CACHEFLEET_VOLUME_ID (data nodes),
# CACHEFLEET_DEV_DIR (default /dev); the agent's environment file is <bundle>/agent.env.
set -euo pipefail
prog=cachefleet-units
here=$(cd "$(dirname "$0")" && pwd)
bundle=$(dirname "$here")
# shellcheck source=SCRIPTDIR/../lib/common.sh
. "$bundle/lib/common.sh"
agent="$bundle/cachefleet-node"
env_file="$bundle/agent.env"
config=${CACHEFLEET_CONFIG_DIR:?CACHEFLEET_CONFIG_DIR is not set}
slot=${CACHEFLEET_SLOT:?CACHEFLEET_SLOT is not set}
state=${CACHEFLEET_STATE_DIR:?CACHEFLEET_STATE_DIR is not set}
run=${CACHEFLEET_RUN_DIR:?CACHEFLEET_RUN_DIR is not set}
dir=${CACHEFLEET_SYSTEMD_DIR:?CACHEFLEET_SYSTEMD_DIR is not set}
dev=${CACHEFLEET_DEV_DIR:-/dev}
# shellcheck source=/dev/null
. "$config/fleet.env"
# shellcheck source=/dev/null
. "$config/slots/$slot.env"
require_env "$config/fleet.env" CF_ENGINE CF_FLEET_NAME CF_SENTINELS CF_OPEN_FILES
require_env "$config/slots/$slot.env" CF_SERVICES
mkdir -p "$dir"

enabled=
enable() { enabled="$enabled $1"; }

# A oneshot unit that stays active once it ran: <name> <description> <ExecStart> <unit lines>.
oneshot() {
  cat >"$dir/$1.service" <<UNIT
[Unit]
Description=$2
$4

[Service]
Type=oneshot
RemainAfterExit=yes
EnvironmentFile=$env_file
ExecStart=$3

[Install]
WantedBy=multi-user.target
UNIT
  enable "$1.service"
}

# Memcached keeps nothing on disk: its slots have no data volume.
engine_deps="cachefleet-kernel.service"
mount_lines=
if [ "$CF_ENGINE" != memcached ]; then
  volume=${CACHEFLEET_VOLUME_ID:?CACHEFLEET_VOLUME_ID is not set (the data volume of the slot)}
  # systemd names a mount unit after its mount point.
  mount_unit=$(systemd-escape --path --suffix=mount "$state")
  # Nitro instances name an EBS device after the volume id without its dash. Wanted by
  # multi-user.target, not local-fs.target: a volume that does not appear fails this unit and the
  # engines that require it, not the boot (an emergency shell would also cut off SSM).
  cat >"$dir/$mount_unit" <<UNIT
[Unit]
Description=cachefleet data volume $volume ($CF_FLEET_NAME $slot)

[Mount]
What=$dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volume//-/}
Where=$state
Type=xfs
Options=noatime

[Install]
WantedBy=multi-user.target
UNIT
  enable "$mount_unit"
  oneshot cachefleet-storage "cachefleet: grow the data volume's filesystem to the volume's size" "$agent grow-storage" \
    "RequiresMountsFor=$state"
  # A volume that never appears leaves the mount's job failed on a dependency, which no OnFailure=
  # sees: this unit runs once that job ended either way (After= orders, it does not require) and
  # marks the instance Unhealthy, so that the group replaces it and the replacement takes the volume.
  oneshot cachefleet-volume-check "cachefleet: replace the instance when its data volume is missing" "$agent check-storage" \
    "After=$mount_unit"
  engine_deps="$engine_deps cachefleet-storage.service"
  mount_lines="RequiresMountsFor=$state"
fi

oneshot cachefleet-kernel "cachefleet: the kernel settings the engine needs (transparent huge pages off, sysctl)" \
  "$agent prepare-kernel" "After=systemd-sysctl.service local-fs.target"

service() { # <name> <description> <ExecStart> <Type> <Restart> [unit lines] [service lines]
  cat >"$dir/$1.service" <<UNIT
[Unit]
Description=$2
After=network-online.target
Wants=network-online.target
StartLimitIntervalSec=0${6:+
$6}

[Service]
Type=$4
EnvironmentFile=$env_file
ExecStart=$3
Restart=$5
RestartSec=2${7:+
$7}

[Install]
WantedBy=multi-user.target
UNIT
}

# A unit that starts another: a timer or a path unit.
trigger() { # <file> <description> <section> <settings> <wanted by>
  cat >"$dir/$1" <<UNIT
[Unit]
Description=$2

[$3]
$4

[Install]
WantedBy=$5
UNIT
  enable "$1"
}

timer() { # <name> <seconds>
  trigger "$1.timer" "cachefleet $1 every $2 s" Timer "OnBootSec=$2
OnUnitActiveSec=$2" timers.target
}

path_unit() { # <name> <what> <file> <unit>
  trigger "$1.path" "cachefleet $2 when $3 changes" Path "PathChanged=$3
Unit=$4" multi-user.target
}

for name in $CF_SERVICES; do
  # An engine starts after the kernel settings and on its data volume, once its slot's address is
  # there (pre-start waits for it, bounded: TimeoutStartSec covers that wait).
  service "cachefleet-$name" "cachefleet $name ($CF_FLEET_NAME $slot)" "$agent start $name" simple always \
    "After=$engine_deps
Wants=$engine_deps${mount_lines:+
$mount_lines}" \
    "ExecStartPre=$agent pre-start $name
TimeoutStartSec=180
LimitNOFILE=$CF_OPEN_FILES"
  enable "cachefleet-$name.service"
done

service cachefleet-metrics "cachefleet metrics" "$agent metrics" oneshot no
timer cachefleet-metrics 60
if [ -n "$CF_SENTINELS" ]; then
  # The records follow Sentinel's events at once (the path unit below, on the sentinels' nodes, and
  # the failover hook); the timer is the safety net for an event missed and for a replica that
  # finished its sync, which Sentinel does not report. Once a minute also keeps the agent's cost
  # within 1 % of a core (each run starts a shell and a query per sentinel).
  service cachefleet-reconcile "cachefleet endpoint records reconciliation" "$agent reconcile" oneshot no
  timer cachefleet-reconcile 60
fi
case " $CF_SERVICES " in
  *" sentinel "*)
    path_unit cachefleet-sentinel-event "endpoint records reconciliation when Sentinel reports an event" \
      "$run/sentinel-event" cachefleet-reconcile.service
    # Sentinel's failover hook only records the event (the engine may run in a container without
    # the agent or the AWS CLI): the host publishes the new primary as soon as the file changes.
    service cachefleet-failover "cachefleet failover publication" "$agent on-failover-event" oneshot no
    path_unit cachefleet-failover "failover publication" "$run/failover-event" cachefleet-failover.service
    ;;
esac
case " $CF_SERVICES " in
  *" redis "*)
    # Scheduled backups: each data node looks every 5 minutes whether the window is open and today's
    # set untaken; the first to claim the set takes it (the agent's backup-if-due). On every data
    # node, backups on or not: units are written once per instance, and a deploy that turns backups
    # on reaches running nodes only through the bundle.
    service cachefleet-backup "cachefleet scheduled backup" "$agent backup-if-due" oneshot no
    timer cachefleet-backup 300
    service cachefleet-lifecycle "cachefleet pre-stop on termination" "$here/lifecycle.sh" simple always
    enable cachefleet-lifecycle.service
    ;;
esac

printf '%s\n' "${enabled# }"
