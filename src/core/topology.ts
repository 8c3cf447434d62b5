import { BackupPlan } from './backup';
import { CacheEngine, EngineType } from './engine';
import { ValidationError } from './errors';
import { FailureDetection } from './fleet-options';
import { resolveParameters } from './parameters/resolve';
import { Persistence } from './persistence';
import { PERSISTENCE_DIRECTIVES } from './render/persistence-directives';
import { CLUSTER, INTERNAL_USERS, LIMITS, ValidatedFleet } from './validation';

/** What runs on a slot. */
export type NodeService = 'redis' | 'sentinel' | 'memcached';

/** The role a slot starts with; the live role of a data node is Sentinel's to change. */
export type SlotRole = 'primary' | 'replica' | 'memcached' | 'sentinel';

/** One node of the fleet: a machine (EC2 slot) or a container. */
export interface NodeSlot {
  /** The slot's name, stable for its lifetime: `node-0`, `node-1`, …, `sentinel-0`. */
  readonly name: string;
  /** The slot's position in the plan. */
  readonly index: number;
  /** The role the slot starts with. */
  readonly role: SlotRole;
  /** The shard the slot belongs to (0 with cluster mode disabled). */
  readonly shard: number;
  /** Which of the flavor's zones (subnets) the slot lives in. */
  readonly zoneIndex: number;
  /** The slot's fixed address, announced by the engine and by Sentinel. */
  readonly address: string;
  /**
   * The slot's host number within its fleet's block (see `SLOT_HOSTS`): fixed by its name, so the
   * flavors give it the same address and port whatever the props.
   */
  readonly hostNumber: number;
  /** The engine's port on this slot, when it runs a data node. */
  readonly enginePort?: number;
  /** Sentinel's port on this slot, when it runs a sentinel. */
  readonly sentinelPort?: number;
  /** The processes the slot runs. */
  readonly services: NodeService[];
}

/** How Sentinel watches a replication group. */
export interface SentinelPlan {
  /** The name the sentinels monitor the primary under (`SENTINEL get-master-addr-by-name`). */
  readonly masterName: string;
  /** How many sentinels must agree that the primary is down. */
  readonly quorum: number;
  /** How long the primary must be unreachable before a sentinel thinks it down. */
  readonly downAfterMillis: number;
  /** Sentinel's failover timeout. */
  readonly failoverTimeoutMillis: number;
  /** How many replicas resynchronize with a new primary at once. */
  readonly parallelSyncs: number;
  /** The sentinels' `address:port`s. */
  readonly endpoints: string[];
}

/** One shard of a cluster-mode group. */
export interface ShardPlan {
  /** The shard's position: 0, 1, … */
  readonly index: number;
  /** The hash slots the shard serves when the group is balanced: one range, first and last included. */
  readonly slotRange: readonly [number, number];
  /** The shard's slots, its planned primary first. */
  readonly slotNames: string[];
}

/** How a cluster-mode group runs Redis / Valkey Cluster. */
export interface ClusterPlan {
  /** The shards, by index. */
  readonly shards: ShardPlan[];
  /** The replicas of each shard's primary. */
  readonly replicasPerShard: number;
  /** The cluster bus port on every node: the engine's port plus CLUSTER.busPortOffset. */
  readonly busPort: number;
  /** The engine's `cluster-node-timeout`, which decides how soon a silent primary is failed over. */
  readonly nodeTimeoutMillis: number;
  /**
   * The slot whose node forms the cluster (meets the others, assigns the slots, sets the replicas)
   * when no node yet knows a cluster: the planned primary of shard 0 (`node-0`).
   */
  readonly former: string;
}

/** The ACL users of a Redis or Valkey fleet. */
export interface FleetUsers {
  /** The user clients authenticate as. */
  readonly application: string;
  /** The user sentinels authenticate as. */
  readonly sentinel: string;
  /** The user replicas authenticate to their primary as. */
  readonly replication: string;
  /**
   * The unrestricted user (`+@all`, CONFIG, MODULE, DEBUG…), with a secret of its own: the node agent
   * and operators, never the application.
   */
  readonly admin: string;
}

