import type { FleetConstruct } from './core-arbitraries';
import { engineOf, FleetSize, fleetSize, settleFleet } from './fleet-model';
import { Draw, Verdict } from './picks';
import { EngineType } from '../../src/core/engine';

/**
 * The AWS flavor's rules between props: node slots spread over the selected zones' /24 subnets.
 * Its other props are judged alone, for every engine (a Memcached fleet ignores `dataVolumeSize` and
 * `removalPolicy` but refuses a value of the wrong kind all the same), except `authToken`, which a
 * Memcached fleet refuses whatever its value: it has no AUTH. A cluster-mode group must fit one
 * stack: at most 39 nodes (the nodes' role's policy size; src/aws/private/capacity.ts), so the most
 * shards depend on the replicas per shard.
 */

/**
 * The host numbers a fleet reserves in every subnet, whatever its zones: one per slot name it can
 * ever have (a replication group's 6 data nodes and 3 sentinel-only slots; Memcached's 40 nodes; a
 * single node; 6 per shard of a cluster-mode group), so that no address ever passes from one slot
 * name to another.
 */
function reservedHosts(construct: FleetConstruct, size: FleetSize): number {
  if (size.memcached) return 40;
  if (size.shards !== undefined) return 6 * size.shards;
  return construct === 'ReplicationGroup' ? 9 : 1;
}

/** The most nodes of a cluster-mode group on EC2, written from the `shards` refusal's message. */
export const MAX_CLUSTER_NODES = 39;

/** The highest host number a /24 subnet gives a node (255 is its broadcast address). */
const LAST_HOST = 254;

export function settleAws(construct: FleetConstruct, draw: Draw, props: Record<string, any>): Record<string, Verdict> {
  const verdicts = settleFleet(construct, draw, props);
  if (draw.authToken?.verdict === 'valid' && props.authToken !== undefined && engineOf(props)?.engineType === EngineType.MEMCACHED) {
    verdicts.authToken = 'invalid';
  }
  const size = fleetSize(construct, draw, props);
  if (size?.shards !== undefined && !size.memcached) {
    const replicas = (props.replicasPerShard as number | undefined) ?? 1;
    if (size.shards * (1 + replicas) > MAX_CLUSTER_NODES) verdicts.shards = 'invalid';
  }
  if (draw.nodeAddressOffset?.verdict === 'depends' && size && draw.vpcSubnets.verdict === 'valid') {
    verdicts.nodeAddressOffset = props.nodeAddressOffset + reservedHosts(construct, size) - 1 <= LAST_HOST ? 'valid' : 'invalid';
  }
  return verdicts;
}
