import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { DockerFleetOptions } from './container-options';
import { Endpoint } from './endpoint';
import { buildDockerFleet, fleetOutput } from './private/fleet';
import { CDKTF_TOKENS } from './private/terraform';
import { CacheClusterOptions } from '../core/fleet-options';
import { validateCacheClusterOptions } from '../core/validation';

/**
 * Properties of a Docker cache cluster.
 */
export interface CacheClusterProps extends CacheClusterOptions, DockerFleetOptions {}

/**
 * A Memcached set of 1-40 nodes, or a single Redis or Valkey node, as Docker containers. Declared
 * with cdktf and `@cdktf/provider-docker`; the stack must configure the Docker provider itself.
 */
export class CacheCluster extends Construct {
  /** The first node's endpoint (the node, for Redis and Valkey). */
  public readonly endpoint: Endpoint;
  /** Every node's endpoint, in slot order: Memcached clients spread keys over them. */
  public readonly nodeEndpoints: Endpoint[];
  /** The ACL user clients authenticate as (Redis and Valkey); undefined for Memcached. */
  public readonly authUsername?: string;
  /** The Docker network's name: attach application containers to it to reach the nodes. */
  public readonly networkName: string;
  /** Container `address:port` to published `host address:port`. Empty when ports are not published. */
  public readonly hostAddressMap: { [containerAddress: string]: string };

  constructor(scope: Construct, id: string, props: CacheClusterProps) {
    super(scope, id);
    const fleet = validateCacheClusterOptions(props, CDKTF_TOKENS);
    const built = buildDockerFleet(this, id, fleet, props);
    const plan = built.plan;
    this.nodeEndpoints = built.containers.map((c) => c.endpoint);
    this.endpoint = this.nodeEndpoints[0];
    this.authUsername = plan.engine.supportsReplication ? plan.users.application : undefined;
    this.networkName = built.network.name;
    this.hostAddressMap = built.hostAddressMap;

    const name = plan.name;
    fleetOutput(this, 'EndpointOutput', {
      fleet: name,
      suffix: 'endpoint',
      value: this.endpoint.socketAddress,
      description: 'The first node, address:port in the Docker network',
    });
    fleetOutput(this, 'NodeEndpointsOutput', {
      fleet: name,
      suffix: 'node_endpoints',
      value: this.nodeEndpoints.map((e) => e.socketAddress),
      description: 'Every node, address:port in the Docker network',
    });
    fleetOutput(this, 'HostAddressMapOutput', {
      fleet: name,
      suffix: 'host_address_map',
      value: this.hostAddressMap,
      description: 'Container address:port to the published host address:port',
    });
    if (built.authToken !== undefined && this.endpoint.hostAddress !== undefined) {
      fleetOutput(this, 'HostUrlOutput', {
        fleet: name,
        suffix: 'host_url',
        value: `redis://${this.authUsername}:${Fn.urlencode(built.authToken)}@${this.hostAddressMap[this.endpoint.socketAddress]}`,
        description: 'The node as a URL with the AUTH token, from the Docker host (sensitive)',
        sensitive: true,
      });
    }
  }
}
