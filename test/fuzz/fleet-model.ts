import type { FleetConstruct } from './core-arbitraries';
import { Draw, Verdict } from './picks';
import { CacheEngine, EngineType } from '../../src/core/engine';
import { ParameterGroup } from '../../src/core/parameters/parameter-group';
import { Persistence, PersistenceMode } from '../../src/core/persistence';

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

  const group = props.parameterGroup instanceof ParameterGroup ? props.parameterGroup : undefined;
  if (group && engine && group.family !== engine.parameterGroupFamily) verdicts.parameterGroup = 'invalid';

  const persistence = props.persistence instanceof Persistence ? props.persistence : undefined;
  if (persistence && engine) {
    const setByGroup = PERSISTENCE_PARAMETERS.some((name) => group?.parameters[name] !== undefined);
    if (engine.engineType === EngineType.MEMCACHED) {
      verdicts.persistence = persistence.mode === PersistenceMode.NONE ? 'valid' : 'invalid';
    } else if (setByGroup) {
      // The error names the group's parameter, which the group's own verdict allows.
      verdicts.persistence = 'invalid';
    } else if (draw.parameterGroup.verdict === 'valid' || group !== undefined) {
      verdicts.persistence = 'valid';
    }
  }
  return verdicts;
}

/** How many slots (machines or containers) a fleet of this size has. */
export function slotCount(size: FleetSize, dedicatedSentinels: boolean): number {
  if (!size.failover) return size.dataNodes;
  return dedicatedSentinels ? size.dataNodes + 3 : Math.max(size.dataNodes, 3);
}
