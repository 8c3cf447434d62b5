import { Endpoint } from './endpoint';

/**
 * One shard (ElastiCache's node group) of a cluster-mode replication group: the hash slots it
 * serves and its nodes' endpoints.
 */
export interface ShardEndpoints {
  /** The shard's index, 0 to `shards` − 1: its metrics' `Shard` dimension (`metricForShard`). */
  readonly shard: number;

  /** The first of the hash slots the shard serves when the group is balanced. */
  readonly firstHashSlot: number;

  /** The last of the hash slots the shard serves when the group is balanced (included). */
  readonly lastHashSlot: number;

  /**
   * Its nodes' endpoints, `node-<6s + r>.<zone>` for node r of shard s: the node planned as its primary first, then its
   * replicas. The engine fails a shard's primary over by itself, so the first node is the primary
   * only until a failover; cluster-aware clients learn the current one from the cluster.
   */
  readonly nodeEndpoints: Endpoint[];
}
