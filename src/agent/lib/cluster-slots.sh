# shellcheck shell=sh
# cachefleet: online resharding of a cluster-mode group (POSIX sh, prefixed globals, no `local`),
# sourced by the node agent after lib/common.sh (log, die).
#
# Entry points (each idempotent: a run on a balanced cluster moves nothing):
#   cluster_rebalance              every master of a planned shard ends with 16384/S slots (±1), every
#                                  other master with none (scale-out: the new shards receive slots)
#   cluster_drain <ip> <port>      the master at ip:port gives every slot to the other planned shards,
#                                  balanced; 0 only once it owns no slot
#   cluster_forget_absent          every planned node forgets the nodes whose address the plan lacks,
#                                  once they own no slot
# They print one line on stdout, `moved <slots>` (forget: `forgot <nodes>`), and exit 0 when done,
# CLUSTER_BUSY (75) when another driver holds the lease (nothing moved), 1 on an error (the next run
# resumes). Each runs in a subshell: `die` ends the run, the lease is released on the way out.
#
# What the agent provides:
#   cluster_cli <ip> <port> [cli options] [command...]   the engine CLI as the admin user (password in
#       REDISCLI_AUTH), options such as -c and --no-raw passed through, the commands read from stdin
#       when none is given (one call carries a batch: bound it by a timeout well above
#       CACHEFLEET_RESHARD_MIGRATE_TIMEOUT_MS, not by the agent's short query timeout)
#   CF_CLUSTER_SHARDS, CF_CLUSTER_NODES, CF_ADMIN_USER (fleet.env) and ADMIN_PASSWORD (the admin
#       secret: MIGRATE authenticates to the target with it, through stdin, never argv)
#   CLUSTER_SELF (optional) <ip>:<port> of the node the driver runs on: asked first, and its cluster
#       id names the lease
#
# How a slot moves is the engine's own migration, as `redis-cli --cluster reshard` does it: the
# target IMPORTING, the source MIGRATING, the keys in batches (CLUSTER GETKEYSINSLOT + MIGRATE, as the
# admin user through MIGRATE's AUTH2), then SETSLOT NODE on the target, the source and every other
# master. Up to CACHEFLEET_RESHARD_BATCH_SLOTS slots between one source and one target move together,
# one CLI call per step and node, each command a line of its stdin.
#
# Settings (environment, with their defaults): CACHEFLEET_RESHARD_BATCH_SLOTS (128 slots moved
# together), CACHEFLEET_RESHARD_BATCH_KEYS (100 keys per MIGRATE), CACHEFLEET_RESHARD_MIGRATE_TIMEOUT_MS
# (10000), CACHEFLEET_RESHARD_LEASE_MS (60000), CACHEFLEET_RESHARD_LEASE_WAIT (0 seconds).
#
# Redis 7.0 and Valkey 8.0 have no atomic slot migration (Valkey 9.0 adds one); every version with
# Cluster has this one.
#
# Changing replicasPerShard moves no slot: a replica holds none. New replicas join through the
# agent's healing (CLUSTER REPLICATE), removed ones leave through cluster_forget_absent.

CLUSTER_SLOTS=16384
CLUSTER_BUSY=75
# The lease's key. Users see it in SCAN while a driver runs; it expires on its own.
CLUSTER_LEASE_KEY=cachefleet:reshard-lock

cs_batch_slots=${CACHEFLEET_RESHARD_BATCH_SLOTS:-128}
cs_batch_keys=${CACHEFLEET_RESHARD_BATCH_KEYS:-100}
cs_migrate_timeout=${CACHEFLEET_RESHARD_MIGRATE_TIMEOUT_MS:-10000}
cs_lease_ms=${CACHEFLEET_RESHARD_LEASE_MS:-60000}
cs_lease_wait=${CACHEFLEET_RESHARD_LEASE_WAIT:-0}

# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------

cluster_rebalance() (
  cs_start
  cs_drive ''
)