/** Everything about a fleet that its flavors deploy and its renderers write. */
export interface FleetPlan {
  /** The fleet's name: lower-case letters, digits and hyphens. */
  readonly name: string;
  /** A Memcached set, a single Redis/Valkey node, a replication group, or a cluster-mode group. */
  readonly kind: 'memcached' | 'standalone' | 'replication' | 'cluster';
  /** The engine and version. */
  readonly engine: CacheEngine;
  /** The engine port on every data node. */
  readonly port: number;
  /** Every slot: data nodes first, then sentinel-only slots. */
  readonly slots: NodeSlot[];
  /** How Sentinel watches the group, when failover is on (cluster mode disabled). */
  readonly sentinel?: SentinelPlan;
  /** The shards, with cluster mode enabled. */
  readonly cluster?: ClusterPlan;
  /** The persistence of Redis/Valkey data nodes (none for Memcached). */
  readonly persistence: Persistence;
  /** The engine's parameters as config directives, in a stable order. */
  readonly engineParameters: Array<[string, string]>;
  /** The share of memory kept from the engine (`maxmemory`, `-m`) for the OS, forks and buffers. */
  readonly reservedMemoryPercent: number;
  /**
   * Whether the replicas' output-buffer limit is sized by each node from its memory (redis-node.conf)
   * rather than set in redis.conf: Redis and Valkey when the parameter group sets none of the three
   * `client-output-buffer-limit-replica-*` parameters. See {@link REPLICA_OUTPUT_BUFFER}.
   */
  readonly replicaOutputBufferFromMemory: boolean;
  /** The ACL users (Redis and Valkey). */
  readonly users: FleetUsers;
  /** Scheduled backups (Redis and Valkey), when the props ask for them. */
  readonly backup?: BackupPlan;
}

/**
 * Sentinel's timings.
 *
 * `down-after` is how long a primary may stay silent before a sentinel thinks it down. Sentinel
 * pings every second and measures the silence from its oldest unanswered ping, so an event-loop
 * stall of S seconds (a slow command, a fork, an EBS stall) shows as up to S seconds of silence,
 * plus the sentinel's own timer jitter (it runs about 10 times a second) and scheduling delays on
 * a loaded host. With 5 s, a 2 s stall stays 3 s short of a failover (more than twice the stall's
 * own length in margin), and stalls of up to about 4 s are tolerated. A crash does not wait for
 * it: the node whose engine died asks the sentinels for the failover at once (the agent's `start`).
 * Silence remains the only sign of a lost host or dropped traffic: that fails over within
 * down-after plus about 2 s (the vote, the promotion, the clients' rediscovery).
 *
 * `FailureDetection.FAST` keeps 1 s for those who prefer a quick reaction to host loss over
 * riding out stalls: a stall longer than a second fails the primary over.
 */
export const SENTINEL_DEFAULTS = {
  quorum: 2,
  count: 3,
  downAfterMillis: {
    [FailureDetection.STALL_TOLERANT]: 5000,
    [FailureDetection.FAST]: 1000,
  } as Readonly<Record<FailureDetection, number>>,
  failoverTimeoutMillis: 10_000,
  parallelSyncs: 1,
} as const;

/**
 * Writes stop on a primary that can no longer see any replica for 8 s, which bounds what an
 * isolated primary can accept (Jepsen's 2013 split brain). Redis checks the lag in whole seconds,
 * once a second, so the refusal comes up to about 2 s after the lag: at 10 s the fault suite saw
 * 9.9-11.1 s, past the 11 s target; at 8 s it stays within it. Only with two or more
 * replicas: with a single replica, losing that replica would stop all writes.
 */
export const MIN_REPLICAS_DEFAULTS = { toWrite: 1, maxLagSeconds: 8, fromReplicas: 2 } as const;

/** Where a slot sits, for the flavor to give it an address. */
export interface SlotPosition {
  /** The slot's position in the plan. */
  readonly index: number;
  /** The zone (subnet) the slot is in. */
  readonly zoneIndex: number;
  /** How many slots of the plan come before it in the same zone. */
  readonly indexInZone: number;
  /**
   * The slot's host number within its fleet's block of addresses (see `slotHostNumber`): fixed by
   * the slot's name, whatever the props, so no other slot name ever takes it.
   */
  readonly hostNumber: number;
}

/**
 * The host numbers of a fleet's slots, relative to the first of the fleet's block: `node-k` takes
 * k, and `sentinel-j` takes `sentinelBase + j`, past the last data node a replication group can
 * have. CloudFormation creates a new or replacement network interface before it deletes the old
 * one, so an address that passed from one slot name to another (as placement order did: with
 * `replicasPerShard` 1 -> 2 the sentinel-only slot's address went to the new `node-2`) is claimed
 * twice during the update, which fails. Numbering by name and not by zone keeps this true under a
 * change of the zones as well.
 */
