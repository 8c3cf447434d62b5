# shellcheck shell=sh
# cachefleet: backups and restore of a Redis or Valkey fleet, part of the node agent (sourced by it
# from beside it; the shipped agent carries the text). POSIX sh, prefixed globals (no `local`).
#
# A backup is a set: <location>/<set>/shard-<n>.rdb and shard-<n>.json (its manifest) for every
# shard, and <set>/lock, created only if absent, which makes one node the set's only writer. A
# location is an S3 prefix (s3://<bucket>/<prefix>) or a directory. Each RDB is streamed from a
# replica of its shard that is in sync (`redis-cli --rdb`, a replication SYNC: the replica forks,
# the primary does not), from the primary when the shard has none, to the driving node's temporary
# directory, never to a data volume. The manifest is written after its RDB: a shard with a manifest
# is complete.
#
# A restore seeds a shard's planned primary from its shard's RDB before its first start, only on an
# empty data directory of a fleet that serves nothing yet; it checks the manifest (the shard count,
# the slots, the size and the SHA-256) and fails loudly, naming the object, rather than start empty.
#
# Uses the agent's helpers: log, die, run_aws, with_timeout, data_cli, cluster_view, shard_master,
# shard_range, shard_addresses, reply_field, now, and its variables (CF_*, CLI, ADMIN_PASSWORD,
# STATE_DIR, CONFIG_DIR, TMP_ROOT, BACKUP_TIMEOUT).

# The name of a set's lock, manifest and RDB of shard <n>.
BACKUP_LOCK=lock
backup_rdb_name() { printf 'shard-%s.rdb\n' "$1"; }
backup_manifest_name() { printf 'shard-%s.json\n' "$1"; }