cluster_drain() ( # <ip> <port>
  [ $# -eq 2 ] || die "cluster_drain: usage: cluster_drain <ip> <port>"
  cs_start
  cs_drive "$1:$2"
  cs_read_state "$1:$2"
  # The drained node answers for itself: 0 only once it claims no slot.
  cs_left=$(awk -v a="$1:$2" '$1 == "M" && $3 == a { print $5 }' "$cs_dir/state")
  [ "${cs_left:-0}" -eq 0 ] || die "cluster_drain: $1:$2 still owns $cs_left slots"
)

cluster_forget_absent() (
  cs_start
  cs_read_state ''
  # A planned replica cannot forget its own master: that would need a failover first.
  awk '
    $1 == "A" { absent[$2] = $3 }
    $1 == "R" && $4 != "" { master[$2] = $4; addr[$2] = $3 }
    $1 == "M" && $5 > 0 { slots[$2] = $5 }
    END {
      for (id in absent) {
        if (id in slots) { printf "keep %s %s owns %d slots\n", id, absent[id], slots[id]; continue }
        blocked = ""
        for (r in master) if (master[r] == id && !(r in absent)) blocked = addr[r]
        if (blocked != "") { printf "keep %s %s is the master of the planned replica %s\n", id, absent[id], blocked; continue }
        printf "forget %s %s\n", id, absent[id]
      }
    }' "$cs_dir/state" >"$cs_dir/forget"
  cs_status=0
  while read -r cs_what cs_id cs_why; do
    [ "$cs_what" = keep ] || continue
    log "cluster: not forgetting $cs_id yet: $cs_why"
    cs_status=1
  done <"$cs_dir/forget"
  cs_forgot=0
  if grep -q '^forget ' "$cs_dir/forget"; then
    # Every planned node, replicas too, within the engine's 60 s ban: a node that still knows a
    # forgotten one would teach it back to the others.
    for cs_node in $(cs_planned_addresses); do
      cs_known=$(cs_cli "$cs_node" CLUSTER NODES 2>/dev/null) || cs_known=
      if [ -z "$cs_known" ]; then
        log "cluster: $cs_node does not answer; it may still list the absent nodes"
        cs_status=1
        continue
      fi
      printf '%s\n' "$cs_known" | awk 'NR == FNR { if ($1 == "forget") f[$2] = 1; next } ($1 in f) && $3 !~ /myself/ { print "CLUSTER FORGET " $1 }' "$cs_dir/forget" - >"$cs_dir/forget.cmd"
      [ -s "$cs_dir/forget.cmd" ] || continue
      cluster_cli "${cs_node%:*}" "${cs_node##*:}" --no-raw <"$cs_dir/forget.cmd" >"$cs_dir/forget.out" 2>&1
      cs_sent=$(wc -l <"$cs_dir/forget.cmd")
      cs_ok=$(grep -c '^OK$' "$cs_dir/forget.out")
      if [ "$cs_ok" -ne "$cs_sent" ]; then
        log "cluster: $cs_node forgot $cs_ok of $cs_sent absent nodes: $(grep -v '^OK$' "$cs_dir/forget.out" | head -n 3 | tr '\n' ' ')"
        cs_status=1
      fi
      cs_forgot=$((cs_forgot + cs_ok))
    done
  fi
  printf 'forgot %s\n' "$cs_forgot"
  exit "$cs_status"
)

# ---------------------------------------------------------------------------------------------
# The run: a private directory, the lease, resume, balance
# ---------------------------------------------------------------------------------------------

cs_start() {
  cs_dir=$(mktemp -d "${TMPDIR:-/tmp}/cachefleet-reshard.XXXXXX") || die "cluster: cannot create a temporary directory"
  cs_token=
  trap 'cs_finish' EXIT
  trap 'exit 1' HUP INT TERM
  cs_moved=0
}

cs_finish() {
  if [ -n "$cs_token" ]; then cs_lease_release; fi
  rm -rf "$cs_dir"
}

# Moves slots until the cluster is balanced (excluding the master at $1, when given): first the
# slots an earlier run left half-moved, then the plan's moves. Prints `moved <n>`.
cs_drive() { # <excluded ip:port or empty>
  cs_read_state "$1"
  cs_lease_acquire || exit "$CLUSTER_BUSY"
  cs_round=0
  while :; do
    cs_round=$((cs_round + 1))
    [ "$cs_round" -le 6 ] || die "cluster: still not balanced after $((cs_round - 1)) passes"
    cs_read_state "$1"
    cs_check_health
    cs_resume_plan >"$cs_dir/moves" || exit 1
    if [ ! -s "$cs_dir/moves" ]; then
      if cs_attach_replicas; then continue; fi
      cs_balance_plan "$1" >"$cs_dir/moves" || exit 1
      [ -s "$cs_dir/moves" ] || break
      cs_keep_emptied_masters
    else
      log "cluster: resuming $(wc -l <"$cs_dir/moves") half-moved slots"
    fi
    cs_run_moves "$cs_dir/moves"
  done
  printf 'moved %s\n' "$cs_moved"
}

# The planned data nodes' addresses, in the plan's order (each shard's planned primary first).
cs_planned_addresses() {
  for cs_entry in $CF_CLUSTER_NODES; do
    cs_rest=${cs_entry#*:}
    printf '%s\n' "${cs_rest%:*}"
  done
}

# Writes $cs_dir/state from the masters' own accounts of themselves (each master's `myself` line:
# the slots it claims and the ones it is migrating or importing, which only it reports):
#   M <id> <ip:port> <epoch> <slot count> <shard or -> <planned 0|1> <excluded 0|1> (the shard of
#                                     its address, else that of its planned replicas)
#   S <id> <slot>                     a slot the master claims
#   O <id> migrating|importing <slot> <other id>
#   R <id> <ip:port> <master id>      a replica
#   A <id> <ip:port>                  a node whose address the plan lacks
#   X <id> <ip:port> <flags> <n>      a master that did not answer or is failing (n: the slot
#                                     ranges the view lists for it)
cs_read_state() { # <excluded ip:port or empty>
  cs_view=
  for cs_node in ${CLUSTER_SELF:-} ${1:-} $(cs_planned_addresses); do
    cs_view=$(cs_cli "$cs_node" CLUSTER NODES 2>/dev/null) || cs_view=
    case $cs_view in *myself*) break ;; *) cs_view= ;; esac
  done
  [ -n "$cs_view" ] || die "cluster: no planned node answers CLUSTER NODES"
  printf '%s\n' "$cs_view" >"$cs_dir/view"
  : >"$cs_dir/selves"
  # Masters answer for themselves; a replica's view of slots may lag behind.
  cs_masters=$(awk '$3 ~ /master/ && $3 !~ /fail|handshake|noaddr/ { a = $2; sub(/@.*/, "", a); print a }' "$cs_dir/view")
  for cs_node in $cs_masters; do
    cs_self=$(cs_cli "$cs_node" CLUSTER NODES 2>/dev/null | awk '$3 ~ /myself/') || cs_self=
    if [ -n "$cs_self" ]; then printf '%s\n' "$cs_self" >>"$cs_dir/selves"; fi
  done
  CS_SHARDS=$CF_CLUSTER_SHARDS CS_NODES=$CF_CLUSTER_NODES awk -v excluded="${1:-}" '
    function address(field) { sub(/@.*/, "", field); return field }
    BEGIN {
      n = split(ENVIRON["CS_NODES"], entries, " ")
      for (i = 1; i <= n; i++) {
        split(entries[i], part, ":")
        planned[part[2] ":" part[3]] = part[4]
      }
    }
    NR == FNR {
      addr = address($2)
      if (!(addr in planned)) print "A", $1, addr
      if ($3 ~ /slave/) { print "R", $1, addr, $4; if (addr in planned) replicaShard[$4] = planned[addr] }
      else if ($3 ~ /master/ && $3 ~ /fail|handshake|noaddr/) print "X", $1, addr, $3, NF - 8
      else if ($3 ~ /master/) { viewed[$1] = addr; listed[$1] = NF - 8 }
      next
    }
    {
      id = $1; addr = address($2); answered[id] = 1; count = 0
      for (i = 9; i <= NF; i++) {
        item = $i
        if (item ~ /^\[/) {
          gsub(/[\[\]]/, "", item)
          if (item ~ /->-/) { split(item, p, "->-"); print "O", id, "migrating", p[1], p[2] }
          else { split(item, p, "-<-"); print "O", id, "importing", p[1], p[2] }
          continue
        }
        split(item, r, "-"); last = (r[2] == "" ? r[1] : r[2])
        for (s = r[1] + 0; s <= last + 0; s++) { print "S", id, s; count++ }
      }
      # A master at an address the plan lacks, with a replica at a planned address, belongs to the
      # shard of that replica: a replica the cluster promoted, on a node a lower replica count
      # removes (its leave hands the shard over to the planned replica). Its slots stay put.
      shard = (addr in planned) ? planned[addr] : (id in replicaShard) ? replicaShard[id] : "-"
      print "M", id, addr, $7, count, shard, (addr in planned ? 1 : 0), (addr == excluded ? 1 : 0)
    }
    END { for (id in viewed) if (!(id in answered)) print "X", id, viewed[id], "unanswered", listed[id] + 0 }
  ' "$cs_dir/view" "$cs_dir/selves" >"$cs_dir/state"
}

# Resharding waits for a healthy cluster: every master that owns slots answers and none is failing
# (an empty one that is down, a node being removed, does not matter).
cs_check_health() {
  cs_bad=$(awk '$1 == "X" && $5 > 0 { printf "%s (%s) ", $3, $4 }' "$cs_dir/state")
  [ -z "$cs_bad" ] || die "cluster: a master is unreachable or failing, resharding waits: $cs_bad"
  cs_slots=$(awk '$1 == "S" && !seen[$3]++ { n++ } END { print n + 0 }' "$cs_dir/state")
  [ "$cs_slots" -eq "$CLUSTER_SLOTS" ] || die "cluster: the masters claim $cs_slots of $CLUSTER_SLOTS slots (is the cluster formed?)"
}

# ---------------------------------------------------------------------------------------------
# Planning. A move is one line: <slot> <source id> <target id> <import 0|1> <migrate 0|1>
# (whether the target still needs IMPORTING, the source MIGRATING).
# ---------------------------------------------------------------------------------------------

# Slots an earlier run left open. A migrating slot whose target is a live master is finished. One
# whose target is not rolls back (SETSLOT STABLE on the source, which keeps the slot) only when the
# target answers and holds none of the slot's keys; otherwise the run stops, naming the slot, as
# only an operator can tell which copy is right. An importing slot whose source stopped migrating
# (it failed over, or the run stopped between IMPORTING and MIGRATING) is finished from its owner.
cs_resume_plan() {
  awk '
    $1 == "M" { live[$2] = 1; epoch[$2] = $4 }
    $1 == "S" { if (!($3 in owner) || epoch[$2] > epoch[owner[$3]]) owner[$3] = $2 }
    $1 == "O" && $3 == "migrating" { mig[$4] = $2; migto[$4] = $5 }
    $1 == "O" && $3 == "importing" { imp[$4] = $2; impfrom[$4] = $5 }
    END {
      for (s in mig) {
        src = mig[s]; dst = migto[s]
        if (dst in live) print s, src, dst, (owner[s] != dst && !(imp[s] == dst && impfrom[s] == src) ? 1 : 0), 0
        else print "rollback", s, src, dst
      }
      for (s in imp) {
        if (s in mig && migto[s] == imp[s]) continue
        dst = imp[s]; o = owner[s]
        if (o == dst) print "stable", s, dst
        else if (o in live && o == impfrom[s] && !(s in mig)) print s, o, dst, 0, 1
        else if (o in live && !(s in mig)) print "stale", s, dst, o
        else if (!(s in mig)) print "stuck", s, dst, "its owner " o " is not a live master"
      }
    }' "$cs_dir/state" | sort -k2,2 -k3,3 -k1,1n >"$cs_dir/resume"
  cs_status=0
  while read -r cs_a cs_b cs_c cs_d cs_e; do
    case $cs_a in
      rollback) cs_rollback "$cs_b" "$cs_c" "$cs_d" || cs_status=1 ;;
      stable)
        cs_node=$(cs_address_of "$cs_c")
        cs_cli "$cs_node" CLUSTER SETSLOT "$cs_b" STABLE >/dev/null 2>&1 || cs_status=1
        ;;
      stale)
        # Importing from a node that no longer owns the slot: nothing to finish when the target
        # holds none of its keys; else the keys it has are finished from the owner.
        cs_node=$(cs_address_of "$cs_c")
        cs_keys=$(cs_cli "$cs_node" CLUSTER COUNTKEYSINSLOT "$cs_b" 2>/dev/null) || cs_keys=
        case $cs_keys in
          0) cs_cli "$cs_node" CLUSTER SETSLOT "$cs_b" STABLE >/dev/null 2>&1 || cs_status=1 ;;
          '' | *[!0-9]*) cs_status=1 ;;
          *) printf '%s %s %s 0 1\n' "$cs_b" "$cs_d" "$cs_c" ;;
        esac
        ;;
      stuck)
        log "cluster: slot $cs_b is importing on $cs_c but $cs_d $cs_e"
        cs_status=1
        ;;
      *) printf '%s %s %s %s %s\n' "$cs_a" "$cs_b" "$cs_c" "$cs_d" "$cs_e" ;;
    esac
  done <"$cs_dir/resume"
  return "$cs_status"
}

