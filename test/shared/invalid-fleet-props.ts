/**
 * Invalid props every flavor refuses with the same message: one table, run against core's
 * validation and against each flavor's constructs (which add their own required props).
 */
import { CacheEngine, MemcachedEngineVersion, RedisEngineVersion, ValkeyEngineVersion } from '../../src/core/engine';
import { ClusterMode } from '../../src/core/fleet-options';
import { Persistence } from '../../src/core/persistence';

const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });
const redis = CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 });
const memcached = CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 });

/** A number a flavor's token check calls unresolved (CDK's encoding of a number token). */
export const NUMBER_TOKEN = -1.8881545897087626e289;
/** A string a flavor's token check calls unresolved. */
export const STRING_TOKEN = '${Token[X]}';

/** [what is wrong, the props, the exact message] */
export type InvalidCase = [string, Record<string, unknown>, string];

export const INVALID_REPLICATION_GROUP_PROPS: InvalidCase[] = [
  ['no engine', {}, '`engine` must be a CacheEngine (CacheEngine.redis(), CacheEngine.valkey() or CacheEngine.memcached()), got: undefined'],
  ['a string engine', { engine: 'redis' }, '`engine` must be a CacheEngine (CacheEngine.redis(), CacheEngine.valkey() or CacheEngine.memcached()), got: "redis"'],
  ['memcached', { engine: memcached }, '`engine` must be Redis or Valkey for a ReplicationGroup (Memcached does not replicate: use a CacheCluster), got: "memcached"'],
  ['7 replicas', { engine: valkey, replicasPerShard: 7 }, '`replicasPerShard` must be an integer between 0 and 5, got: 7'],
  ['-1 replicas', { engine: valkey, replicasPerShard: -1 }, '`replicasPerShard` must be an integer between 0 and 5, got: -1'],
  ['1.5 replicas', { engine: valkey, replicasPerShard: 1.5 }, '`replicasPerShard` must be an integer between 0 and 5, got: 1.5'],
  ['a string of replicas', { engine: valkey, replicasPerShard: '2' }, '`replicasPerShard` must be an integer between 0 and 5, got: "2"'],
  ['a token of replicas', { engine: valkey, replicasPerShard: NUMBER_TOKEN }, '`replicasPerShard` must be a concrete value known at synth time (it sizes the fleet or is written into its configuration), not a token, got: -1.8881545897087626e+289'],
  ['shards without cluster mode', { engine: valkey, shards: 3 }, '`shards` must be unset or 1 with cluster mode disabled: set clusterMode to ClusterMode.ENABLED for 3 or more shards, got: 3'],
  ['shards with cluster mode disabled', { engine: valkey, clusterMode: ClusterMode.DISABLED, shards: 2 }, '`shards` must be unset or 1 with cluster mode disabled: set clusterMode to ClusterMode.ENABLED for 3 or more shards, got: 2'],
  ['2 shards', { engine: valkey, clusterMode: ClusterMode.ENABLED, shards: 2 }, '`shards` must be at least 3 with cluster mode enabled (a shard\'s replica is promoted only with the votes of a majority of the primaries), at most 500, got: 2'],
  ['501 shards', { engine: valkey, clusterMode: ClusterMode.ENABLED, shards: 501 }, '`shards` must be an integer between 1 and 500, got: 501'],
  ['3.5 shards', { engine: redis, clusterMode: ClusterMode.ENABLED, shards: 3.5 }, '`shards` must be an integer between 1 and 500, got: 3.5'],
  ['a token of shards', { engine: valkey, clusterMode: ClusterMode.ENABLED, shards: NUMBER_TOKEN }, '`shards` must be a concrete value known at synth time (it sizes the fleet or is written into its configuration), not a token, got: -1.8881545897087626e+289'],
  ['a string cluster mode', { engine: valkey, clusterMode: 'yes' }, '`clusterMode` must be a ClusterMode (DISABLED, ENABLED), got: "yes"'],
  ['Memcached in cluster mode', { engine: memcached, clusterMode: ClusterMode.ENABLED }, '`clusterMode` must be unset or ClusterMode.DISABLED for Memcached, which has no cluster mode (a CacheCluster of Memcached nodes spreads keys on the client side), got: "ClusterMode.ENABLED"'],
  ['a bus port out of range', { engine: valkey, clusterMode: ClusterMode.ENABLED, port: 55536 }, '`port` must be at most 55535 with cluster mode enabled: the cluster bus listens on the port plus 10000, got: 55536'],
  ['port 0', { engine: valkey, port: 0 }, '`port` must be an integer between 1 and 65535, got: 0'],
  ['port 70000', { engine: valkey, port: 70000 }, '`port` must be an integer between 1 and 65535, got: 70000'],
  ['the sentinel port', { engine: valkey, port: 26379 }, '`port` must not be 26379: Sentinel listens there on the same nodes, got: 26379'],
  ['the default user', { engine: valkey, authUsername: 'default' }, '`authUsername` must not be `default` (the default user is switched off), got: "default"'],
  ['an internal user', { engine: valkey, authUsername: 'cachefleet-sentinel' }, "`authUsername` must not be one of cachefleet's own users (cachefleet-sentinel, cachefleet-replication, cachefleet-admin), got: \"cachefleet-sentinel\""],
  ['the admin user', { engine: valkey, authUsername: 'cachefleet-admin' }, "`authUsername` must not be one of cachefleet's own users (cachefleet-sentinel, cachefleet-replication, cachefleet-admin), got: \"cachefleet-admin\""],
  ['a user with a space', { engine: valkey, authUsername: 'my app' }, '`authUsername` must be 1 to 64 letters, digits, `_` or `-`, got: "my app"'],
  ['a token user', { engine: valkey, authUsername: STRING_TOKEN }, '`authUsername` must be a concrete value known at synth time (it sizes the fleet or is written into its configuration), not a token, got: "${Token[X]}"'],
  ['a persistence string', { engine: valkey, persistence: 'aof' }, '`persistence` must be a Persistence (Persistence.none(), .rdb(), .aofEverySecond() or .aofAlways()), got: "aof"'],
];

export const INVALID_CACHE_CLUSTER_PROPS: InvalidCase[] = [
  ['41 nodes', { engine: memcached, numCacheNodes: 41 }, '`numCacheNodes` must be an integer between 1 and 40, got: 41'],
  ['0 nodes', { engine: memcached, numCacheNodes: 0 }, '`numCacheNodes` must be an integer between 1 and 40, got: 0'],
  ['2 Redis nodes', { engine: redis, numCacheNodes: 2 }, '`numCacheNodes` must be 1 for Redis and Valkey (use a ReplicationGroup for replicas), got: 2'],
  ['Memcached with AOF', { engine: memcached, persistence: Persistence.aofEverySecond() }, '`persistence` must be unset or Persistence.none() for Memcached, which keeps no data on disk, got: "aof"'],
];
