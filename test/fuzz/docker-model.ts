import type { FleetConstruct } from './core-arbitraries';
import { engineOf, FleetSize, fleetSize, settleFleet, slotCount } from './fleet-model';
import { Draw, Verdict } from './picks';
import { EngineType } from '../../src/core/engine';

/** The Docker flavor's rules between props: a container per node and per sentinel, in one subnet. */

/** The fleet's block of addresses starts at this host of the subnet. */
const FIRST_HOST = 10;
const DEFAULT_SUBNET = '172.28.0.0/24';

/** The number of addresses of a well-formed, aligned IPv4 block of prefix at most /30, else undefined. */
function blockSize(cidr: string): number | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((octet) => octet > 255) || prefix > 30) return undefined;
  const size = 2 ** (32 - prefix);
  const base = octets.reduce((value, octet) => value * 256 + octet, 0);
  return base % size === 0 ? size : undefined;
}

export function containerCount(size: FleetSize): number {
  return slotCount(size, true);
}

/** The slots a shard of a cluster-mode group can ever have, each with its address and host port. */
const SHARD_HOSTS = 6;

/**
 * The docker_volume resources of a fleet: the fleet volume the bundle container publishes on, and for
 * Redis or Valkey one data volume per slot. Retained (the default removal policy), every slot the
 * fleet can ever have keeps its volume declared, its container there or not (prevent_destroy protects
 * only a declared block): a replication group 6 data nodes and 3 sentinels, a cluster-mode group 6
 * per shard, a single node 1; destroyed, only the running containers'.
 */
export function volumeCount(construct: FleetConstruct, size: FleetSize, props: Record<string, any>): number {
  if (size.memcached) return 1;
  const retain = props.removalPolicy === undefined || props.removalPolicy === 'retain';
  const possible = size.shards !== undefined ? SHARD_HOSTS * size.shards : construct === 'ReplicationGroup' ? 6 + 3 : 1;
  return (retain ? possible : containerCount(size)) + 1;
}

/**
 * The addresses and host ports a fleet reserves: one for every slot it can ever have, so that a slot
 * keeps both whatever the replica or node count. A replication group: 6 data nodes and 3 sentinels;
 * a cluster-mode group: 6 per shard; a Memcached cluster: 40 nodes; a single Redis or Valkey node: 1.
 */
function reservedSlots(construct: FleetConstruct, size: FleetSize, props: Record<string, any>): number | undefined {
  const engine = engineOf(props);
  if (!engine) return undefined;
  if (size.shards !== undefined) return SHARD_HOSTS * size.shards;
  if (construct === 'ReplicationGroup') return 9;
  return engine.engineType === EngineType.MEMCACHED ? 40 : 1;
}

export function settleDocker(construct: FleetConstruct, draw: Draw, props: Record<string, any>): Record<string, Verdict> {
  const verdicts = settleFleet(construct, draw, props);
  const size = fleetSize(construct, draw, props);
  const containers = size && reservedSlots(construct, size, props);

  if (draw.subnetCidr.verdict !== 'invalid') {
    const block = blockSize(props.subnetCidr ?? DEFAULT_SUBNET);
    if (block === undefined) {
      verdicts.subnetCidr = 'invalid';
    } else if (containers !== undefined && size?.shards !== undefined) {
      // A cluster-mode group's addresses stay below the block's last quarter, which the network
      // leaves to other containers whatever the shard count: too many shards for the default subnet
      // are the shard count's fault, for a given one the subnet's.
      const fits = FIRST_HOST + containers <= (block / 4) * 3;
      if (props.subnetCidr === undefined) verdicts.shards = fits ? verdicts.shards : 'invalid';
      else verdicts.subnetCidr = fits ? 'valid' : 'invalid';
    } else if (containers !== undefined) {
      // Every reserved address must fall short of the block's broadcast address.
      verdicts.subnetCidr = FIRST_HOST + containers - 1 < block - 1 ? 'valid' : 'invalid';
    }
  }
  if (draw.hostPortBase.verdict === 'depends') {
    if (props.publishPorts === false) verdicts.hostPortBase = 'invalid';
    else if (containers !== undefined) verdicts.hostPortBase = props.hostPortBase + containers - 1 <= 65535 ? 'valid' : 'invalid';
  }
  const engine = engineOf(props);
  // Memcached has no AUTH: published beyond loopback only when asked (the fuzz never asks).
  const host = props.hostAddress;
  if (engine?.engineType === EngineType.MEMCACHED && draw.hostAddress.verdict === 'valid' && typeof host === 'string'
    && !host.startsWith('127.') && props.publishPorts !== false) {
    verdicts.hostAddress = 'invalid';
  }
  for (const name of ['authToken', 'internalAuthToken']) {
    if (draw[name].verdict === 'depends' && engine) verdicts[name] = engine.engineType === EngineType.MEMCACHED ? 'invalid' : 'valid';
  }
  return verdicts;
}