cs_rollback() { # <slot> <source id> <target id>
  cs_src=$(cs_address_of "$2")
  cs_dst=$(awk -v id="$3" '$2 == id && ($1 == "R" || $1 == "X") { print $3; exit }' "$cs_dir/state")
  cs_keys=
  if [ -n "$cs_dst" ]; then
    cs_keys=$(cs_cli "$cs_dst" CLUSTER COUNTKEYSINSLOT "$1" 2>/dev/null) || cs_keys=
  fi
  case $cs_keys in
    0) ;;
    '')
      log "cluster: slot $1 was moving from $cs_src to $3, which is no longer a master and does not answer: cannot tell whether it holds keys of the slot"
      return 1
      ;;
    *)
      log "cluster: slot $1 was moving from $cs_src to $cs_dst, no longer a master, which holds $cs_keys of its keys: not rolling back"
      return 1
      ;;
  esac
  log "cluster: slot $1 rolls back to $cs_src (its target $cs_dst is no longer a master and holds none of its keys)"
  cs_cli "$cs_src" CLUSTER SETSLOT "$1" STABLE >/dev/null 2>&1 || return 1
  cs_cli "$cs_dst" CLUSTER SETSLOT "$1" STABLE >/dev/null 2>&1 || true
}

# awk: the master that owns planned shard s (its "member"): of the masters at the shard's planned
# addresses, the one with the most slots; on a tie (a new shard's empty masters), the shard's
# planned primary, else the first listed. Needs id[1..m], addr[], count[], shard[], excluded[] and
# CS_NODES in the environment (each shard's planned primary first).
CS_MEMBER_AWK='
  function cs_member(s,   j, x, best, n, k, e, part) {
    if (!cs_primaries_read) {
      n = split(ENVIRON["CS_NODES"], e, " ")
      for (k = 1; k <= n; k++) { split(e[k], part, ":"); if (!(part[4] in cs_primary)) cs_primary[part[4]] = part[2] ":" part[3] }
      cs_primaries_read = 1
    }
    best = ""
    for (j = 1; j <= m; j++) {
      x = id[j]
      if (shard[x] != s || excluded[x]) continue
      if (best == "" || count[x] > count[best] || (count[x] == count[best] && addr[x] == cs_primary[s])) best = x
    }
    return best
  }'

