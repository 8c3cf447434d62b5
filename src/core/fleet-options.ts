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

  /**
   * Days a scheduled backup is kept (ElastiCache's `SnapshotRetentionLimit`): once a day, in
   * `snapshotWindow`, one RDB per shard and a manifest are streamed from a replica (the primary
   * when the shard has none) to the fleet's backup location. 0 takes no scheduled backup; an
   * on-demand backup still works wherever the flavor gives a location. ElastiCache's cap of 35 days
   * does not apply. Redis and Valkey only.
   *
   * @default 0
   */
  readonly snapshotRetentionLimit?: number;

  /**
   * The daily UTC window scheduled backups start in (ElastiCache's `SnapshotWindow`),
   * `hh:mm-hh:mm`, at least 60 minutes. Redis and Valkey only.
   *
   * @default '03:00-04:00'
   */
  readonly snapshotWindow?: string;
}

/**
 * How the sentinels of a replication group tell a failed primary from a busy one.
 *
 * A primary whose engine process dies is reported at once by the node's own agent, which asks
 * the sentinels for a failover: that path does not wait for any timeout, whichever setting is
 * chosen. The setting decides how long the sentinels wait when the primary falls silent (its
 * host lost, its traffic dropped, or its event loop busy), Sentinel's `down-after-milliseconds`.
 */
export enum FailureDetection {
  /**
   * Silence of 5 s before the sentinels think the primary down: a stall of a few seconds (a slow
   * command, a fork of a large dataset, an EBS latency spike) does not move the primary. A lost
   * host fails over within about 8 s.
   */
  STALL_TOLERANT = 'STALL_TOLERANT',

  /**
   * Silence of 1 s: a lost host fails over within about 3 s, but a primary that stalls for more
   * than a second (a slow command, a fork, a loaded host) is failed over too, and its clients
   * reconnect to the new primary.
   */
  FAST = 'FAST',
}

/**
 * Whether a replication group runs as one shard watched by Sentinel or as a Redis / Valkey Cluster
 * of several shards (ElastiCache's cluster mode).
 */
export enum ClusterMode {
  /**
   * One primary and its replicas; Sentinel fails the primary over. Every key lives on every node.
   */
  DISABLED = 'DISABLED',

  /**
   * Redis Cluster / Valkey Cluster: the 16,384 hash slots are split over `shards` primaries, each with
   * `replicasPerShard` replicas, and the engine fails a shard's primary over itself (no Sentinel).
   * Clients must be cluster-aware (ioredis `Cluster`, `redis-cli -c`) and reach them through the
   * configuration endpoint.
   */
  ENABLED = 'ENABLED',
}

/**
 * What a replication group takes, whichever flavor deploys it.
 */
export interface ReplicationGroupOptions extends CacheFleetOptions {
  /**
   * The number of replicas of each shard's primary, 0 to 5. With cluster mode disabled and at least
   * one replica, Sentinel fails over automatically; with cluster mode enabled the engine does.
   *
   * @default 1
   */
  readonly replicasPerShard?: number;

  /**
   * Whether the group is one shard watched by Sentinel or a Redis / Valkey Cluster of `shards`
   * shards. Not changeable on a running group: a node refuses to start in the other mode on data
   * written in the first (its boot fails, and the deploy rolls back).
   *
   * @default ClusterMode.DISABLED
   */
  readonly clusterMode?: ClusterMode;

  /**
   * The number of shards (ElastiCache's node groups) with cluster mode enabled: at least 3, since the
   * engine fails a shard's primary over only with the votes of a majority of the primaries. Must be
   * unset (or 1) with cluster mode disabled.
   *
   * @default - 3 with cluster mode enabled, 1 otherwise
   */
  readonly shards?: number;

  /**
   * How long the sentinels wait when the primary falls silent before they fail over. A crashed
   * engine fails over at once with either setting (its node asks for the failover). With cluster
   * mode enabled it sets the engine's `cluster-node-timeout` (5 s or 1 s) unless the parameter group
   * sets that.
   *
   * @default FailureDetection.STALL_TOLERANT
   */
  readonly failureDetection?: FailureDetection;
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
