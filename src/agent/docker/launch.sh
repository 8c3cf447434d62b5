#!/bin/sh
# cachefleet-launch: how a Docker fleet's containers get the fleet's bundle.
#
# Provider-docker replaces a container whose uploads change, and Terraform replaces every changed
# container at once. So the bundle (the node agent and the rendered configuration) is not uploaded
# into the node containers: one small container of the fleet, `<fleet>-bundle`, publishes it on a
# named volume every node mounts. A new bundle replaces only that container; each node's agent
# then applies the change itself, live or by a rolling restart (cachefleet-node, follow_bundle).
#
#   publish        (the bundle container) copy the uploaded bundle into the fleet volume as a new
#                  generation, name it current, then idle until stopped
#   take           (a node) copy the current generation into the node and point its
#                  CACHEFLEET_CONFIG_DIR at it
#   start <service>
#                  (a node) take, then run the agent's start from the taken bundle
#   <other> [args] (a node) run that subcommand of the agent of the bundle the node runs
#
# Layout of CACHEFLEET_FLEET_DIR: bundles/<generation>/ (the published bundles), current (the
# generation to run), nodes/<slot> (the generation a node runs and is ready with), roll.lock (the
# rolling restart's turn, flock).

set -eu

PROG=cachefleet-launch
FLEET_DIR=${CACHEFLEET_FLEET_DIR:?CACHEFLEET_FLEET_DIR is not set}
# Seconds a starting node waits for the bundle container to publish a first bundle.
PUBLISH_WAIT=${CACHEFLEET_PUBLISH_WAIT:-120}
# Published generations kept besides the current one: a node that is restarting may still be
# copying one of them.
KEEP_GENERATIONS=4

log() {
  printf '%s[%s]: %s\n' "$PROG" "${CACHEFLEET_SLOT:-bundle}" "$*" >&2
}

die() {
  log "error: $*"
  exit 1
}

# The absolute path of this program, which the agent calls back for a rolling restart.
self_path() {
  case $0 in
    /*) printf '%s\n' "$0" ;;
    *) printf '%s/%s\n' "$(cd "$(dirname "$0")" && pwd)" "$(basename "$0")" ;;
  esac
}

# Copies a directory to <target> through a temporary name: a reader never sees half of it.
copy_whole() { # <source> <target>
  rm -rf "$2.partial"
  cp -R "$1" "$2.partial" || die "cannot copy $1"
  mv "$2.partial" "$2" || die "cannot create $2"
}

# Removes the oldest entries of <directory> but the newest <count> and <except>.
prune() { # <directory> <count> <except>
  pr_kept=0
  # The generations are hex digests: no blanks or line breaks in their names.
  # shellcheck disable=SC2012
  ls -1t "$1" | while IFS= read -r pr_entry; do
    case $pr_entry in
      "$3" | *.partial) continue ;;
    esac
    if [ "$pr_kept" -lt "$2" ]; then
      pr_kept=$((pr_kept + 1))
    else
      rm -rf "${1:?}/$pr_entry"
    fi
  done
}

cmd_publish() {
  source_dir=${CACHEFLEET_BUNDLE_SOURCE_DIR:?CACHEFLEET_BUNDLE_SOURCE_DIR is not set}
  generation=$(cat "$source_dir/generation") || die "the bundle has no generation file"
  mkdir -p "$FLEET_DIR/bundles" "$FLEET_DIR/nodes"
  [ -e "$FLEET_DIR/roll.lock" ] || : >"$FLEET_DIR/roll.lock"
  if [ ! -d "$FLEET_DIR/bundles/$generation" ]; then
    copy_whole "$source_dir" "$FLEET_DIR/bundles/$generation"
  fi
  # Touched, so that a bundle published again counts as the newest when older ones are pruned.
  touch "$FLEET_DIR/bundles/$generation"
  printf '%s\n' "$generation" >"$FLEET_DIR/current.tmp"
  mv -f "$FLEET_DIR/current.tmp" "$FLEET_DIR/current"
  prune "$FLEET_DIR/bundles" "$KEEP_GENERATIONS" "$generation"
  log "published bundle $generation"
  # The container stays up, so that Terraform sees it running; it does nothing more.
  sleeper=
  trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM INT
  while :; do
    sleep 3600 &
    sleeper=$!
    wait "$sleeper" || :
  done
}

# The generation the fleet runs, once the bundle container has published one that has this node's
# slot: a node that an apply adds may start before the new bundle container has published.
current_generation() {
  cg_deadline=$(($(date +%s) + PUBLISH_WAIT))
  while :; do
    cg_generation=$(cat "$FLEET_DIR/current" 2>/dev/null) || cg_generation=
    if [ -n "$cg_generation" ] && [ -r "$FLEET_DIR/bundles/$cg_generation/slots/${CACHEFLEET_SLOT:?CACHEFLEET_SLOT is not set}.env" ]; then
      printf '%s\n' "$cg_generation"
      return 0
    fi
    [ "$(date +%s)" -lt "$cg_deadline" ] || die "no bundle with slot $CACHEFLEET_SLOT published in $FLEET_DIR after ${PUBLISH_WAIT}s (is the fleet's bundle container running?)"
    sleep 0.2 2>/dev/null || sleep 1
  done
}

cmd_take() {
  config_dir=${CACHEFLEET_CONFIG_DIR:?CACHEFLEET_CONFIG_DIR is not set}
  generation=$(current_generation)
  taken=$config_dir.d/$generation
  mkdir -p "$config_dir.d"
  [ -d "$taken" ] || copy_whole "$FLEET_DIR/bundles/$generation" "$taken"
  # The link is replaced in one rename: the agent reads either bundle whole, never a mix.
  ln -sfn "$taken" "$config_dir.link"
  mv -fT "$config_dir.link" "$config_dir"
  # The generation before stays: the agent compares the new live parameters with it.
  prune "$config_dir.d" 2 "$generation"
  log "runs bundle $generation"
}

main() {
  # A container's main process gets no default action for a signal: without a trap, docker stop
  # would wait out its grace while a node waits for its first bundle.
  trap 'exit 143' TERM
  trap 'exit 130' INT
  [ $# -ge 1 ] || die "usage: $PROG <publish|take|start <service>|agent subcommand...>"
  command=$1
  shift
  case $command in
    publish) cmd_publish ;;
    take) cmd_take ;;
    start)
      # Not ready until the agent of the new start says so (follow_bundle).
      rm -f "$FLEET_DIR/nodes/${CACHEFLEET_SLOT:?CACHEFLEET_SLOT is not set}"
      cmd_take
      CACHEFLEET_LAUNCHER=$(self_path)
      export CACHEFLEET_LAUNCHER
      exec "$CACHEFLEET_CONFIG_DIR/cachefleet-node" start "$@"
      ;;
    *) exec "${CACHEFLEET_CONFIG_DIR:?CACHEFLEET_CONFIG_DIR is not set}/cachefleet-node" "$command" "$@" ;;
  esac
}

main "$@"
