import { CacheEngine } from './engine';
import { ParameterGroup } from './parameters/parameter-group';
import { Persistence } from './persistence';

/**
 * What every cache fleet takes, whichever flavor deploys it.
 */
export interface CacheFleetOptions {
  /** The engine and its version. */
  readonly engine: CacheEngine;

  /**
   * The parameter group whose parameters every node runs with; it must be of the engine's family.
   *
   * @default - the family's defaults (ElastiCache's defaults where they differ from the engine's)
   */
  readonly parameterGroup?: ParameterGroup;

  /**
   * The port the engine listens on.
   *
   * @default - the engine's default port: 6379 for Redis and Valkey, 11211 for Memcached
   */
  readonly port?: number;

  /**
   * How Redis and Valkey data nodes persist their dataset; Memcached takes none.
   *
   * @default - `Persistence.aofEverySecond()` for Redis and Valkey, unless the parameter group sets
   * `appendonly` or `save` (its `appendfsync` picks the AOF policy)
   */
  readonly persistence?: Persistence;

  /**
   * The ACL user clients authenticate as (`AUTH <user> <token>`); the `default` user is off.
   *
   * @default 'app'
   */
  readonly authUsername?: string;
}

/**
 * What a replication group takes, whichever flavor deploys it.
 */
export interface ReplicationGroupOptions extends CacheFleetOptions {
  /**
   * The number of replicas of the primary (cluster mode disabled). With at least one replica,
   * Sentinel fails over automatically.
   *
   * @default 1
   */
  readonly replicasPerShard?: number;

  /**
   * The number of shards (cluster mode enabled). Not supported yet.
   *
   * @default - cluster mode disabled: one shard
   */
  readonly shards?: number;
}

/**
 * What a cache cluster takes, whichever flavor deploys it.
 */
export interface CacheClusterOptions extends CacheFleetOptions {
  /**
   * The number of nodes: 1 to 40 for Memcached, exactly 1 for Redis and Valkey.
   *
   * @default 1
   */
  readonly numCacheNodes?: number;
}