# The balanced target. The masters that own a planned shard (the master at that shard's planned
# addresses with the most slots) share the slots: 16384/S each, the remainder's extra slot to those
# that already hold the most, so that a balanced cluster needs no move. Every other master (a shard
# being removed, the drained one, a second master of a shard) owns none. Donors give their highest
# slots; those leaving the cluster first.
cs_balance_plan() { # <excluded ip:port or empty>
  CS_SHARDS=$CF_CLUSTER_SHARDS CS_NODES=$CF_CLUSTER_NODES awk -v total="$CLUSTER_SLOTS" "$CS_MEMBER_AWK"'
    $1 == "M" {
      id[++m] = $2; addr[$2] = $3; count[$2] = $5; shard[$2] = $6; excluded[$2] = $8
      next
    }
    $1 == "S" { slots[$2] = slots[$2] " " $3 }
    END {
      k = split(ENVIRON["CS_SHARDS"], planned, " ")
      for (i = 1; i <= k; i++) {
        split(planned[i], p, ":"); s = p[1]
        best = cs_member(s)
        if (best == "") {
          if (!isExcludedShard(s)) { printf "cluster: shard %s has no master in the cluster yet\n", s > "/dev/stderr"; failed = 1 }
          continue
        }
        member[best] = 1; n++
      }
      if (failed || n == 0) exit 1
      base = int(total / n); extra = total % n
      # Members by slots held, most first (then by id, for a stable order).
      for (j = 1; j <= m; j++) if (id[j] in member) order[++o] = id[j]
      for (a = 1; a <= o; a++) for (b = a + 1; b <= o; b++)
        if (count[order[b]] > count[order[a]] || (count[order[b]] == count[order[a]] && shard[order[b]] < shard[order[a]])) { t = order[a]; order[a] = order[b]; order[b] = t }
      for (a = 1; a <= o; a++) target[order[a]] = base + (a <= extra ? 1 : 0)
      # Donors: leaving masters first, then members above their target; receivers by shard.
      d = 0
      for (j = 1; j <= m; j++) if (!(id[j] in member) && count[id[j]] > 0) donor[++d] = id[j]
      for (a = 1; a <= o; a++) if (count[order[a]] > target[order[a]]) donor[++d] = order[a]
      r = 0
      for (a = 1; a <= o; a++) if (count[order[a]] < target[order[a]]) receiver[++r] = order[a]
      for (a = 1; a <= r; a++) for (b = a + 1; b <= r; b++)
        if (shard[receiver[b]] < shard[receiver[a]]) { t = receiver[a]; receiver[a] = receiver[b]; receiver[b] = t }
      ri = 1
      for (a = 1; a <= d; a++) {
        x = donor[a]
        give = count[x] - (x in member ? target[x] : 0)
        c = split(slots[x], own, " ")
        # Slot lists are ascending; give from the top.
        for (q = c; q >= 1 && give > 0; q--) {
          while (ri <= r && count[receiver[ri]] >= target[receiver[ri]]) ri++
          if (ri > r) break
          y = receiver[ri]
          print own[q], x, y, 1, 1
          count[y]++; give--
        }
      }
    }
    function isExcludedShard(s,   j) { for (j = 1; j <= m; j++) if (shard[id[j]] == s && excluded[id[j]]) return 1; return 0 }
  ' "$cs_dir/state" | sort -k2,2 -k3,3 -k1,1n
}

