import { EngineType } from '../engine';
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