export const SLOT_HOSTS = {
  /** The host number of `sentinel-0`. */
  sentinelBase: 1 + LIMITS.maxReplicasPerShard,
} as const;

/** A slot's host number within its fleet's block; see `SLOT_HOSTS`. */
export function slotHostNumber(kind: 'data' | 'sentinel', ordinal: number): number {
  return kind === 'data' ? ordinal : SLOT_HOSTS.sentinelBase + ordinal;
}

/**
 * The nodes a shard can ever have: every shard owns this many host numbers, node r of shard s taking
 * s × this + r, so that a change of `replicasPerShard` or `shards` never passes an address from one
 * slot name to another.
 */
export const SHARD_HOSTS = 1 + LIMITS.maxReplicasPerShard;

/** The host number of a cluster-mode slot; see `SHARD_HOSTS`. */
export function shardSlotHostNumber(shard: number, ordinal: number): number {
  return shard * SHARD_HOSTS + ordinal;
}

/**
 * The name of the `ordinal`-th node of a shard (its planned primary is 0): `node-<host number>`, the
 * rule of every data node's name. Shard 0's nodes thus carry the names a replication group's data
 * nodes have (`node-0`, `node-1`…), with their volumes and addresses: a change of `clusterMode` on a
 * running group keeps those nodes and their data, and the node agent refuses to start them in the
 * other mode (the deploy fails and rolls back) instead of new, empty nodes replacing them.
 */
export function shardSlotName(shard: number, ordinal: number): string {
  return dataSlotName(shardSlotHostNumber(shard, ordinal));
}

/**
 * The hash slots of shard `index` of `shards` when the group is balanced: the 16,384 slots split in
 * order, the shards' sizes differing by at most one.
 */
export function shardSlotRange(index: number, shards: number): [number, number] {
  const first = Math.floor((CLUSTER.hashSlots * index) / shards);
  const next = Math.floor((CLUSTER.hashSlots * (index + 1)) / shards);
  return [first, next - 1];
}

/** The name of the `ordinal`-th data node's slot. */
export function dataSlotName(ordinal: number): string {
  return `node-${ordinal}`;
}

/** The name of the `ordinal`-th sentinel-only slot. */
export function sentinelSlotName(ordinal: number): string {
  return `sentinel-${ordinal}`;
}

/**
 * The names of every slot a fleet of this kind can ever have under its limits (a replication
 * group's `node-0` to `node-5` and `sentinel-0` to `sentinel-2`): the slots a change of the node or
 * replica count adds or removes are among them.
 */
export function possibleSlotNames(kind: FleetPlan['kind'], shards = 1): string[] {
  if (kind === 'cluster') {
    return Array.from({ length: shards * SHARD_HOSTS }, (_, host) => shardSlotName(Math.floor(host / SHARD_HOSTS), host % SHARD_HOSTS));
  }
  const dataNodes = kind === 'replication' ? 1 + LIMITS.maxReplicasPerShard : kind === 'memcached' ? LIMITS.maxMemcachedNodes : 1;
  const sentinels = kind === 'replication' ? SENTINEL_DEFAULTS.count : 0;
  return [
    ...Array.from({ length: dataNodes }, (_, ordinal) => dataSlotName(ordinal)),
    ...Array.from({ length: sentinels }, (_, ordinal) => sentinelSlotName(ordinal)),
  ];
}

/**
 * How many host numbers a fleet of this kind reserves from the first of its block: every slot name
 * it can ever have under its limits. A replication group 1 + LIMITS.maxReplicasPerShard data nodes
 * and SENTINEL_DEFAULTS.count sentinel-only slots (9), a Memcached cluster LIMITS.maxMemcachedNodes
 * nodes (40), a single node 1, a cluster-mode group SHARD_HOSTS per shard it has (its block grows
 * with its shards: a flavor checks the room at each synth).
 */
export function reservedHostCount(kind: FleetPlan['kind'], shards = 1): number {
  return possibleSlotNames(kind, shards).length;
}

/** A Memcached set, a single Redis/Valkey node, or a replication group, from the validated props. */
export function fleetKind(fleet: ValidatedFleet): FleetPlan['kind'] {
  if (fleet.engine.engineType === EngineType.MEMCACHED) return 'memcached';
  if (fleet.cluster) return 'cluster';
  return fleet.construct === 'CacheCluster' ? 'standalone' : 'replication';
}

