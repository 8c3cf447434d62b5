import { engineParameter } from './parameter-spec';
import { INT_MAX, integer, LLONG_MAX, memory, oneOf, yesNo } from './value-types';

/** Redis and Valkey parameters about replication between a primary and its replicas. */

export const replBacklogSize = engineParameter({
  name: 'repl-backlog-size',
  // ElastiCache's floor: a backlog smaller than 16 KB turns every short disconnection into a full resync.
  type: memory(16384n, LLONG_MAX),
  defaultValue: '1048576',
  description: 'Size of the backlog of recent writes a reconnecting replica catches up from without a full resync.',
});

export const replBacklogTtl = engineParameter({
  name: 'repl-backlog-ttl',
  type: integer(0n, INT_MAX),
  defaultValue: '3600',
  description: 'Seconds a primary without replicas keeps its backlog (0: forever).',
});

export const replTimeout = engineParameter({
  name: 'repl-timeout',
  type: integer(1n, INT_MAX),
  defaultValue: '60',
  elastiCache: 'Not an ElastiCache parameter since Redis 5 (fixed at 60).',
  description: 'Seconds without data or pings after which a primary and replica consider their link dead.',
});

export const replPingReplicaPeriod = engineParameter({
  name: 'repl-ping-replica-period',
  type: integer(1n, INT_MAX),
  defaultValue: '10',
  description: 'Seconds between the pings a primary sends its replicas.',
});

export const replDisklessSync = engineParameter({
  name: 'repl-diskless-sync',
  type: yesNo(),
  defaultValue: 'yes',
  description: 'Streams the snapshot of a full resync straight to replicas instead of writing it to disk first.',
});

export const replDisklessSyncDelay = engineParameter({
  name: 'repl-diskless-sync-delay',
  type: integer(0n, INT_MAX),
  defaultValue: '5',
  description: 'Seconds a diskless full resync waits for more replicas to share it.',
});

export const replDisklessSyncMaxReplicas = engineParameter({
  name: 'repl-diskless-sync-max-replicas',
  type: integer(0n, INT_MAX),
  defaultValue: '0',
  since: '7.0',
  description: 'Starts a diskless full resync before the delay ends once this many replicas wait (0: wait the full delay).',
});

export const replDisklessLoad = engineParameter({
  name: 'repl-diskless-load',
  type: oneOf('disabled', 'on-empty-db', 'swapdb'),
  defaultValue: 'disabled',
  description: 'Whether a replica loads a full resync straight from the socket instead of from a file on disk.',
});

export const replDisableTcpNodelay = engineParameter({
  name: 'repl-disable-tcp-nodelay',
  type: yesNo(),
  defaultValue: 'no',
  description: 'Batches replication traffic into fewer packets, at the cost of replica lag.',
});

export const minReplicasToWrite = engineParameter({
  name: 'min-replicas-to-write',
  type: integer(0n, INT_MAX),
  defaultValue: '0',
  description: 'Fewest replicas within min-replicas-max-lag for the primary to accept writes (0: accept always).',
});

export const minReplicasMaxLag = engineParameter({
  name: 'min-replicas-max-lag',
  type: integer(0n, INT_MAX),
  defaultValue: '10',
  description: 'Seconds since its last ping within which a replica counts for min-replicas-to-write.',
});

export const replicaPriority = engineParameter({
  name: 'replica-priority',
  type: integer(0n, INT_MAX),
  defaultValue: '100',
  description: 'Sentinel promotes the replica with the lowest priority first; 0 means never.',
});

export const replicaServeStaleData = engineParameter({
  name: 'replica-serve-stale-data',
  type: yesNo(),
  defaultValue: 'yes',
  description: 'Lets a replica that lost its primary keep answering reads with its possibly stale data.',
});

/** The replication parameters of every Redis and Valkey family, in rendering order. */
export const REDIS_REPLICATION_PARAMETERS = [
  replBacklogSize,
  replBacklogTtl,
  replTimeout,
  replPingReplicaPeriod,
  replDisklessSync,
  replDisklessSyncDelay,
  replDisklessSyncMaxReplicas,
  replDisklessLoad,
  replDisableTcpNodelay,
  minReplicasToWrite,
  minReplicasMaxLag,
  replicaPriority,
  replicaServeStaleData,
];
