import { z } from 'zod';
import { BACKUP_LIMITS, BackupPlan, planBackup } from './backup';
import { CacheEngine, EngineType } from './engine';
import { ValidationError } from './errors';
import { CacheClusterOptions, ClusterMode, FailureDetection, ReplicationGroupOptions } from './fleet-options';
import { ParameterGroup } from './parameters/parameter-group';
import { Persistence, PersistenceMode } from './persistence';
import { engineSchema, enumSchema, instanceOf, integerBetween, NO_TOKENS, parse, TokenCheck } from './schema';

export { NO_TOKENS };
export type { TokenCheck };

/** ElastiCache's limits, kept where they make sense for a self-managed fleet. */
export const LIMITS = {
  maxReplicasPerShard: 5,
  maxMemcachedNodes: 40,
  minAuthTokenLength: 16,
  maxAuthTokenLength: 128,
  sentinelPort: 26379,
  /** ElastiCache's most node groups (shards) in one cluster-mode group; a flavor may fit fewer. */
  maxShards: 500,
} as const;

/**
 * Redis / Valkey Cluster's fixed facts, and cachefleet's one rule about it.
 */
export const CLUSTER = {
  /** The hash slots the shards split. */
  hashSlots: 16_384,
  /** The cluster bus listens on the data port plus this. */
  busPortOffset: 10_000,
  /**
   * The fewest shards: a replica is promoted only with the votes of a majority of the primaries,
   * so with one or two primaries the loss of one leaves no majority and its shard never fails over.
   */
  minShards: 3,
  /** The shards of a cluster-mode group when `shards` is unset. */
  defaultShards: 3,
} as const;

/** The printable ASCII characters an AUTH token must not hold (ElastiCache's list). */
const REFUSED_TOKEN_CHARACTERS = ' "/@';

/**
 * ElastiCache's rule for an AUTH token, stated here once: 16 to 128 printable ASCII characters
 * other than space, `"`, `/` and `@`. Every entry of a token checks it: the props known at synth
 * ({@link requireAuthTokenRule}), a Terraform variable's validation and precondition (`pattern`
 * in `regex()`), the node agent for files and secrets read at start (`pattern` in `grep -E`), and
 * the generator of a token cachefleet creates (`refusedCharacters`). `pattern` is plain enough for
 * ECMAScript, RE2 and POSIX extended expressions alike.
 */
export const AUTH_TOKEN_RULE = {
  minLength: LIMITS.minAuthTokenLength,
  maxLength: LIMITS.maxAuthTokenLength,
  /** The printable ASCII characters refused. */
  refusedCharacters: REFUSED_TOKEN_CHARACTERS,
  /** Every character printable ASCII (0x21-0x7E) but `refusedCharacters`: `"` (0x22), `/` (0x2F) and `@` (0x40). */
  pattern: '^[!#-.0-?A-~]+$',
  /** What is accepted, in words, for messages and descriptions. */
  allowed: `${LIMITS.minAuthTokenLength} to ${LIMITS.maxAuthTokenLength} printable ASCII characters other than ${
    [...REFUSED_TOKEN_CHARACTERS].map((c) => (c === ' ' ? 'space' : c)).join(', ').replace(/, ([^,]*)$/, ' and $1')
  }`,
} as const;

/** Whether `token` follows {@link AUTH_TOKEN_RULE}. */
export function followsAuthTokenRule(token: string): boolean {
  return token.length >= AUTH_TOKEN_RULE.minLength && token.length <= AUTH_TOKEN_RULE.maxLength && new RegExp(AUTH_TOKEN_RULE.pattern).test(token);
}

/**
 * Checks a token known at synth time against {@link AUTH_TOKEN_RULE}; the message never shows the token.
 *
 * @throws ValidationError naming `propPath`
 */
export function requireAuthTokenRule(propPath: string, token: string): void {
  if (!followsAuthTokenRule(token)) throw new ValidationError(propPath, token, `must be ${AUTH_TOKEN_RULE.allowed}`, true);
}

/**
 * Memcached has no AUTH: a flavor's AUTH token prop must be unset for it, rather than ignored (a
 * token would suggest a protection the fleet does not have).
 *
 * @param given how the refused value is shown (a token prop never echoes its value)
 */
