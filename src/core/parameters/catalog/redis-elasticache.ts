import { engineParameter, ParameterSpec } from './parameter-spec';
import { explained, integer, INT_MAX, oneOf, yesNo } from './value-types';

/**
 * Parameters that ElastiCache exposes for cluster mode, and ElastiCache's own names with no Redis
 * directive. Each says what cachefleet does with it.
 */

export const clusterEnabled: ParameterSpec = {
  name: 'cluster-enabled',
  type: yesNo(),
  defaultValue: 'no',
  apply: 'restart',
  target: 'prop',
  elastiCache: "ElastiCache's `.cluster.on` parameter groups set yes. Here the group's `clusterMode` prop decides: a value that disagrees with it is refused.",
  description: 'Runs the node in Redis Cluster mode.',
};

export const clusterNodeTimeout = engineParameter({
  name: 'cluster-node-timeout',
  type: integer(1n, INT_MAX),
  defaultValue: '5000',
  defaultDiffers: {
    engineDefault: '15000',
    reason: "the group's `failureDetection` (5 s, or 1 s with FAST) unless set here, the same silences Sentinel waits for: the engine's 15 s would leave a lost primary's slots unwritable for 15 s or more",
  },
  elastiCache: 'Not an ElastiCache parameter (ElastiCache fixes it).',
  description: 'Cluster mode: milliseconds a node may stay silent before the others think it failing; a silent primary is failed over soon after.',
});

export const clusterMigrationBarrier = engineParameter({
  name: 'cluster-migration-barrier',
  type: integer(0n, INT_MAX),
  defaultValue: '1',
  elastiCache: 'Not an ElastiCache parameter (ElastiCache fixes it).',
  description: 'Cluster mode: the replicas a primary keeps before one of them may move to a primary left without any.',
});

export const clusterRequireFullCoverage = engineParameter({
  name: 'cluster-require-full-coverage',
  type: yesNo(),
  defaultValue: 'no',
  defaultDiffers: {
    engineDefault: 'yes',
    reason: "ElastiCache's default: in cluster mode, shards that are up keep serving their slots while another is down",
  },
  description: 'Cluster mode: refuses every query while any hash slot is uncovered.',
});

export const clusterAllowReadsWhenDown = engineParameter({
  name: 'cluster-allow-reads-when-down',
  type: yesNo(),
  defaultValue: 'no',
  description: 'Cluster mode: keeps serving reads while the cluster is marked down.',
});

export const clusterAllowPubsubshardWhenDown = engineParameter({
  name: 'cluster-allow-pubsubshard-when-down',
  type: yesNo(),
  defaultValue: 'yes',
  since: '7.0',
  description: 'Cluster mode: keeps serving sharded pub/sub while the cluster is marked down.',
});

export const clusterPreferredEndpointType = engineParameter({
  name: 'cluster-preferred-endpoint-type',
  type: oneOf('ip', 'hostname', 'unknown-endpoint'),
  defaultValue: 'ip',
  since: '7.0',
  elastiCache: "ElastiCache's default `tls-dynamic` is its own value (a hostname with TLS); Redis knows ip, hostname and unknown-endpoint.",
  description: 'Cluster mode: what MOVED, ASK and CLUSTER SHARDS name a node by.',
});

export const closeOnReplicaWrite: ParameterSpec = {
  name: 'close-on-replica-write',
  type: explained(
    oneOf('no'),
    'must be no: Redis answers a write sent to a replica with a READONLY error and keeps the connection, and cachefleet has no proxy to close it (reconnect on READONLY in the client instead, as ioredis `reconnectOnError` does)',
  ),
  defaultValue: 'no',
  apply: 'live',
  target: 'none',
  elastiCache: "ElastiCache's own parameter (default yes), with no Redis directive: only the value matching the engine's behaviour is accepted.",
  description: 'ElastiCache: closes the connection of a client that writes to a replica.',
};

export const replicaAllowChaining: ParameterSpec = {
  name: 'replica-allow-chaining',
  type: explained(oneOf('no'), 'must be no: Sentinel points every replica at the primary, so replicas of replicas are not offered'),
  defaultValue: 'no',
  apply: 'live',
  target: 'none',
  elastiCache: "ElastiCache's own parameter (not modifiable, no), with no Redis directive.",
  description: 'ElastiCache: lets a replica have replicas of its own.',
};

/** The cluster-mode and ElastiCache-only parameters of every Redis and Valkey family, in rendering order. */
export const REDIS_ELASTICACHE_PARAMETERS = [
  clusterEnabled,
  clusterNodeTimeout,
  clusterMigrationBarrier,
  clusterRequireFullCoverage,
  clusterAllowReadsWhenDown,
  clusterAllowPubsubshardWhenDown,
  clusterPreferredEndpointType,
  closeOnReplicaWrite,
  replicaAllowChaining,
];
