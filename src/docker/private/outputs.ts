import { Construct } from 'constructs';
import { fleetOutput } from './fleet';
import { Endpoint } from '../endpoint';

/** What every Docker fleet outputs when asked (`addOutputs`). */
export interface FleetOutputValues {
  /** The fleet's name: the outputs are `<fleet>_<what>`. */
  readonly fleet: string;
  readonly nodeEndpoints: Endpoint[];
  /** What the nodes are, for the description: 'Every data node' or 'Every node'. */
  readonly nodesAre: string;
  readonly networkName: string;
  readonly hostAddressMap: { [containerAddress: string]: string };
}

/** The outputs both constructs add: the nodes, the network and the host address map. */
export function addFleetOutputs(scope: Construct, values: FleetOutputValues): void {
  const fleet = values.fleet;
  fleetOutput(scope, 'NodeEndpointsOutput', {
    fleet,
    suffix: 'node_endpoints',
    value: values.nodeEndpoints.map((e) => e.socketAddress),
    description: `${values.nodesAre}, address:port in the Docker network`,
  });
  fleetOutput(scope, 'NetworkNameOutput', {
    fleet,
    suffix: 'network_name',
    value: values.networkName,
    description: 'The fleet\'s Docker network: application containers join it to reach the nodes by address',
  });
  fleetOutput(scope, 'HostAddressMapOutput', {
    fleet,
    suffix: 'host_address_map',
    value: values.hostAddressMap,
    description: 'Container address:port to the published host address:port (ioredis natMap)',
  });
}