/** What a flavor tells the planner beside the validated props. */
export interface PlanRequest {
  /** The fleet's name (see `fleetName`). */
  readonly name: string;
  /** The validated props. */
  readonly fleet: ValidatedFleet;
  /** How many zones (subnets) the flavor spreads slots over. */
  readonly zoneCount: number;
  /** The fixed address of the slot at a position. */
  readonly addressOf: (position: SlotPosition) => string;
  /**
   * Whether every sentinel gets a slot of its own instead of sharing the first data nodes' slots.
   * Containers have one address each and die with their process, so the Docker flavor wants this;
   * EC2 slots run a data node and a sentinel side by side.
   *
   * @default false
   */
  readonly dedicatedSentinels?: boolean;
}

/**
 * A fleet name from a construct id: lower-case letters, digits and hyphens, starting with a letter,
 * at most 40 characters. It names the Sentinel master and the flavors' resources.
 */
export function fleetName(id: string): string {
  const name = id
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return name || 'cache';
}

/** Decides every slot, role, zone, address and port of a fleet, and its resolved parameters. */
export function planFleet(request: PlanRequest): FleetPlan {
  const { fleet, zoneCount } = request;
  if (!Number.isInteger(zoneCount) || zoneCount < 1) {
    throw new ValidationError('zones', zoneCount, 'must be at least one zone (subnet) to place nodes in');
  }
  const engine = fleet.engine;
  const memcached = engine.engineType === EngineType.MEMCACHED;
  const kind = fleetKind(fleet);

  const perZone = new Array<number>(zoneCount).fill(0);
  const place = (index: number, zoneIndex: number, hostNumber: number): { zoneIndex: number; address: string; hostNumber: number } => {
    const position = { index, zoneIndex, indexInZone: perZone[zoneIndex]++, hostNumber };
    return { zoneIndex, address: request.addressOf(position), hostNumber };
  };

  const sentinelCount = fleet.failover ? SENTINEL_DEFAULTS.count : 0;
  const sentinelsOnDataNodes = request.dedicatedSentinels ? 0 : Math.min(sentinelCount, fleet.dataNodes);
  const slots: NodeSlot[] = [];
  if (fleet.cluster) {
    // Shard s's node r in zone (s + r) mod zones: the primaries spread over the zones, and each
    // shard's nodes are in different zones as long as there are as many zones as nodes in a shard.
    const { shards, replicasPerShard } = fleet.cluster;
    for (let shard = 0; shard < shards; shard++) {
      for (let ordinal = 0; ordinal <= replicasPerShard; ordinal++) {
        const index = slots.length;
        slots.push({
          name: shardSlotName(shard, ordinal),
          index,
          role: ordinal === 0 ? 'primary' : 'replica',
          shard,
          ...place(index, (shard + ordinal) % zoneCount, shardSlotHostNumber(shard, ordinal)),
          enginePort: fleet.port,
          services: ['redis'],
        });
      }
    }
  }
  for (let index = 0; index < (fleet.cluster ? 0 : fleet.dataNodes); index++) {
    const runsSentinel = index < sentinelsOnDataNodes;
    slots.push({
      name: dataSlotName(index),
      index,
      role: memcached ? 'memcached' : index === 0 ? 'primary' : 'replica',
      shard: 0,
      ...place(index, index % zoneCount, slotHostNumber('data', index)),
      enginePort: fleet.port,
      sentinelPort: runsSentinel ? LIMITS.sentinelPort : undefined,
      services: memcached ? ['memcached'] : runsSentinel ? ['redis', 'sentinel'] : ['redis'],
    });
  }
  // Sentinel-only slots make the odd count a majority needs (fewer than three data nodes, or
  // dedicated sentinels), placed in the least used zone so that one zone's loss leaves a majority
  // where possible.
  for (let extra = 0; sentinelsOnDataNodes + extra < sentinelCount; extra++) {
    const index = slots.length;
    const zoneIndex = perZone.indexOf(Math.min(...perZone));
    slots.push({
      name: sentinelSlotName(extra),
      index,
      role: 'sentinel',
      shard: 0,
      ...place(index, zoneIndex, slotHostNumber('sentinel', extra)),
      sentinelPort: LIMITS.sentinelPort,
      services: ['sentinel'],
    });
  }

  const sentinels = slots.filter((slot) => slot.sentinelPort !== undefined);
  const persistence = memcached ? Persistence.none() : choosePersistence(fleet);
  const parameters = resolveParameters(
    engine.parameterGroupFamily,
    fleet.parameterGroup?.parameters ?? {},
    engine.engineVersion,
  );
  const replicaBufferFitted = !memcached && !REPLICA_OUTPUT_BUFFER.parameters.some((name) => parameters.explicit.has(name));
  const cluster = fleet.cluster ? planCluster(fleet, slots, parameters) : undefined;
  refuseClusterEnabledMismatch(fleet);
  return {
    name: request.name,
    kind,
    engine,
    port: fleet.port,
    slots,
    sentinel: fleet.failover
      ? {
        masterName: request.name,
        quorum: SENTINEL_DEFAULTS.quorum,
        downAfterMillis: SENTINEL_DEFAULTS.downAfterMillis[fleet.failureDetection],
        failoverTimeoutMillis: SENTINEL_DEFAULTS.failoverTimeoutMillis,
        parallelSyncs: SENTINEL_DEFAULTS.parallelSyncs,
        endpoints: sentinels.map((slot) => `${slot.address}:${slot.sentinelPort}`),
      }
      : undefined,
    cluster,
    persistence,
    engineParameters: memcached
      ? parameters.engine
      : withoutFittedReplicaBuffer(
        withClusterTimeout(withReplicationSafety(parameters, fleet.cluster ? fleet.cluster.replicasPerShard : fleet.dataNodes - 1), cluster),
        replicaBufferFitted,
      ),
    reservedMemoryPercent: parameters.reservedMemoryPercent,
    replicaOutputBufferFromMemory: replicaBufferFitted,
    backup: fleet.backup,
    users: {
      application: fleet.authUsername,
      sentinel: INTERNAL_USERS.sentinel,
      replication: INTERNAL_USERS.replication,
      admin: INTERNAL_USERS.admin,
    },
  };
}

