import { FleetPlan, NodeSlot } from '../topology';
import { dataSlots, sentinelPort } from './plan-facts';

/**
 * `fleet.env` and `slots/<slot>.env`: POSIX-shell files the agent sources, one `NAME='value'` per
 * line. Every variable is always written, empty where it does not apply, so the agent can run
 * with `set -u`.
 */

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
  return envFile(`cachefleet: fleet "${plan.name}", sourced by the node agent.`, [
    ['CF_FLEET_NAME', plan.name],
    ['CF_KIND', plan.kind],
    ['CF_ENGINE', engine.engineType],
    ['CF_ENGINE_VERSION', engine.engineVersion],
    ['CF_BINARY_PREFIX', installation.amazonLinuxBinaryPrefix ?? engine.engineType],
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
    ['CF_APP_USER', redisLike ? plan.users.application : ''],
    ['CF_SENTINEL_USER', redisLike ? plan.users.sentinel : ''],
    ['CF_REPLICATION_USER', redisLike ? plan.users.replication : ''],
    ['CF_ADMIN_USER', redisLike ? plan.users.admin : ''],
    ['CF_RESERVED_MEMORY_PERCENT', plan.reservedMemoryPercent],
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
