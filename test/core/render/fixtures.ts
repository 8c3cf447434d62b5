import { Construct } from 'constructs';
import { CacheEngine, MemcachedEngineVersion, RedisEngineVersion, ValkeyEngineVersion } from '../../../src/core/engine';
import { ClusterMode } from '../../../src/core/fleet-options';
import { ParameterGroup } from '../../../src/core/parameters/parameter-group';
import { Persistence } from '../../../src/core/persistence';
import { FleetPlan, NodeSlot, planFleet, SentinelPlan, SlotPosition, slotHostNumber } from '../../../src/core/topology';
import { validateCacheClusterOptions, validateReplicationGroupOptions } from '../../../src/core/validation';

/**
 * Fleet plans for the renderers' tests: the representative ones from core's planner (`PLANS`), with
 * the catalog's default parameters, and hand-built ones shaped like the planner's (data nodes first,
 * a sentinel on each of the first three, sentinel-only slots after) where a test needs a plan the
 * planner would not make or exact parameters.
 */

export const VALKEY_8 = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });
export const REDIS_7 = CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 });
export const REDIS_6 = CacheEngine.redis({ version: RedisEngineVersion.VER_6_2 });
export const MEMCACHED_16 = CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 });

export interface RedisPlanOptions {
  readonly name?: string;
  readonly engine?: CacheEngine;
  /** One address per data node; the first starts as the primary. */
  readonly dataAddresses: string[];
  /** Addresses of sentinel-only slots. */
  readonly sentinelOnlyAddresses?: string[];
  /** Whether the group fails over with Sentinel. @default - with at least one replica */
  readonly failover?: boolean;
  readonly port?: number;
  readonly sentinelPort?: number;
  readonly sentinel?: Partial<Omit<SentinelPlan, 'endpoints'>>;
  readonly persistence?: Persistence;
  readonly engineParameters?: Array<[string, string]>;
  readonly applicationUser?: string;
}

/** A Redis or Valkey plan: standalone with one address and no failover, else a replication group. */
export function redisPlan(options: RedisPlanOptions): FleetPlan {
  const port = options.port ?? 6379;
  const sentinelPort = options.sentinelPort ?? 26379;
  const failover = options.failover ?? options.dataAddresses.length > 1;
  const slots: NodeSlot[] = options.dataAddresses.map((address, index) => {
    const runsSentinel = failover && index < 3;
    return {
      name: `node-${index}`,
      index,
      role: index === 0 ? 'primary' : 'replica',
      shard: 0,
      zoneIndex: index % 3,
      address,
      hostNumber: slotHostNumber('data', index),
      enginePort: port,
      sentinelPort: runsSentinel ? sentinelPort : undefined,
      services: runsSentinel ? ['redis', 'sentinel'] : ['redis'],
    };
  });
  for (const [extra, address] of (options.sentinelOnlyAddresses ?? []).entries()) {
    const index = slots.length;
    slots.push({ name: `sentinel-${extra}`, index, role: 'sentinel', shard: 0, zoneIndex: index % 3, address, hostNumber: slotHostNumber('sentinel', extra), sentinelPort, services: ['sentinel'] });
  }
  const name = options.name ?? 'sessions';
  const sentinels = slots.filter((slot) => slot.sentinelPort !== undefined);
  return {
    name,
    kind: failover || options.dataAddresses.length > 1 ? 'replication' : 'standalone',
    engine: options.engine ?? VALKEY_8,
    port,
    slots,
    sentinel: failover
      ? {
        masterName: name,
        quorum: 2,
        downAfterMillis: 1500,
        failoverTimeoutMillis: 10_000,
        parallelSyncs: 1,
        ...options.sentinel,
        endpoints: sentinels.map((slot) => `${slot.address}:${slot.sentinelPort}`),
      }
      : undefined,
    persistence: options.persistence ?? Persistence.aofEverySecond(),
    engineParameters: options.engineParameters ?? [],
    reservedMemoryPercent: 25,
    replicaOutputBufferFromMemory: true,
    users: { application: options.applicationUser ?? 'app', sentinel: 'cachefleet-sentinel', replication: 'cachefleet-replication', admin: 'cachefleet-admin' },
  };
}

/** A Memcached set: one node per address. */
export function memcachedPlan(addresses: string[], engineParameters: Array<[string, string]> = [], port = 11211): FleetPlan {
  return {
    name: 'pages',
    kind: 'memcached',
    engine: MEMCACHED_16,
    port,
    slots: addresses.map((address, index) => ({
      name: `node-${index}`,
      index,
      role: 'memcached',
      shard: 0,
      zoneIndex: index % 3,
      address,
      hostNumber: slotHostNumber('data', index),
      enginePort: port,
      services: ['memcached'],
    })),
    persistence: Persistence.none(),
    engineParameters,
    reservedMemoryPercent: 25,
    replicaOutputBufferFromMemory: false,
    users: { application: 'app', sentinel: 'cachefleet-sentinel', replication: 'cachefleet-replication', admin: 'cachefleet-admin' },
  };
}

/** Addresses like a flavor's: zone z is 10.0.z.0/24, slots from .10 up. */
const addressOf = (position: SlotPosition) => `10.0.${position.zoneIndex}.${10 + position.indexInZone}`;

/**
 * The representative plans, from the planner: 1 primary + 2 replicas (Valkey 8), 1 + 1 with a
 * sentinel-only slot (Redis 7), a standalone Redis 7 node with RDB snapshots, 3 Memcached nodes, a
 * cluster-mode group of 3 shards × (1 + 1) (Valkey 8).
 */
export const PLANS = {
  replicationGroup: () =>
    planFleet({ name: 'sessions', fleet: validateReplicationGroupOptions({ engine: VALKEY_8, replicasPerShard: 2 }), zoneCount: 3, addressOf }),
  withSentinelSlot: () =>
    planFleet({ name: 'orders', fleet: validateReplicationGroupOptions({ engine: REDIS_7, replicasPerShard: 1 }), zoneCount: 3, addressOf }),
  standalone: () =>
    planFleet({ name: 'one', fleet: validateCacheClusterOptions({ engine: REDIS_7, persistence: Persistence.rdb() }), zoneCount: 1, addressOf }),
  memcached: () =>
    planFleet({ name: 'pages', fleet: validateCacheClusterOptions({ engine: MEMCACHED_16, numCacheNodes: 3 }), zoneCount: 3, addressOf }),
  cluster: () =>
    planFleet({
      name: 'carts',
      fleet: validateReplicationGroupOptions({ engine: VALKEY_8, clusterMode: ClusterMode.ENABLED, shards: 3, replicasPerShard: 1 }),
      zoneCount: 3,
      addressOf,
    }),
};

/** A 1 + 1 Redis 7 group planned with a parameter group of these parameters. */
export function plannedWithParameters(parameters: Record<string, string>): FleetPlan {
  const parameterGroup = new ParameterGroup(new Construct(undefined as any, 'Root'), 'Params', { engine: REDIS_7, parameters });
  return planFleet({ name: 'tuned', fleet: validateReplicationGroupOptions({ engine: REDIS_7, replicasPerShard: 1, parameterGroup }), zoneCount: 3, addressOf });
}

/** The lines of a rendered file, without comments. */
export function directives(text: string): string[] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}
