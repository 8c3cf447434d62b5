import { CacheEngine, MemcachedEngineVersion, RedisEngineVersion, ValkeyEngineVersion } from '../../../src/core/engine';
import { Persistence } from '../../../src/core/persistence';
import { FleetPlan, planFleet, SlotPosition } from '../../../src/core/topology';
import { validateCacheClusterOptions, validateReplicationGroupOptions } from '../../../src/core/validation';

/**
 * The fleet plans of the behaviour tests, in one place, all made by core's planner (`planFleet`)
 * from validated props, as the flavors make them. The only test-specific part is where slots live:
 * each slot on an address of its own from the caller's loopback range (test/integ/README.md).
 */

/** An engine the Redis-family behaviour tests run, with the binaries that run it here. */
export interface RedisFamilyEngine {
  /** For test titles. */
  readonly title: string;
  readonly engine: CacheEngine;
  /** The server binary (also run with `--sentinel`). */
  readonly server: string;
  /** The client binary. */
  readonly cli: string;
  /** The engine's address range starts after 127.0.0.<addressBase>. */
  readonly addressBase: number;
}

/** Redis 7.0: Debian bookworm's redis-server / redis-sentinel. */
export const REDIS_7_0: RedisFamilyEngine = {
  title: 'Redis 7.0',
  engine: CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 }),
  server: 'redis-server',
  cli: 'redis-cli',
  addressBase: 10,
};

/** Valkey 8.0 (bookworm-backports). */
export const VALKEY_8_0: RedisFamilyEngine = {
  title: 'Valkey 8.0',
  engine: CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 }),
  server: 'valkey-server',
  cli: 'valkey-cli',
  addressBase: 20,
};

/** The Redis-family engines the behaviour tests run. */
export const REDIS_FAMILY: readonly RedisFamilyEngine[] = [REDIS_7_0, VALKEY_8_0];

export const MEMCACHED_1_6 = CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 });

/** Loopback addresses 127.0.0.<first>, 127.0.0.<first + 1>, … */
export function loopbackAddresses(first: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.0.${first + i}`);
}

/** Slot i lives on addresses[i]. */
function addressOf(addresses: readonly string[]): (position: SlotPosition) => string {
  return (position) => {
    const address = addresses[position.index];
    if (!address) throw new Error(`the test gave no address for slot ${position.index} (it gave ${addresses.length})`);
    return address;
  };
}

/**
 * A replication group of 1 primary + 2 replicas with the default persistence, sentinels as the
 * planner places them (node-0 primary, node-1 and node-2 replicas, a sentinel on each, quorum 2).
 */
export function replicationGroupPlan(name: string, engine: CacheEngine, addresses: readonly string[]): FleetPlan {
  const fleet = validateReplicationGroupOptions({ engine, replicasPerShard: 2 });
  return planFleet({ name, fleet, zoneCount: 3, addressOf: addressOf(addresses) });
}

/** A single Redis / Valkey node (a CacheCluster of one). */
export function standalonePlan(name: string, engine: CacheEngine, address: string, persistence?: Persistence): FleetPlan {
  const fleet = validateCacheClusterOptions({ engine, numCacheNodes: 1, persistence });
  return planFleet({ name, fleet, zoneCount: 1, addressOf: addressOf([address]) });
}

/** A Memcached set of `addresses.length` nodes. */
export function memcachedPlan(name: string, addresses: readonly string[]): FleetPlan {
  const fleet = validateCacheClusterOptions({ engine: MEMCACHED_1_6, numCacheNodes: addresses.length });
  return planFleet({ name, fleet, zoneCount: 3, addressOf: addressOf(addresses) });
}