# A new shard's nodes join the cluster as empty masters (none can wait for another at its boot):
# every empty master at a planned shard's addresses other than the shard's member becomes the
# member's replica (CLUSTER REPLICATE), before the shard receives slots, so that the replicas copy
# an empty dataset and then follow the migration. Returns 0 when it changed a role (the caller reads
# the state again), 1 when there was nothing to attach.
cs_attach_replicas() {
  CS_SHARDS=$CF_CLUSTER_SHARDS CS_NODES=$CF_CLUSTER_NODES awk "$CS_MEMBER_AWK"'
    $1 == "M" { id[++m] = $2; addr[$2] = $3; count[$2] = $5; shard[$2] = $6; excluded[$2] = $8; planned[$2] = $7 }
    END {
      k = split(ENVIRON["CS_SHARDS"], sh, " ")
      for (i = 1; i <= k; i++) {
        split(sh[i], p, ":"); member = cs_member(p[1])
        if (member == "") continue
        for (j = 1; j <= m; j++) {
          x = id[j]
          if (x != member && shard[x] == p[1] && planned[x] && !excluded[x] && count[x] == 0) print addr[x], member
        }
      }
    }' "$cs_dir/state" >"$cs_dir/attach"
  [ -s "$cs_dir/attach" ] || return 1
  while read -r cs_node cs_member_id; do
    cs_reply=$(cs_cli "$cs_node" CLUSTER REPLICATE "$cs_member_id" 2>&1)
    [ "$cs_reply" = OK ] || die "cluster: $cs_node refused to replicate its shard's master $cs_member_id: $cs_reply"
    log "cluster: $cs_node, an empty master of a planned shard, replicates its shard's master $cs_member_id"
  done <"$cs_dir/attach"
  # The new replicas' masters learn of them through gossip: wait until the views agree.
  cs_wait=0
  while [ "$cs_wait" -lt 50 ]; do
    cs_read_state ''
    awk 'NR == FNR { want[$1] = 1; next } $1 == "M" && ($3 in want) { left = 1 } END { exit left }' "$cs_dir/attach" "$cs_dir/state" && return 0
    sleep 0.2
    cs_wait=$((cs_wait + 1))
  done
  die "cluster: the new replicas are still masters in the cluster's view after 10 s"
}