export function refuseAuthTokenForMemcached(propPath: string, engine: CacheEngine, given: string | undefined): void {
  if (given !== undefined && engine.engineType === EngineType.MEMCACHED) {
    throw new ValidationError(propPath, given, 'must be unset for Memcached, which has no AUTH (keep its network private)');
  }
}

/** The ACL user names cachefleet keeps for itself. */
export const INTERNAL_USERS = { sentinel: 'cachefleet-sentinel', replication: 'cachefleet-replication', admin: 'cachefleet-admin' } as const;

const fleetSchema = z.object({
  engine: engineSchema(),
  parameterGroup: instanceOf<ParameterGroup>(ParameterGroup, 'must be a ParameterGroup').optional(),
  port: integerBetween(1, 65535).optional(),
  persistence: instanceOf<Persistence>(
    Persistence,
    'must be a Persistence (Persistence.none(), .rdb(), .aofEverySecond() or .aofAlways())',
  ).optional(),
  authUsername: z
    .string({ error: 'must be a string' })
    .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'must be 1 to 64 letters, digits, `_` or `-`' })
    .refine((name) => name !== 'default', { error: 'must not be `default` (the default user is switched off)' })
    .refine((name) => !Object.values(INTERNAL_USERS).includes(name as never), {
      error: `must not be one of cachefleet's own users (${Object.values(INTERNAL_USERS).join(', ')})`,
    })
    .optional(),
  snapshotRetentionLimit: integerBetween(0, BACKUP_LIMITS.maxRetentionDays, `must be a whole number of days from 0 (no scheduled backup) to ${BACKUP_LIMITS.maxRetentionDays}`).optional(),
  snapshotWindow: z.string({ error: 'must be a string `hh:mm-hh:mm`' }).optional(),
});

const replicationGroupSchema = fleetSchema.extend({
  replicasPerShard: integerBetween(0, LIMITS.maxReplicasPerShard).optional(),
  failureDetection: z
    .enum(FailureDetection, { error: `must be one of ${Object.values(FailureDetection).map((v) => `FailureDetection.${v}`).join(', ')}` })
    .optional(),
  clusterMode: enumSchema(ClusterMode, 'ClusterMode').optional(),
  shards: integerBetween(1, LIMITS.maxShards).optional(),
});

const cacheClusterSchema = fleetSchema.extend({
  numCacheNodes: integerBetween(1, LIMITS.maxMemcachedNodes).optional(),
});

/** A cluster-mode group's size. */
export interface ValidatedCluster {
  readonly shards: number;
  readonly replicasPerShard: number;
}

/** The props a flavor passed, checked and with every default filled in. */
export interface ValidatedFleet {
  readonly engine: CacheEngine;
  readonly parameterGroup?: ParameterGroup;
  readonly port: number;
  readonly persistence?: Persistence;
  readonly authUsername: string;
  /** Data nodes: 1 + replicas for a replication group, `numCacheNodes` for a cache cluster. */
  readonly dataNodes: number;
  /** Whether Sentinel fails the group over. */
  readonly failover: boolean;
  /** How the sentinels detect a silent primary (replication groups; cache clusters do not fail over). */
  readonly failureDetection: FailureDetection;
  /** The shards and their replicas, with cluster mode enabled. */
  readonly cluster?: ValidatedCluster;
  /** Scheduled backups, when `snapshotRetentionLimit` or `snapshotWindow` is set. */
  readonly backup?: BackupPlan;
  readonly construct: 'ReplicationGroup' | 'CacheCluster';
}