/**
 * How long a silent cluster node goes before the others mark it failing, when the parameter group
 * does not set `cluster-node-timeout`: the same silences as Sentinel's `down-after` for each
 * `FailureDetection`, for the same reasons (see SENTINEL_DEFAULTS). The engine's own 15 s would
 * leave a lost primary's slots unwritable for 15 s or more.
 */
export const CLUSTER_NODE_TIMEOUT_MILLIS = SENTINEL_DEFAULTS.downAfterMillis;

function planCluster(fleet: ValidatedFleet, slots: NodeSlot[], parameters: ReturnType<typeof resolveParameters>): ClusterPlan {
  const { shards, replicasPerShard } = fleet.cluster!;
  const explicitTimeout = parameters.explicit.has('cluster-node-timeout')
    ? parameters.engine.find(([name]) => name === 'cluster-node-timeout')?.[1]
    : undefined;
  return {
    shards: Array.from({ length: shards }, (_, index) => ({
      index,
      slotRange: shardSlotRange(index, shards),
      slotNames: slots.filter((slot) => slot.shard === index).map((slot) => slot.name),
    })),
    replicasPerShard,
    busPort: fleet.port + CLUSTER.busPortOffset,
    nodeTimeoutMillis: explicitTimeout !== undefined ? Number(explicitTimeout) : CLUSTER_NODE_TIMEOUT_MILLIS[fleet.failureDetection],
    former: shardSlotName(0, 0),
  };
}

/**
 * `cluster-enabled` in a parameter group (ElastiCache's `.cluster.on` groups set `yes`) must agree
 * with `clusterMode`, which alone decides the mode.
 */
function refuseClusterEnabledMismatch(fleet: ValidatedFleet): void {
  const given = fleet.parameterGroup?.parameters['cluster-enabled'];
  if (given === undefined || fleet.engine.engineType === EngineType.MEMCACHED) return;
  const wanted = fleet.cluster ? 'yes' : 'no';
  if (given !== wanted) {
    throw new ValidationError('parameterGroup.parameters.cluster-enabled', given,
      `must be unset or \`${wanted}\` ${fleet.cluster ? 'with cluster mode enabled' : 'without cluster mode (set clusterMode: ClusterMode.ENABLED on the group for a Redis / Valkey Cluster)'}: the clusterMode prop decides the mode`);
  }
}

/** Sets `cluster-node-timeout` to the plan's, for a cluster; drops it otherwise (it means nothing there). */
function withClusterTimeout(pairs: Array<[string, string]>, cluster: ClusterPlan | undefined): Array<[string, string]> {
  const rest = pairs.filter(([name]) => name !== 'cluster-node-timeout');
  return cluster ? [...rest, ['cluster-node-timeout', String(cluster.nodeTimeoutMillis)]] : rest;
}

