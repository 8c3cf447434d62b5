import { loopbackAddresses } from '../integ/support/plans';

/**
 * Where the fault fleets live and how much each check does. Addresses 127.0.0.101-139 belong to
 * the fault suite (test/integ/README.md); the full run and the jest version share them, as they
 * never run at the same time.
 */
export const FAULT_ADDRESSES = {
  /** A replication group: three data nodes, then three sentinels. */
  firstGroup: loopbackAddresses(101, 6),
  /** Another (the second engine's in the full run; the split brain's in the jest version, beside the first). */
  secondGroup: loopbackAddresses(111, 6),
  /** The single nodes of the AOF checks (one at a time). */
  aofNode: '127.0.0.121',
  memcached: loopbackAddresses(131, 3),
  /** The split-brain writer's source: the one address the isolated primary still reaches. */
  partitionWriter: '127.0.0.137',
  /** A cluster-mode group: 3 shards of a primary and a replica. */
  cluster: loopbackAddresses(122, 6),
  /** The cluster checks' writer's source address. */
  clusterWriter: '127.0.0.128',
  /** Stands for the Docker host's 127.0.0.1, where ports would be published. */
  dockerHost: '127.0.0.139',
} as const;

/** How much one run does. */
export interface FaultProfile {
  readonly mode: 'full' | 'short';
  /** Failover trials of the first engine (Redis 7.0). */
  readonly failoverTrials: number;
  /** Failover trials of the second engine (Valkey 8.0); 0 skips it. */
  readonly secondEngineTrials: number;
  /** `DEBUG SLEEP` stalls of the primary per engine and detection setting. */
  readonly stallTrials: number;
  /** Host-loss trials of each kind (processes killed, traffic dropped) per engine and setting; 0 skips them. */
  readonly hostLossTrialsPerKind: number;
  /** Whether the crash, stall and host-loss checks run again with `FailureDetection.FAST`. */
  readonly fastDetection: boolean;
  /** Steady writing before each kill, ms. */
  readonly steadyMs: number;
  readonly writesPerSecond: number;
  /** How long the primary stays cut off, ms. */
  readonly partitionMs: number;
  /** Writing before the AOF node is killed, ms. */
  readonly aofWriteMs: number;
  readonly memcachedKeys: number;
  /** Crash trials of a cluster-mode group per engine (each kills the primary of the next shard). */
  readonly clusterTrials: number;
}

/** `npm run faults`: the figures that are committed. */
export const FULL_PROFILE: FaultProfile = {
  mode: 'full',
  failoverTrials: 20,
  secondEngineTrials: 20,
  stallTrials: 10,
  hostLossTrialsPerKind: 3,
  fastDetection: true,
  steadyMs: 2_000,
  writesPerSecond: 1_000,
  partitionMs: 30_000,
  aofWriteMs: 3_000,
  memcachedKeys: 30_000,
  clusterTrials: 10,
};

/** The jest version: the same checks, few trials, a partition just longer than the refusal target. */
export const SHORT_PROFILE: FaultProfile = {
  mode: 'short',
  failoverTrials: 1,
  secondEngineTrials: 0,
  stallTrials: 1,
  hostLossTrialsPerKind: 0,
  fastDetection: false,
  steadyMs: 1_000,
  writesPerSecond: 1_000,
  partitionMs: 12_500,
  aofWriteMs: 1_000,
  memcachedKeys: 3_000,
  clusterTrials: 1,
};
