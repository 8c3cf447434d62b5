import { FleetPlan, NodeSlot } from '../topology';
import { AUTH_TOKEN_RULE } from '../validation';
import { dataSlots, memcachedConnectionLimit, NODE_OPEN_FILES, RDB_FILE_NAME, sentinelPort, tcpBacklog } from './plan-facts';

/**
 * `fleet.env` and `slots/<slot>.env`: POSIX-shell files the agent sources, one `NAME='value'` per
 * line. Every variable is always written, empty where it does not apply, so the agent can run
 * with `set -u`: the agent defaults none of them and refuses a bundle that lacks one.
 */

/**
 * The characters an AUTH token may hold: the bracket expression of AUTH_TOKEN_RULE's pattern
 * (`^[…]+$`). The agent matches each token against it as a shell pattern's set (`*[!…]*`), which
 * starts no process; the same ranges mean the same bytes there as in the regular expression.
 */
export function tokenCharacters(): string {
  const match = /^\^\[([^\]]+)\]\+\$$/.exec(AUTH_TOKEN_RULE.pattern);
  if (!match) throw new Error(`AUTH_TOKEN_RULE.pattern must be one bracket expression, ^[...]+$, for the node agent: got ${AUTH_TOKEN_RULE.pattern}`);
  return match[1];
}

/** A value in single quotes: the shell gives nothing in them a meaning; a `'` is written `'\''`. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, "'\\''")}'`;
}

function envFile(header: string, variables: Array<[string, string | number]>): string {
  return [`# ${header}`, ...variables.map(([name, value]) => `${name}=${shellQuote(String(value))}`)].map((text) => `${text}\n`).join('');
}

/** `fleet.env`: the group-wide variables of docs/node-agent.md. */
export function renderFleetEnv(plan: FleetPlan): string {
  const engine = plan.engine;
  const installation = engine.installation;
  const redisLike = engine.supportsReplication;
  const sentinel = plan.sentinel;
  const cluster = plan.cluster;
  return envFile(`cachefleet: fleet "${plan.name}", sourced by the node agent.`, [
    ['CF_FLEET_NAME', plan.name],
    ['CF_KIND', plan.kind],
    ['CF_ENGINE', engine.engineType],
    ['CF_ENGINE_VERSION', engine.engineVersion],
    ['CF_BINARY_PREFIX', installation.amazonLinuxBinaryPrefix ?? engine.engineType],
    // The official images name their programs after the engine (valkey-server), whatever the package.
    ['CF_IMAGE_BINARY_PREFIX', engine.engineType],
    ['CF_PACKAGE', installation.amazonLinuxPackage ?? ''],
    // The pinned image (EC2 runs it with AL2023's docker package when CF_PACKAGE is empty).
    ['CF_CONTAINER_IMAGE', installation.containerImage],
    // Who runs the engine, never root: the system user on an EC2 node (the package's own, or one the
    // node creates to run the image as), and the image's own uid:gid inside a container.
    ['CF_ENGINE_USER', engine.engineUser],
    ['CF_CONTAINER_USER', installation.containerUser],
    ['CF_PORT', plan.port],
    ['CF_SENTINEL_PORT', sentinel ? sentinelPort(plan) : ''],
    ['CF_MASTER_NAME', sentinel?.masterName ?? ''],
    ['CF_QUORUM', sentinel?.quorum ?? ''],
    ['CF_SENTINELS', sentinel?.endpoints.join(' ') ?? ''],
    ['CF_DATA_NODES', dataSlots(plan).map((slot) => `${slot.address}:${slot.enginePort ?? plan.port}`).join(' ')],
    // Cluster mode (empty otherwise): the bus port, the node timeout, the replicas of each shard, the
    // balanced slot range of each shard (`<shard>:<first>-<last>`), every data node as
    // `<slot>:<address>:<port>:<shard>`, and the slot whose node forms a new cluster.
    ['CF_CLUSTER_BUS_PORT', cluster?.busPort ?? ''],
    ['CF_CLUSTER_NODE_TIMEOUT', cluster?.nodeTimeoutMillis ?? ''],
    ['CF_CLUSTER_REPLICAS', cluster?.replicasPerShard ?? ''],
    ['CF_CLUSTER_SHARDS', cluster?.shards.map((shard) => `${shard.index}:${shard.slotRange[0]}-${shard.slotRange[1]}`).join(' ') ?? ''],
    ['CF_CLUSTER_NODES', cluster ? dataSlots(plan).map((slot) => `${slot.name}:${slot.address}:${slot.enginePort ?? plan.port}:${slot.shard}`).join(' ') : ''],
    ['CF_CLUSTER_FORMER', cluster?.former ?? ''],
    ['CF_APP_USER', redisLike ? plan.users.application : ''],
    ['CF_SENTINEL_USER', redisLike ? plan.users.sentinel : ''],
    ['CF_REPLICATION_USER', redisLike ? plan.users.replication : ''],
    ['CF_ADMIN_USER', redisLike ? plan.users.admin : ''],
    ['CF_RESERVED_MEMORY_PERCENT', plan.reservedMemoryPercent],
    // The node raises the kernel's somaxconn to at least the engine's listen backlog.
    ['CF_TCP_BACKLOG', tcpBacklog(plan)],
    // The RDB file's name in the data directory.
    ['CF_RDB_FILE', redisLike ? RDB_FILE_NAME : ''],
    // Scheduled backups: days kept (0: none), and the daily UTC window (its first minute after
    // midnight and its length), in which each node looks whether today's backup is taken.
    ['CF_BACKUP_RETENTION_DAYS', plan.backup?.retentionDays ?? 0],
    ['CF_BACKUP_WINDOW_START', plan.backup?.windowStartMinute ?? ''],
    ['CF_BACKUP_WINDOW_MINUTES', plan.backup?.windowMinutes ?? ''],
    // memcached's --conn-limit, which the node lowers to its hard open-file limit when that is lower.
    ['CF_CONN_LIMIT', redisLike ? '' : memcachedConnectionLimit(plan)],
    // The engines' open-file limit (the EC2 units' LimitNOFILE; the Docker flavor's ulimit).
    ['CF_OPEN_FILES', NODE_OPEN_FILES],
    // AUTH_TOKEN_RULE, which the agent applies to every password it reads.
    ['CF_TOKEN_MIN_LENGTH', AUTH_TOKEN_RULE.minLength],
    ['CF_TOKEN_MAX_LENGTH', AUTH_TOKEN_RULE.maxLength],
    ['CF_TOKEN_CHARACTERS', tokenCharacters()],
    ['CF_TOKEN_RULE', AUTH_TOKEN_RULE.allowed],
  ]);
}

/** `slots/<slot>.env`: what the agent knows about the slot it runs as. */
export function renderSlotEnv(plan: FleetPlan, slot: NodeSlot): string {
  if (!plan.slots.some((candidate) => candidate.name === slot.name)) throw new Error(`slot "${slot.name}" is not a slot of fleet "${plan.name}"`);
  return envFile(`cachefleet: slot "${slot.name}" of fleet "${plan.name}", sourced by the node agent.`, [
    ['CF_SLOT', slot.name],
    ['CF_ADDRESS', slot.address],
    ['CF_ROLE', slot.role],
    ['CF_SHARD', slot.shard],
    ['CF_ZONE_INDEX', slot.zoneIndex],
    ['CF_SERVICES', slot.services.join(' ')],
  ]);
}
