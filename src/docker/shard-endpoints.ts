import { Endpoint } from './endpoint';

/**
 * One shard of a cluster-mode group: the hash slots it serves when the group is balanced and its
 * nodes. Which node is the shard's primary is the cluster's to decide (`CLUSTER SHARDS`); the
 * first is the one that starts as the primary.
 */
export interface ShardEndpoints {
  /** The shard's position: 0, 1, … */
  readonly shard: number;
  /** The first hash slot the shard serves when the group is balanced. */
  readonly firstHashSlot: number;
  /** The last hash slot the shard serves when the group is balanced (included). */
  readonly lastHashSlot: number;
  /** The shard's nodes, the one that starts as its primary first. */
  readonly nodeEndpoints: Endpoint[];
}