# "<bucket> <key>" of s3://<bucket>/<key>.
s3_split() { # <url>
  ss_rest=${1#s3://}
  printf '%s %s\n' "${ss_rest%%/*}" "${ss_rest#*/}"
}

# Copies a file into a location under <name> (a directory: written aside, then renamed).
store_put() { # <location> <file> <name>
  case $1 in
    s3://*) run_aws s3 cp --only-show-errors "$2" "$1/$3" >/dev/null ;;
    /*)
      mkdir -p "$(dirname "$1/$3")" || return 1
      cp "$2" "$1/$3.part" && mv -f "$1/$3.part" "$1/$3"
      ;;
    *) log "error: a backup location is s3://<bucket>/<prefix> or an absolute directory, not '$1'" && return 1 ;;
  esac
}

# Copies <name> of a location into a file; fails naming the object.
store_get() { # <location> <name> <file>
  case $1 in
    s3://*) run_aws s3 cp --only-show-errors "$1/$2" "$3" >/dev/null ;;
    /*)
      [ -r "$1/$2" ] || {
        log "error: $1/$2 does not exist"
        return 1
      }
      cp "$1/$2" "$3"
      ;;
    *) log "error: a backup location is s3://<bucket>/<prefix> or an absolute directory, not '$1'" && return 1 ;;
  esac
}

# Creates <name> only if it does not exist: 0 when this call created it, 1 when it existed, 2 when
# the location could not be asked. S3 takes a conditional write (If-None-Match: *), a directory an
# exclusive create (noclobber).
store_claim() { # <location> <name> <content>
  case $1 in
    s3://*)
      set -- "$1" "$2" "$3" "$(s3_split "$1/$2")"
      printf '%s\n' "$3" >"$TMP_ROOT/claim"
      if sc_out=$(aws s3api put-object --bucket "${4%% *}" --key "${4#* }" --if-none-match '*' --body "$TMP_ROOT/claim" 2>&1); then
        return 0
      fi
      case $sc_out in
        *PreconditionFailed* | *'(412)'* | *ConditionalRequestConflict*) return 1 ;;
      esac
      log "error: cannot create $1/$2: $sc_out"
      return 2
      ;;
    /*)
      mkdir -p "$(dirname "$1/$2")" || return 2
      if (set -C && printf '%s\n' "$3" >"$1/$2") 2>/dev/null; then return 0; fi
      [ -e "$1/$2" ] && return 1
      return 2
      ;;
  esac
  return 2
}

# The fleet's backup location, or nothing: a container's variable; on EC2 the fleet's SSM parameter
# /cachefleet/<fleet>/backup-location, read at each backup, so that a deploy that turns backups on
# reaches the running nodes (a group's tags reach only the instances it launches later). A fleet
# without backups has no parameter. Fails when the parameter cannot be read.
backup_location() {
  if [ -n "${CACHEFLEET_BACKUP_LOCATION:-}" ]; then
    printf '%s\n' "${CACHEFLEET_BACKUP_LOCATION%/}"
    return 0
  fi
  [ "$PLATFORM" = aws ] || return 0
  aws_init || return 1
  bl_fleet=$(aws_setting FLEET fleet) || return 1
  if bl_out=$(aws ssm get-parameter --name "/cachefleet/$bl_fleet/backup-location" --query Parameter.Value --output text 2>&1); then
    printf '%s\n' "${bl_out%/}"
    return 0
  fi
  case $bl_out in
    *ParameterNotFound*) return 0 ;;
  esac
  log "error: cannot read /cachefleet/$bl_fleet/backup-location: $bl_out"
  return 1
}

# The set a restore reads, or nothing: a container's variable; on EC2 the instance's
# cachefleet:restore-from tag (set when the fleet is created: only a first start restores). A tag
# that is absent (404) is no restore; any other answer fails, rather than start a node empty that
# should have been restored.
# shellcheck disable=SC2154 # imds, retries, retry_delay: lib/common.sh's
restore_location() {
  if [ -n "${CACHEFLEET_RESTORE_FROM:-}" ]; then
    printf '%s\n' "${CACHEFLEET_RESTORE_FROM%/}"
    return 0
  fi
  [ "$PLATFORM" = aws ] || return 0
  aws_init || return 1
  rl_attempt=1
  while :; do
    rl_status=$(curl -sS --max-time 2 -o "$TMP_ROOT/restore-tag" -w '%{http_code}' -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" \
      "$imds/latest/meta-data/tags/instance/cachefleet:restore-from" 2>/dev/null)
    case $rl_status in
      200)
        sed 's:/*$::' "$TMP_ROOT/restore-tag"
        return 0
        ;;
      404) return 0 ;;
    esac
    [ "$rl_attempt" -lt "$retries" ] || {
      log "error: the instance metadata does not say whether to restore (tags/instance/cachefleet:restore-from: HTTP ${rl_status:-none})"
      return 1
    }
    rl_attempt=$((rl_attempt + 1))
    sleep "$retry_delay"
  done
}

# The fleet's shards as "<n>:<first>-<last>" words (cluster mode), or "0:" (one shard holds every key).
backup_shards() {
  if [ "$CF_KIND" = cluster ]; then printf '%s\n' "$CF_CLUSTER_SHARDS"; else printf '0:\n'; fi
}

# Whether a data node is a replica whose link to its primary is up and synced.
replica_in_sync() { # <address:port>
  ris_info=$(data_cli "${1%:*}" "${1##*:}" INFO replication 2>/dev/null) || return 1
  [ "$(reply_field "$ris_info" role)" = slave ] &&
    [ "$(reply_field "$ris_info" master_link_status)" = up ] &&
    [ "$(reply_field "$ris_info" master_sync_in_progress)" = 0 ]
}

# "<address:port> <role>" of the node a shard's backup is taken from: its first replica in sync,
# else its primary. In cluster mode the shard is whatever its master serves now (a failover moves it).
backup_source() { # <shard>
  if [ "$CF_KIND" = cluster ]; then
    bs_view=$(cluster_view "$CF_ADDRESS" "$CF_PORT")
    bs_master=$(shard_master "$bs_view" "$1")
    [ -n "$bs_master" ] || {
      log "error: no master serves shard $1"
      return 1
    }
    bs_candidates=$(printf '%s\n' "$bs_view" | awk -v m="${bs_master%% *}" '$3 ~ /slave/ && $3 !~ /fail/ && $4 == m { print $2 }')
    bs_primary=${bs_master#* }
  else
    bs_candidates=$CF_DATA_NODES
    bs_primary=
    for bs_node in $CF_DATA_NODES; do
      bs_role=$(reply_field "$(data_cli "${bs_node%:*}" "${bs_node##*:}" INFO replication 2>/dev/null)" role)
      if [ "$bs_role" = master ]; then
        [ -z "$bs_primary" ] || {
          log "error: two data nodes say they are the primary ($bs_primary, $bs_node): no backup until Sentinel settles it"
          return 1
        }
        bs_primary=$bs_node
      fi
    done
    [ -n "$bs_primary" ] || {
      log "error: no data node is a primary"
      return 1
    }
  fi
  for bs_node in $bs_candidates; do
    if replica_in_sync "$bs_node"; then
      printf '%s replica\n' "$bs_node"
      return 0
    fi
  done
  printf '%s primary\n' "$bs_primary"
}

# The hash slots a shard's master serves, as CLUSTER NODES lists them ("0-5460 ..."); nothing
# outside cluster mode.
shard_slots() { # <shard>
  [ "$CF_KIND" = cluster ] || return 0
  ss_view=$(cluster_view "$CF_ADDRESS" "$CF_PORT")
  ss_master=$(shard_master "$ss_view" "$1")
  printf '%s\n' "$ss_view" | awk -v id="${ss_master%% *}" '$1 == id { for (i = 6; i <= NF; i++) printf "%s%s", (i > 6 ? " " : ""), $i; print ""; exit }'
}

# Streams one shard's RDB from its source into <file>; prints "<address:port> <role> <keys> <slots>".
stream_shard() { # <shard> <file>
  ss_source=$(backup_source "$1") || return 1
  ss_node=${ss_source% *}
  ss_host=${ss_node%:*}
  ss_port=${ss_node##*:}
  ss_keys=$(data_cli "$ss_host" "$ss_port" INFO keyspace 2>/dev/null | awk -F'[=,]' '/^db[0-9]+:keys=/ { n += $2 } END { print n + 0 }')
  ss_slots=$(shard_slots "$1")
  log "backup: shard $1 from $ss_source ($ss_keys keys)"
  if ! (
    REDISCLI_AUTH=$ADMIN_PASSWORD
    export REDISCLI_AUTH
    with_timeout "$BACKUP_TIMEOUT" "$CLI" --no-auth-warning --user "$CF_ADMIN_USER" -h "$ss_host" -p "$ss_port" --rdb "$2"
  ) >"$TMP_ROOT/rdb.out" 2>&1; then
    log "error: the RDB of shard $1 could not be streamed from $ss_node: $(tail -n 2 "$TMP_ROOT/rdb.out" | tr '\n' ' ')"
    return 1
  fi
  [ "$(head -c 5 "$2")" = REDIS ] || {
    log "error: what $ss_node sent for shard $1 is not an RDB"
    return 1
  }
  printf '%s %s %s\n' "$ss_source" "$ss_keys" "$ss_slots"
}

# The hex SHA-256 of a file: OpenSSL's where it is installed (it uses the CPU's SHA instructions:
# 0.8 s for 1 GB here, against 2.9 s for sha256sum), else coreutils'.
sha256_of() { # <file>
  if command -v openssl >/dev/null 2>&1; then
    openssl dgst -sha256 -r "$1" | cut -d' ' -f1
  else
    sha256sum "$1" | cut -d' ' -f1
  fi
}

# The manifest of one shard's RDB: what a restore checks, and what a reader needs to know of it.
write_manifest() { # <file> <set> <shard> <rdb> <source> <role> <keys> <slots>
  wm_rdb_version=$(head -c 9 "$4" | tail -c 4)
  cat >"$1" <<JSON
{
  "format": 1,
  "fleet": "$CF_FLEET_NAME",
  "set": "$2",
  "engine": "$CF_ENGINE",
  "engineVersion": "$CF_ENGINE_VERSION",
  "rdbVersion": "$wm_rdb_version",
  "shards": $(backup_shards | wc -w),
  "shard": $3,
  "slots": "$8",
  "keys": $7,
  "size": $(wc -c <"$4"),
  "sha256": "$(sha256_of "$4")",
  "time": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "sourceNode": "$5",
  "sourceRole": "$6"
}
JSON
}

# A string or number field of a manifest.
manifest_field() { # <file> <field>
  sed -n "s/^ *\"$2\": *\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$1" | head -n 1
}

# Takes backup set <set> into <location>, unless another node has claimed it. Prints the set's
# address when this node took it.
backup_take() { # <location> <set>
  case $2 in
    '' | *[!a-z0-9-]* | -*) die "backup: a backup's name is lower-case letters, digits and hyphens, not '$2'" ;;
  esac
  store_claim "$1" "$2/$BACKUP_LOCK" "$SLOT $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  case $? in
    0) ;;
    1)
      log "backup: $1/$2 is taken by another node"
      return 0
      ;;
    *) die "backup: cannot claim $1/$2" ;;
  esac
  for bt_word in $(backup_shards); do
    bt_shard=${bt_word%%:*}
    bt_name=$(backup_rdb_name "$bt_shard")
    # A directory location takes the stream itself (renamed once complete): no second copy of the
    # RDB is written. An S3 location gets it from the temporary directory.
    case $1 in
      /*) bt_rdb=$1/$2/$bt_name.part ;;
      *) bt_rdb=$TMP_ROOT/$bt_name ;;
    esac
    bt_taken=$(stream_shard "$bt_shard" "$bt_rdb") || {
      rm -f "$bt_rdb"
      die "backup: $1/$2 failed at shard $bt_shard"
    }
    read -r bt_source bt_role bt_keys bt_slots <<TAKEN
$bt_taken
TAKEN
    write_manifest "$TMP_ROOT/manifest" "$2" "$bt_shard" "$bt_rdb" "$bt_source" "$bt_role" "$bt_keys" "$bt_slots"
    case $1 in
      /*) mv -f "$bt_rdb" "$1/$2/$bt_name" || die "backup: cannot write $1/$2/$bt_name" ;;
      *)
        store_put "$1" "$bt_rdb" "$2/$bt_name" || die "backup: cannot write $1/$2/$bt_name"
        rm -f "$bt_rdb"
        ;;
    esac
    store_put "$1" "$TMP_ROOT/manifest" "$2/$(backup_manifest_name "$bt_shard")" || die "backup: cannot write $1/$2/$(backup_manifest_name "$bt_shard")"
  done
  log "backup: $1/$2 taken"
  printf '%s/%s\n' "$1" "$2"
}

# Whether a scheduled backup is due: in the window, with a retention. Sets DUE_SET, the set it
# takes (scheduled-<yyyymmdd> of the day the window began: a window past midnight belongs to the day
# before), and DUE_START, when that window began (seconds since the epoch).
backup_due() {
  [ "${CF_BACKUP_RETENTION_DAYS:-0}" -gt 0 ] || return 1
  bd_now=$(now)
  bd_into=$((((bd_now % 86400) / 60 - CF_BACKUP_WINDOW_START + 1440) % 1440))
  [ "$bd_into" -lt "$CF_BACKUP_WINDOW_MINUTES" ] || return 1
  DUE_START=$((bd_now - bd_into * 60 - bd_now % 60))
  # shellcheck disable=SC2034 # read by the agent's backup-if-due
  DUE_SET=scheduled-$(date -u -d "@$DUE_START" +%Y%m%d)
}

# Removes a directory location's scheduled sets of days before the last CF_BACKUP_RETENTION_DAYS,
# counted back from the day of the window that began at <start>: with one a day, exactly the
# retention's number of them stay. On-demand sets stay until removed. (An S3 location expires
# objects by the bucket's lifecycle rule.)
rotate_backups() { # <location> <start>
  case $1 in /*) ;; *) return 0 ;; esac
  rb_oldest=$(date -u -d "@$(($2 - (CF_BACKUP_RETENTION_DAYS - 1) * 86400))" +%Y%m%d)
  for rb_set in "$1"/scheduled-*; do
    [ -d "$rb_set" ] || continue
    rb_day=${rb_set##*/scheduled-}
    case $rb_day in ????????) ;; *) continue ;; esac
    if [ "$rb_day" -lt "$rb_oldest" ]; then
      rm -rf "$rb_set" && log "backup: removed $rb_set (older than $CF_BACKUP_RETENTION_DAYS days)"
    fi
  done
}

