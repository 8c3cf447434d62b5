import { EngineType } from '../engine';
import { catalogEntries } from '../parameters/resolve';
import { FleetPlan, NodeSlot } from '../topology';

/**
 * What the renderers read from a plan beyond its fields. A plan that breaks one of these rules is a
 * planner bug, not a user error: the renderers throw a plain `Error` rather than write a file that
 * would fail on a node.
 */

/** Refuses a Redis/Valkey renderer on a Memcached plan and the other way round. */
export function requireEngine(plan: FleetPlan, family: 'redis' | 'memcached', file: string): void {
  const memcached = plan.engine.engineType === EngineType.MEMCACHED;
  if (memcached !== (family === 'memcached')) {
    throw new Error(`${file} is not part of a ${plan.engine.engineType} fleet ("${plan.name}")`);
  }
}

/** The slots that run the engine (Redis, Valkey or Memcached), in plan order. */
export function dataSlots(plan: FleetPlan): NodeSlot[] {
  return plan.slots.filter((slot) => slot.services.includes('redis') || slot.services.includes('memcached'));
}

/** The slots that run a sentinel, in plan order. */
export function sentinelSlots(plan: FleetPlan): NodeSlot[] {
  return plan.slots.filter((slot) => slot.services.includes('sentinel'));
}

/** The slot that starts as the primary: the address sentinels first monitor. */
export function initialPrimary(plan: FleetPlan): NodeSlot {
  const primaries = plan.slots.filter((slot) => slot.role === 'primary');
  if (primaries.length !== 1) {
    throw new Error(`fleet "${plan.name}" must start with exactly one primary slot, found ${primaries.length}`);
  }
  return primaries[0];
}

/**
 * The port every sentinel listens on. `sentinel.conf` is one file for the whole group, so the port
 * must be the same on every sentinel slot.
 */
export function sentinelPort(plan: FleetPlan): number {
  const ports = [...new Set(sentinelSlots(plan).map((slot) => slot.sentinelPort))];
  if (ports.length !== 1 || ports[0] === undefined) {
    throw new Error(`fleet "${plan.name}" must have one sentinel port shared by its sentinel slots, found: ${ports.join(', ') || 'none'}`);
  }
  return ports[0];
}

/**
 * The open-file limit every engine process gets, on both flavors: the EC2 units' `LimitNOFILE`
 * (aws/units.sh, from fleet.env) and the containers' `nofile` ulimit. memcached sets its own limit
 * to its connection limit (65000 by default) and refuses to start above the hard limit; Redis and
 * Valkey need `maxclients` (65000 by default) plus 32 and lower `maxclients` themselves otherwise.
 * Kept at 65536 rather than higher: a Docker daemon refuses a container a hard limit above its own.
 */
export const NODE_OPEN_FILES = 65_536;

/**
 * The RDB file's name in the data directory: the engine's default, which nothing may change
 * (`dbfilename` is refused as a parameter, and Redis 7 protects it from `CONFIG SET`). `backup`
 * copies it.
 */
export const RDB_FILE_NAME = 'dump.rdb';

/**
 * An engine parameter's value for the plan: the plan's (the user's, else the catalog's default, as the
 * planner resolved it), else the catalog's default for a plan that lists only some parameters.
 */
function engineParameter(plan: FleetPlan, name: string): string {
  const found = plan.engineParameters.find(([parameter]) => parameter === name);
  if (found) return found[1];
  const spec = catalogEntries(plan.engine.parameterGroupFamily).find((entry) => entry.name === name);
  if (spec?.defaultValue === undefined) throw new Error(`the ${plan.engine.parameterGroupFamily} catalog has no default for "${name}" (fleet "${plan.name}")`);
  return spec.defaultValue;
}

/**
 * The engine's listen backlog (Redis/Valkey `tcp-backlog`, Memcached `backlog_queue_limit`, its
 * `--listen-backlog`): the node raises the kernel's `somaxconn` to at least this.
 */
export function tcpBacklog(plan: FleetPlan): number {
  return Number(engineParameter(plan, plan.engine.engineType === EngineType.MEMCACHED ? 'backlog_queue_limit' : 'tcp-backlog'));
}

/**
 * memcached's connection limit (`max_simultaneous_connections`, its `--conn-limit`): the agent
 * lowers it, with a warning, to the node's hard open-file limit when that is lower.
 */
export function memcachedConnectionLimit(plan: FleetPlan): number {
  requireEngine(plan, 'memcached', 'the connection limit');
  return Number(engineParameter(plan, 'max_simultaneous_connections'));
}
