import { Network } from '@cdktf/provider-docker/lib/network';
import { TerraformStack, Token } from 'cdktf';
import { Construct } from 'constructs';
import { pinLogicalId } from './terraform';
import { blockAfterHost, cidrsOverlap } from '../../core/addresses';
import { ValidationError } from '../../core/errors';

/**
 * A fleet's private bridge network with a fixed IPv4 subnet, refused when it overlaps the subnet of
 * another Docker network declared in the same stack (Docker would refuse it at apply time, after
 * other resources were created).
 */
export function fleetNetwork(scope: Construct, name: string, subnetCidr: string, lastFixedHost: number): Network {
  for (const other of TerraformStack.of(scope).node.findAll()) {
    if (!(other instanceof Network)) continue;
    const configs = other.ipamConfigInput;
    if (!Array.isArray(configs)) continue;
    for (const config of configs) {
      const subnet = config.subnet;
      if (typeof subnet !== 'string' || Token.isUnresolved(subnet) || !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(subnet)) continue;
      if (cidrsOverlap(subnet, subnetCidr)) {
        throw new ValidationError(
          'subnetCidr',
          subnetCidr,
          `must not overlap the subnet ${subnet} of the Docker network ${other.node.path}: give each fleet a subnet of its own`,
        );
      }
    }
  }
  const network = new Network(scope, 'Network', {
    name,
    driver: 'bridge',
    // Docker hands the addresses of containers without a fixed one (an application attached to the
    // network) out of this range only: never one a slot may take later, as after a replica-count
    // change (a container created on a taken address fails to start).
    ipamConfig: [{ subnet: subnetCidr, ipRange: blockAfterHost('subnetCidr', subnetCidr, lastFixedHost) }],
    labels: [{ label: 'cachefleet.fleet', value: name }],
  });
  pinLogicalId(network, name, 'network');
  return network;
}