# ---------------------------------------------------------------------------------------------
# Restore
# ---------------------------------------------------------------------------------------------

# Whether a data directory holds an engine's data (an RDB, an append-only file, a cluster state).
data_dir_holds_data() { # <directory>
  for dh_file in "$1/$CF_RDB_FILE" "$1"/appendonlydir "$1"/*.aof "$1/nodes.conf"; do
    [ -e "$dh_file" ] && return 0
  done
  return 1
}

# Whether another node of the fleet already serves data: then this node's empty directory is a lost
# state to be healed from its peers, never a backup to go back to. In cluster mode, a formed cluster
# (cluster_exists): another shard's primary restored a moment earlier serves the slots of its keys
# alone, and is no reason to start empty.
fleet_serves_elsewhere() {
  if [ "$CF_KIND" = cluster ]; then
    cluster_exists
    return
  fi
  for fs_node in $CF_DATA_NODES; do
    [ "$fs_node" != "$CF_ADDRESS:$CF_PORT" ] || continue
    fs_info=$(data_cli "${fs_node%:*}" "${fs_node##*:}" INFO replication 2>/dev/null) || continue
    [ "$(reply_field "$fs_info" role)" = master ] && return 0
    [ "$(reply_field "$fs_info" master_link_status)" = up ] && return 0
  done
  return 1
}

# Whether the rendered configuration turns the append-only file on.
appendonly_on() {
  [ "$(awk '$1 == "appendonly" { v = $2 } END { print v }' "$CONFIG_DIR/redis.conf")" = yes ]
}

# Puts a checked RDB where the engine loads it at its first start: the RDB file, or with the
# append-only file on, that file's base (the engine would otherwise start from an empty AOF and
# ignore the RDB): Redis 7 and Valkey's appendonlydir with its manifest, Redis 6.2's appendonly.aof
# (an RDB preamble is a valid AOF).
place_rdb() { # <rdb> <data directory>
  if ! appendonly_on; then
    mv -f "$1" "$2/$CF_RDB_FILE"
    return
  fi
  case $CF_ENGINE:$CF_ENGINE_VERSION in
    redis:6.*) mv -f "$1" "$2/appendonly.aof" ;;
    *)
      mkdir -p "$2/appendonlydir" &&
        mv -f "$1" "$2/appendonlydir/appendonly.aof.1.base.rdb" &&
        printf 'file appendonly.aof.1.base.rdb seq 1 type b\n' >"$2/appendonlydir/appendonly.aof.manifest"
      ;;
  esac
}

RESTORED_MARK=restored-from

# Seeds this node's empty data directory from the restore location, when it is a shard's planned
# primary of a fleet that serves nothing yet. Dies, naming the object, on anything missing or wrong.
restore_if_asked() {
  tmp_root
  ri_from=$(restore_location) || die "restore: cannot tell whether this fleet restores from a backup"
  [ -n "$ri_from" ] || return 0
  ri_data=$STATE_DIR/redis/data
  if [ "$CF_ROLE" != primary ]; then
    log "restore: a replica takes its primary's data, not $ri_from"
    return 0
  fi
  if data_dir_holds_data "$ri_data"; then
    log "restore: not from $ri_from: $ri_data holds data already (a restore never overwrites data)"
    return 0
  fi
  if fleet_serves_elsewhere; then
    log "restore: not from $ri_from: the fleet serves data already; this node takes its state from it"
    return 0
  fi
  ri_shard=${CF_SHARD:-0}
  ri_manifest_name=$(backup_manifest_name "$ri_shard")
  ri_rdb_name=$(backup_rdb_name "$ri_shard")
  store_get "$ri_from" "$ri_manifest_name" "$TMP_ROOT/restore.json" ||
    die "restore: cannot read $ri_from/$ri_manifest_name (a missing or unreadable backup: not starting without its data)"
  ri_shards=$(manifest_field "$TMP_ROOT/restore.json" shards)
  ri_planned=$(backup_shards | wc -w)
  [ "$ri_shards" = "$ri_planned" ] ||
    die "restore: $ri_from holds a backup of ${ri_shards:-an unknown number of} shards; this fleet has $ri_planned (restore into a group of the backup's shard count)"
  if [ "$CF_KIND" = cluster ]; then
    ri_range=$(shard_range "$ri_shard" | tr ' ' '-')
    ri_slots=$(manifest_field "$TMP_ROOT/restore.json" slots)
    [ "$ri_slots" = "$ri_range" ] ||
      die "restore: $ri_from/$ri_manifest_name holds slots '$ri_slots'; shard $ri_shard serves $ri_range (the backup was taken while slots were moving)"
  fi
  ri_sha=$(manifest_field "$TMP_ROOT/restore.json" sha256)
  ri_size=$(manifest_field "$TMP_ROOT/restore.json" size)
  # Downloaded beside the data directory (the same filesystem): renamed into it once checked.
  ri_part=$STATE_DIR/redis/restore.part
  store_get "$ri_from" "$ri_rdb_name" "$ri_part" ||
    die "restore: cannot read $ri_from/$ri_rdb_name (a missing or unreadable backup: not starting without its data)"
  ri_got_size=$(wc -c <"$ri_part")
  ri_got_sha=$(sha256_of "$ri_part")
  if [ "$ri_got_size" != "$ri_size" ] || [ "$ri_got_sha" != "$ri_sha" ]; then
    rm -f "$ri_part"
    die "restore: $ri_from/$ri_rdb_name is $ri_got_size bytes with SHA-256 $ri_got_sha; its manifest says $ri_size bytes, $ri_sha (a truncated or altered backup: not starting without its data)"
  fi
  place_rdb "$ri_part" "$ri_data" || die "restore: cannot place $ri_from/$ri_rdb_name in $ri_data"
  printf '%s %s\n' "$ri_from/$ri_rdb_name" "$ri_sha" >"$STATE_DIR/redis/$RESTORED_MARK"
  log "restore: $ri_data seeded from $ri_from/$ri_rdb_name ($(manifest_field "$TMP_ROOT/restore.json" keys) keys at the backup)"
}