# A master about to lose its last slot stays an empty master, and its replicas stay its replicas:
# by default (cluster-allow-replica-migration yes) the engine turns them into replicas of whichever
# master took that slot, so nodes being removed would first copy another shard's whole dataset.
# Set at runtime only (these nodes are leaving); an engine without the setting (6.2) is left as is.
cs_keep_emptied_masters() {
  awk '
    $1 == "M" { addr[$2] = $3 }
    $1 == "R" { replicas[$4] = replicas[$4] " " $3 }
    FILENAME ~ /moves$/ { given[$2]++ }
    $1 == "S" && FILENAME !~ /moves$/ { owned[$2]++ }
    END { for (x in given) if (given[x] >= owned[x]) print addr[x] replicas[x] }
  ' "$cs_dir/state" "$cs_dir/moves" | tr ' ' '\n' | while read -r cs_node; do
    [ -n "$cs_node" ] || continue
    cs_cli "$cs_node" CONFIG SET cluster-allow-replica-migration no >/dev/null 2>&1 ||
      log "cluster: $cs_node keeps its cluster-allow-replica-migration"
  done
}

# The agent's CLI on one command line, reading nothing (callers may be reading a file).
cs_cli() { # <ip:port> [cli options] <command...>
  cs_cli_node=$1
  shift
  cluster_cli "${cs_cli_node%:*}" "${cs_cli_node##*:}" "$@" </dev/null
}

cs_address_of() { # <node id>
  awk -v id="$1" '($1 == "M" || $1 == "R" || $1 == "X") && $2 == id { print $3; exit }' "$cs_dir/state"
}

# ---------------------------------------------------------------------------------------------
# Moving slots
# ---------------------------------------------------------------------------------------------

# Runs the moves, in batches of one source and one target.
cs_run_moves() { # <moves file>
  : >"$cs_dir/batch"
  cs_batch_pair=
  while read -r cs_rm_slot cs_rm_src cs_rm_dst cs_rm_imp cs_rm_mig; do
    if [ "$cs_rm_src $cs_rm_dst" != "$cs_batch_pair" ] || [ "$(wc -l <"$cs_dir/batch")" -ge "$cs_batch_slots" ]; then
      if [ -s "$cs_dir/batch" ]; then cs_move_batch; fi
      : >"$cs_dir/batch"
      cs_batch_pair="$cs_rm_src $cs_rm_dst"
    fi
    printf '%s %s %s\n' "$cs_rm_slot" "$cs_rm_imp" "$cs_rm_mig" >>"$cs_dir/batch"
  done <"$1"
  if [ -s "$cs_dir/batch" ]; then cs_move_batch; fi
}

# One CLI call to a node with the commands of a file on its stdin; fails unless every reply is OK.
cs_expect_ok() { # <ip:port> <what> <commands file>
  [ -s "$3" ] || return 0
  cluster_cli "${1%:*}" "${1##*:}" --no-raw <"$3" >"$cs_dir/reply" 2>&1
  cs_sent=$(wc -l <"$3")
  cs_ok=$(grep -c '^OK$' "$cs_dir/reply")
  [ "$cs_ok" -eq "$cs_sent" ] || die "cluster: $2 on $1: $cs_ok of $cs_sent accepted: $(grep -v '^OK$' "$cs_dir/reply" | head -n 3 | tr '\n' ' ')"
}