/** Checks a replication group's props; throws `ValidationError` on the first problem. */
export function validateReplicationGroupOptions(props: ReplicationGroupOptions, tokens: TokenCheck = NO_TOKENS): ValidatedFleet {
  const valid = parse(replicationGroupSchema, props, tokens, ['replicasPerShard', 'port', 'authUsername', 'shards', 'clusterMode', 'snapshotRetentionLimit', 'snapshotWindow']);
  const clustered = valid.clusterMode === ClusterMode.ENABLED;
  if (valid.engine.engineType === EngineType.MEMCACHED) {
    if (clustered) {
      throw new ValidationError('clusterMode', `ClusterMode.${valid.clusterMode}`, 'must be unset or ClusterMode.DISABLED for Memcached, which has no cluster mode (a CacheCluster of Memcached nodes spreads keys on the client side)');
    }
    throw new ValidationError('engine', valid.engine.engineType, 'must be Redis or Valkey for a ReplicationGroup (Memcached does not replicate: use a CacheCluster)');
  }
  const replicas = valid.replicasPerShard ?? 1;
  const failureDetection = valid.failureDetection ?? FailureDetection.STALL_TOLERANT;
  if (!clustered) {
    if (valid.shards !== undefined && valid.shards !== 1) {
      throw new ValidationError('shards', valid.shards, `must be unset or 1 with cluster mode disabled: set clusterMode to ClusterMode.ENABLED for ${CLUSTER.minShards} or more shards`);
    }
    return { ...finish(valid, 'ReplicationGroup', 1 + replicas, replicas > 0), failureDetection };
  }
  const shards = valid.shards ?? CLUSTER.defaultShards;
  if (shards < CLUSTER.minShards) {
    throw new ValidationError('shards', shards,
      `must be at least ${CLUSTER.minShards} with cluster mode enabled (a shard's replica is promoted only with the votes of a majority of the primaries), at most ${LIMITS.maxShards}`);
  }
  const port = valid.port ?? valid.engine.defaultPort;
  if (port + CLUSTER.busPortOffset > 65535) {
    throw new ValidationError('port', port, `must be at most ${65535 - CLUSTER.busPortOffset} with cluster mode enabled: the cluster bus listens on the port plus ${CLUSTER.busPortOffset}`);
  }
  return {
    ...finish(valid, 'ReplicationGroup', shards * (1 + replicas), false),
    failureDetection,
    cluster: { shards, replicasPerShard: replicas },
  };
}

/** Checks a cache cluster's props; throws `ValidationError` on the first problem. */
export function validateCacheClusterOptions(props: CacheClusterOptions, tokens: TokenCheck = NO_TOKENS): ValidatedFleet {
  const valid = parse(cacheClusterSchema, props, tokens, ['numCacheNodes', 'port', 'authUsername', 'snapshotRetentionLimit', 'snapshotWindow']);
  const nodes = valid.numCacheNodes ?? 1;
  if (valid.engine.engineType !== EngineType.MEMCACHED && nodes !== 1) {
    throw new ValidationError('numCacheNodes', nodes, 'must be 1 for Redis and Valkey (use a ReplicationGroup for replicas)');
  }
  return finish(valid, 'CacheCluster', nodes, false);
}

function finish(
  valid: z.infer<typeof fleetSchema>,
  construct: ValidatedFleet['construct'],
  dataNodes: number,
  failover: boolean,
): ValidatedFleet {
  const engine = valid.engine;
  const port = valid.port ?? engine.defaultPort;
  if (failover && port === LIMITS.sentinelPort) {
    throw new ValidationError('port', port, `must not be ${LIMITS.sentinelPort}: Sentinel listens there on the same nodes`);
  }
  if (valid.parameterGroup && valid.parameterGroup.family !== engine.parameterGroupFamily) {
    throw new ValidationError(
      'parameterGroup',
      `a parameter group of family ${valid.parameterGroup.family}`,
      `must be of the engine's family "${engine.parameterGroupFamily}"`,
    );
  }
  if (engine.engineType === EngineType.MEMCACHED && valid.persistence && valid.persistence.mode !== PersistenceMode.NONE) {
    throw new ValidationError('persistence', valid.persistence.mode, 'must be unset or Persistence.none() for Memcached, which keeps no data on disk');
  }
  if (engine.engineType === EngineType.MEMCACHED) {
    for (const prop of ['snapshotRetentionLimit', 'snapshotWindow'] as const) {
      if (valid[prop] !== undefined) throw new ValidationError(prop, valid[prop], 'must be unset for Memcached, which keeps no data to back up');
    }
  }
  return {
    engine,
    parameterGroup: valid.parameterGroup,
    port,
    persistence: valid.persistence,
    authUsername: valid.authUsername ?? 'app',
    dataNodes,
    failover,
    failureDetection: FailureDetection.STALL_TOLERANT,
    backup: planBackup(valid.snapshotRetentionLimit, valid.snapshotWindow),
    construct,
  };
}