/**
 * The `persistence` prop decides; without it, a parameter group that sets `appendonly` or `save`
 * decides (`appendfsync` alone only picks the AOF policy); without either, AOF every second keeps
 * acknowledged writes across a process crash.
 */
function choosePersistence(fleet: ValidatedFleet): Persistence {
  const set = fleet.parameterGroup?.parameters ?? {};
  const named = PERSISTENCE_DIRECTIVES.filter((name) => set[name] !== undefined);
  if (fleet.persistence) {
    if (named.length > 0) {
      throw new ValidationError(
        `parameterGroup.parameters.${named[0]}`,
        set[named[0]],
        'must be unset when the `persistence` prop is given (the prop decides persistence)',
      );
    }
    return fleet.persistence;
  }
  const saves = set.save !== undefined && set.save.trim() !== '' && set.save.trim() !== '""';
  // What a Persistence can express; nothing the group sets is silently rewritten.
  if (set.appendfsync !== undefined && !['everysec', 'always'].includes(set.appendfsync)) {
    throw new ValidationError('parameterGroup.parameters.appendfsync', set.appendfsync, 'must be `everysec` or `always` (Persistence.aofEverySecond() or Persistence.aofAlways())');
  }
  if (set.appendonly === 'yes' && saves) {
    throw new ValidationError('parameterGroup.parameters.save', set.save, 'must be unset or "" with `appendonly` `yes` (an AOF fleet takes no RDB snapshot rules)');
  }
  // `appendfsync` alone keeps the default, AOF, with that policy.
  if (set.appendonly === 'yes' || (set.appendonly === undefined && set.appendfsync !== undefined && !saves)) {
    return set.appendfsync === 'always' ? Persistence.aofAlways() : Persistence.aofEverySecond();
  }
  if (saves) return Persistence.rdb({ saveRules: set.save });
  if (named.length > 0) return Persistence.none();
  return Persistence.aofEverySecond();
}

/** Applies the min-replicas defaults unless the parameter group set them. */
/**
 * The replicas' output-buffer limit a node sizes from its memory when the parameter group sets none.
 * The engine's default (a 256 MiB hard limit, 64 MiB soft for 60 s) assumes a large machine: a
 * primary feeding a full resync buffers the writes of the whole transfer, outside `maxmemory`, and
 * on a small node (a 256 MiB container) that buffer alone gets the process OOM-killed. The buffer
 * lives in the memory `maxmemory` leaves over (reserved-memory-percent); the node agent, which
 * alone knows that memory, fills the two limits from it (set_placeholder_values in
 * src/agent/cachefleet-node; ElastiCache also sizes this limit per node type).
 */
export const REPLICA_OUTPUT_BUFFER = {
  softSeconds: 60,
  /** The parameters that, set in the group, keep the line in redis.conf. */
  parameters: ['client-output-buffer-limit-replica-hard-limit', 'client-output-buffer-limit-replica-soft-limit', 'client-output-buffer-limit-replica-soft-seconds'],
} as const;

/** The engine parameters without the replicas' output-buffer line when nodes size it themselves. */
function withoutFittedReplicaBuffer(pairs: Array<[string, string]>, fitted: boolean): Array<[string, string]> {
  if (!fitted) return pairs;
  return pairs.filter(([name, value]) => !(name === 'client-output-buffer-limit' && value.split(' ')[0] === 'replica'));
}

function withReplicationSafety(
  parameters: ReturnType<typeof resolveParameters>,
  replicas: number,
): Array<[string, string]> {
  const safe = replicas >= MIN_REPLICAS_DEFAULTS.fromReplicas;
  const defaults: Record<string, string> = {
    'min-replicas-to-write': String(safe ? MIN_REPLICAS_DEFAULTS.toWrite : 0),
    'min-replicas-max-lag': String(MIN_REPLICAS_DEFAULTS.maxLagSeconds),
  };
  const pairs = parameters.engine.map(([name, value]): [string, string] =>
    defaults[name] !== undefined && !parameters.explicit.has(name) ? [name, defaults[name]] : [name, value],
  );
  for (const name of Object.keys(defaults)) {
    if (!pairs.some(([n]) => n === name)) pairs.push([name, defaults[name]]);
  }
  return pairs;
}

