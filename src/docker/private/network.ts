import { Network } from '@cdktf/provider-docker/lib/network';
import { TerraformStack, Token } from 'cdktf';
import { Construct } from 'constructs';
import { pinLogicalId } from './terraform';
import { blockAfterHost, blockByHash, cidrsOverlap, isIpv4Cidr } from '../../core/addresses';
import { ValidationError } from '../../core/errors';

/**
 * Where a fleet without `subnetCidr` takes its subnet: 172.16.0.0/16, the part of the private
 * 172.16.0.0/12 that Docker's default address pools leave alone (they hand out 172.17.0.0/16 to
 * 172.31.0.0/16 and 192.168.0.0/16 to the networks created without a subnet, such as Compose's),
 * split into /24 blocks. 10.0.0.0/8 is avoided too: Docker's swarm pool and many hosts' own
 * networks (VPCs, offices) live there.
 */
export const DEFAULT_SUBNET_POOL = { cidr: '172.16.0.0/16', prefix: 24 } as const;

/**
 * The default subnet of a fleet: the /24 of DEFAULT_SUBNET_POOL that a hash of the fleet's construct
 * path picks. A pure function of the path, so that no other fleet, added or removed, ever moves it
 * (a new subnet replaces the network and every container); two fleets whose paths pick the same
 * block are refused (see `fleetNetwork`), never moved.
 */
export function defaultSubnetCidr(constructPath: string): string {
  return blockByHash(DEFAULT_SUBNET_POOL.cidr, DEFAULT_SUBNET_POOL.prefix, constructPath);
}

/** The fleet's subnet and whether it is the default (`subnetCidr` unset). */
export interface FleetSubnet {
  readonly cidr: string;
  readonly isDefault: boolean;
}

/**
 * A fleet's private bridge network with a fixed IPv4 subnet, refused when it overlaps the subnet of
 * another Docker network declared in the same stack (Docker would refuse it at apply time, after
 * other resources were created). Each pair of networks is checked once, by the one declared last,
 * whatever the order.
 */
export function fleetNetwork(scope: Construct, name: string, subnet: FleetSubnet, lastFixedHost: number): Network {
  for (const other of TerraformStack.of(scope).node.findAll()) {
    if (!(other instanceof Network)) continue;
    const configs = other.ipamConfigInput;
    if (!Array.isArray(configs)) continue;
    for (const config of configs) {
      const taken = config.subnet;
      if (typeof taken !== 'string' || Token.isUnresolved(taken) || !isIpv4Cidr(taken)) continue;
      if (cidrsOverlap(taken, subnet.cidr)) throw overlapError(scope, subnet, taken, other);
    }
  }
  const network = new Network(scope, 'Network', {
    name,
    driver: 'bridge',
    // Docker hands the addresses of containers without a fixed one (an application attached to the
    // network) out of this range only: never one a slot may take later, as after a replica-count
    // change (a container created on a taken address fails to start).
    ipamConfig: [{ subnet: subnet.cidr, ipRange: blockAfterHost('subnetCidr', subnet.cidr, lastFixedHost) }],
    labels: [{ label: 'cachefleet.fleet', value: name }],
  });
  pinLogicalId(network, name, 'network');
  return network;
}

function overlapError(scope: Construct, subnet: FleetSubnet, taken: string, other: Network): ValidationError {
  const theirs = `the subnet ${taken} of the Docker network ${other.node.path}`;
  if (!subnet.isDefault) {
    return new ValidationError('subnetCidr', subnet.cidr, `must not overlap ${theirs}: give each fleet a subnet of its own`);
  }
  return new ValidationError('subnetCidr', subnet.cidr,
    `must be set: the default subnet of ${scope.node.path} (the /24 of ${DEFAULT_SUBNET_POOL.cidr} a hash of its construct path picks) overlaps ${theirs}. ` +
    'Set subnetCidr on one of the two fleets, the one not deployed yet (a new subnet replaces a deployed fleet\'s network and containers), to a block no other network of the Docker host uses');
}