# Moves the slots of $cs_dir/batch (<slot> <import> <migrate>) from one source to one target.
cs_move_batch() {
  cs_src_id=${cs_batch_pair% *}
  cs_dst_id=${cs_batch_pair#* }
  cs_src=$(cs_address_of "$cs_src_id")
  cs_dst=$(cs_address_of "$cs_dst_id")
  if [ -z "$cs_src" ] || [ -z "$cs_dst" ]; then die "cluster: no address for $cs_src_id or $cs_dst_id"; fi
  cs_lease_renew
  # A target that holds keys of a slot whose migration starts now (a slot left dirty, or a source
  # that failed over mid-migration) has copies this migration did not make: for those slots a
  # key on both sides is an error to resolve by hand, not a REPLACE.
  awk '$3 == 1 { print "ECHO \"slot:" $1 "\""; print "CLUSTER COUNTKEYSINSLOT " $1 }' "$cs_dir/batch" >"$cs_dir/count.cmd"
  : >"$cs_dir/noreplace"
  if [ -s "$cs_dir/count.cmd" ]; then
    cluster_cli "${cs_dst%:*}" "${cs_dst##*:}" --no-raw <"$cs_dir/count.cmd" >"$cs_dir/count.out" 2>&1
    awk '/^"slot:/ { gsub(/[^0-9]/, ""); s = $0; next } /^\(integer\) / { if ($2 > 0) print s; n++ } END { exit (n == 0) }' \
      "$cs_dir/count.out" >"$cs_dir/noreplace" || die "cluster: $cs_dst does not answer CLUSTER COUNTKEYSINSLOT"
  fi
  awk -v src="$cs_src_id" '$2 == 1 { print "CLUSTER SETSLOT " $1 " IMPORTING " src }' "$cs_dir/batch" >"$cs_dir/import.cmd"
  cs_expect_ok "$cs_dst" "SETSLOT IMPORTING" "$cs_dir/import.cmd"
  awk -v dst="$cs_dst_id" '$3 == 1 { print "CLUSTER SETSLOT " $1 " MIGRATING " dst }' "$cs_dir/batch" >"$cs_dir/migrate.cmd"
  cs_expect_ok "$cs_src" "SETSLOT MIGRATING" "$cs_dir/migrate.cmd"
  cs_migrate_keys
  # Renewed again before the batch's last writes: moving its keys may have taken most of a lease.
  cs_lease_renew
  # The target first: from then on it answers for the slot, even if the run stops here (the
  # source still redirects to it with ASK). Then the source, then everyone else (gossip would
  # tell them too; telling them saves clients a round of MOVED).
  awk -v dst="$cs_dst_id" '{ print "CLUSTER SETSLOT " $1 " NODE " dst }' "$cs_dir/batch" >"$cs_dir/node.cmd"
  cs_expect_ok "$cs_dst" "SETSLOT NODE (target)" "$cs_dir/node.cmd"
  cs_expect_ok "$cs_src" "SETSLOT NODE (source)" "$cs_dir/node.cmd"
  cs_others=$(awk -v a="$cs_src" -v b="$cs_dst" '$1 == "M" && $3 != a && $3 != b { print $3 }' "$cs_dir/state")
  for cs_node in $cs_others; do
    cluster_cli "${cs_node%:*}" "${cs_node##*:}" --no-raw <"$cs_dir/node.cmd" >/dev/null 2>&1 ||
      log "cluster: $cs_node did not take the new owners (gossip will tell it)"
  done
  cs_moved=$((cs_moved + $(wc -l <"$cs_dir/batch")))
}

# Moves every key of the batch's slots from the source to the target, CACHEFLEET_RESHARD_BATCH_KEYS
# keys of a slot per MIGRATE, until the source holds none. Keys travel as the CLI prints them with
# --no-raw (quoted, escaped) and are read back the same way: any byte survives.
#
# MIGRATE deletes a key on the source only once the target stored it, so a key is never lost; it
# runs on the server, so a driver killed meanwhile does not cut it short. A key is on both sides
# only when a MIGRATE's answer was lost (its timeout) after the target stored it. While the source
# is MIGRATING the slot, it serves every command for a key it still holds and sends clients to the
# target (ASK) only for keys it lacks: the target's copy of a key the source holds was never
# served to a client, and the source's copy has every acknowledged write. So that key, and only
# that one (the target answers BUSYKEY), is sent again with REPLACE; not for a slot whose target
# held keys before this migration began ($cs_dir/noreplace).
cs_migrate_keys() {
  awk '{ print $1 }' "$cs_dir/batch" >"$cs_dir/pending"
  : >"$cs_dir/replace"
  cs_rounds=0
  while [ -s "$cs_dir/pending" ]; do
    cs_lease_renew
    awk -v n="$cs_batch_keys" '{ print "ECHO \"slot:" $1 "\""; print "CLUSTER GETKEYSINSLOT " $1 " " n }' "$cs_dir/pending" >"$cs_dir/keys.cmd"
    cluster_cli "${cs_src%:*}" "${cs_src##*:}" --no-raw <"$cs_dir/keys.cmd" >"$cs_dir/keys.out" 2>&1
    cs_marks=$(grep -c '^"slot:' "$cs_dir/keys.out")
    if [ "$cs_marks" -ne "$(wc -l <"$cs_dir/pending")" ] || grep -q '^(error)' "$cs_dir/keys.out"; then
      die "cluster: CLUSTER GETKEYSINSLOT on $cs_src: $(grep -v '^"slot:' "$cs_dir/keys.out" | head -n 3 | tr '\n' ' ')"
    fi
    # One MIGRATE per slot that still has keys (a MIGRATE's keys share a slot); the password is
    # quoted for the CLI's parser and reaches awk through its environment only.
    CS_USER=$CF_ADMIN_USER CS_PASSWORD=$ADMIN_PASSWORD awk -v host="${cs_dst%:*}" -v port="${cs_dst##*:}" \
      -v timeout="$cs_migrate_timeout" -v slots="$cs_dir/pending" -v replacing="$cs_dir/replace" '
      function quoted(s,   out, c, i) {
        out = ""
        for (i = 1; i <= length(s); i++) {
          c = substr(s, i, 1)
          out = out ((c == "\\" || c == "\"") ? "\\" : "") c
        }
        return "\"" out "\""
      }
      function flush() {
        if (keys == "") return
        print "MIGRATE " host " " port " \"\" 0 " timeout ((slot in replace) ? " REPLACE" : "") \
          " AUTH2 " quoted(ENVIRON["CS_USER"]) " " quoted(ENVIRON["CS_PASSWORD"]) " KEYS" keys
        print slot > slots
        keys = ""
      }
      BEGIN { while ((getline line < replacing) > 0) replace[line] = 1; printf "" > slots }
      /^"slot:/ { flush(); slot = $0; gsub(/[^0-9]/, "", slot); next }
      /^ *[0-9]+\) "/ { sub(/^ *[0-9]+\) /, ""); keys = keys " " $0; next }
      END { flush() }
    ' "$cs_dir/keys.out" >"$cs_dir/move.cmd"
    [ -s "$cs_dir/move.cmd" ] || break
    cs_rounds=$((cs_rounds + 1))
    cluster_cli "${cs_src%:*}" "${cs_src##*:}" --no-raw <"$cs_dir/move.cmd" >"$cs_dir/move.out" 2>&1
    rm -f "$cs_dir/move.cmd"
    # One answer line per MIGRATE: OK, NOKEY (the keys expired meanwhile) or an error.
    paste -d ' ' "$cs_dir/pending" "$cs_dir/move.out" >"$cs_dir/answers"
    [ "$(wc -l <"$cs_dir/move.out")" -eq "$(wc -l <"$cs_dir/pending")" ] ||
      die "cluster: MIGRATE from $cs_src to $cs_dst: $(grep -v '^OK$' "$cs_dir/move.out" | head -n 3 | tr '\n' ' ')"
    while read -r cs_mk_slot cs_answer; do
      case $cs_answer in
        OK | NOKEY) ;;
        *BUSYKEY*)
          if grep -qx "$cs_mk_slot" "$cs_dir/noreplace"; then
            die "cluster: slot $cs_mk_slot: a key is on both $cs_src and $cs_dst, whose copy predates this migration; resolve it by hand"
          fi
          grep -qx "$cs_mk_slot" "$cs_dir/replace" || printf '%s\n' "$cs_mk_slot" >>"$cs_dir/replace"
          log "cluster: slot $cs_mk_slot: a key is on both sides (an earlier MIGRATE's answer was lost): sending the source's copy again with REPLACE"
          ;;
        *) die "cluster: MIGRATE of slot $cs_mk_slot from $cs_src to $cs_dst: $cs_answer" ;;
      esac
    done <"$cs_dir/answers"
    # Next round: the slots that had keys this round (a slot with none left has no line).
    sort -un "$cs_dir/pending" >"$cs_dir/pending.next"
    mv -f "$cs_dir/pending.next" "$cs_dir/pending"
  done
}

