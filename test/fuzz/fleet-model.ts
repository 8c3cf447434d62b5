import type { FleetConstruct } from './core-arbitraries';
import { Draw, Verdict } from './picks';
import { CacheEngine, EngineType } from '../../src/core/engine';
import { ClusterMode } from '../../src/core/fleet-options';
import { ParameterGroup } from '../../src/core/parameters/parameter-group';
import { Persistence, PersistenceMode } from '../../src/core/persistence';
import { CLUSTER, LIMITS } from '../../src/core/validation';

/**
 * A model of the rules that tie one prop to another, written from the props' documentation: it
 * settles the `depends` verdicts it can, and says how big a whole fleet of the props is.
 */

/** How big a fleet is, when the props that size it were drawn valid. */
export interface FleetSize {
  readonly dataNodes: number;
  /** Whether Sentinel watches the fleet (a replication group with replicas). */
  readonly failover: boolean;
  readonly memcached: boolean;
  /** The shards, with cluster mode enabled. */
  readonly shards?: number;
}

/** The parameters that decide persistence; a parameter group may not set them beside the `persistence` prop. */
const PERSISTENCE_PARAMETERS = ['appendonly', 'appendfsync', 'save'];

/** The fleet's engine, when it is one (one whose family has no catalog is refused, but still sizes the fleet). */
export function engineOf(props: Record<string, unknown>): CacheEngine | undefined {
  return props.engine instanceof CacheEngine ? props.engine : undefined;
}

export function fleetSize(construct: FleetConstruct, draw: Draw, props: Record<string, unknown>): FleetSize | undefined {
  const engine = engineOf(props);
  if (!engine) return undefined;
  const memcached = engine.engineType === EngineType.MEMCACHED;
  if (construct === 'ReplicationGroup') {
    if (draw.replicasPerShard.verdict !== 'valid') return undefined;
    const replicas = (props.replicasPerShard as number | undefined) ?? 1;
    if (clustered(props)) {
      const shards = props.shards ?? CLUSTER.defaultShards;
      if (!Number.isInteger(shards) || (shards as number) < CLUSTER.minShards || (shards as number) > LIMITS.maxShards) return undefined;
      return { dataNodes: (shards as number) * (1 + replicas), failover: false, memcached, shards: shards as number };
    }
    return { dataNodes: 1 + replicas, failover: replicas > 0, memcached };
  }
  if (draw.numCacheNodes.verdict !== 'valid') return undefined;
  return { dataNodes: (props.numCacheNodes as number | undefined) ?? 1, failover: false, memcached };
}

/** Verdicts of the engine-neutral props that depend on other props. */
export function settleFleet(construct: FleetConstruct, draw: Draw, props: Record<string, unknown>): Record<string, Verdict> {
  const engine = engineOf(props);
  const size = fleetSize(construct, draw, props);
  const verdicts: Record<string, Verdict> = {};

  if (construct === 'CacheCluster' && engine && engine.engineType !== EngineType.MEMCACHED && (props.numCacheNodes ?? 1) !== 1) {
    verdicts.numCacheNodes = 'invalid';
  }
  if (props.port === 26379 && size) verdicts.port = size.failover ? 'invalid' : 'valid';
  if (construct === 'ReplicationGroup') Object.assign(verdicts, settleCluster(draw, props, engine, group(props)));

  const groupOf = group(props);
  if (groupOf && engine && groupOf.family !== engine.parameterGroupFamily) verdicts.parameterGroup = 'invalid';

  const persistence = props.persistence instanceof Persistence ? props.persistence : undefined;
  if (persistence && engine) {
    const setByGroup = PERSISTENCE_PARAMETERS.some((name) => groupOf?.parameters[name] !== undefined);
    if (engine.engineType === EngineType.MEMCACHED) {
      verdicts.persistence = persistence.mode === PersistenceMode.NONE ? 'valid' : 'invalid';
    } else if (setByGroup) {
      // The error names the group's parameter, which the group's own verdict allows.
      verdicts.persistence = 'invalid';
    } else if (draw.parameterGroup.verdict === 'valid' || groupOf !== undefined) {
      verdicts.persistence = 'valid';
    }
  }
  return verdicts;
}

function group(props: Record<string, unknown>): ParameterGroup | undefined {
  return props.parameterGroup instanceof ParameterGroup ? props.parameterGroup : undefined;
}

function clustered(props: Record<string, unknown>): boolean {
  return props.clusterMode === ClusterMode.ENABLED;
}

/**
 * The cluster-mode rules: Memcached refuses ENABLED; `shards` is 3 to 500 with it, unset or 1
 * without; the bus port (port + 10000) must exist; a group's `cluster-enabled` must agree.
 */
function settleCluster(
  draw: Draw,
  props: Record<string, unknown>,
  engine: CacheEngine | undefined,
  parameterGroup: ParameterGroup | undefined,
): Record<string, Verdict> {
  const verdicts: Record<string, Verdict> = {};
  const on = clustered(props);
  if (draw.clusterMode.verdict === 'depends') {
    verdicts.clusterMode = on && engine?.engineType === EngineType.MEMCACHED ? 'invalid' : 'valid';
  }
  if (draw.shards.verdict === 'depends') {
    const n = props.shards as number;
    verdicts.shards = on ? (n >= CLUSTER.minShards ? 'valid' : 'invalid') : (n === 1 ? 'valid' : 'invalid');
  }
  if (on && typeof props.port === 'number' && Number.isInteger(props.port) && props.port + CLUSTER.busPortOffset > 65535) verdicts.port = 'invalid';
  const given = parameterGroup?.parameters['cluster-enabled'];
  if (given !== undefined && engine && engine.engineType !== EngineType.MEMCACHED && given !== (on ? 'yes' : 'no')) verdicts.parameterGroup = 'invalid';
  return verdicts;
}

/** How many slots (machines or containers) a fleet of this size has. */
export function slotCount(size: FleetSize, dedicatedSentinels: boolean): number {
  if (!size.failover) return size.dataNodes;
  return dedicatedSentinels ? size.dataNodes + 3 : Math.max(size.dataNodes, 3);
}