# ---------------------------------------------------------------------------------------------
# The lease: one driver at a time, decided in the cluster itself
# ---------------------------------------------------------------------------------------------
#
# SET cachefleet:reshard-lock <node id>:<nonce> NX PX <ms>, routed to the key's slot (-c follows
# MOVED and ASK, also while that slot itself moves). A lease rather than a lock: a driver that
# dies (its node lost, its process killed) cannot release it, and its lease expires after
# CACHEFLEET_RESHARD_LEASE_MS; the next run then takes it and resumes the half-moved slots. The
# holder renews it before every step, each shorter than the lease, and stops when it finds the
# lease gone or another's. A second driver waits CACHEFLEET_RESHARD_LEASE_WAIT seconds for it,
# then exits CLUSTER_BUSY having moved nothing.

cs_lease_call() { # <command...>: routed from the first answering master
  cs_lease_entry=${CLUSTER_SELF:-$(awk '$1 == "M" { print $3; exit }' "$cs_dir/state")}
  cs_cli "$cs_lease_entry" -c "$@" 2>/dev/null | tail -n 1
}

cs_lease_acquire() {
  cs_owner=$(awk '$3 ~ /myself/ { print $1; exit }' "$cs_dir/view")
  cs_nonce=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  cs_want="${cs_owner:-unknown}:$cs_nonce"
  cs_waited=0
  while :; do
    if [ "$(cs_lease_call SET "$CLUSTER_LEASE_KEY" "$cs_want" NX PX "$cs_lease_ms")" = OK ]; then
      cs_token=$cs_want
      return 0
    fi
    if [ "$cs_waited" -ge "$cs_lease_wait" ]; then
      log "cluster: another driver holds $CLUSTER_LEASE_KEY ($(cs_lease_call GET "$CLUSTER_LEASE_KEY")); not moving anything"
      printf 'moved 0\n'
      return 1
    fi
    sleep 1
    cs_waited=$((cs_waited + 1))
  done
}

cs_lease_renew() {
  cs_renewed=$(cs_lease_call EVAL "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0" 1 "$CLUSTER_LEASE_KEY" "$cs_token" "$cs_lease_ms")
  [ "$cs_renewed" = 1 ] || {
    cs_token=
    die "cluster: the lease $CLUSTER_LEASE_KEY is no longer ours (expired or taken); stopping"
  }
}

cs_lease_release() {
  cs_lease_call EVAL "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0" 1 "$CLUSTER_LEASE_KEY" "$cs_token" >/dev/null
  cs_token=
}
