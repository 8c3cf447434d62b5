import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { DockerFleetOptions } from './container-options';
import { Endpoint } from './endpoint';
import { buildDockerFleet, fleetOutput } from './private/fleet';
import { addFleetOutputs } from './private/outputs';
import { CDKTF_TOKENS } from './private/terraform';
import { atConstruct } from '../core/errors';
import { CacheClusterOptions } from '../core/fleet-options';
import { recordParameterGroupUse } from '../core/parameters/parameter-group-use';
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

  private readonly fleetName: string;
  private readonly hostUrl?: string;

  constructor(scope: Construct, id: string, props: CacheClusterProps) {
    super(scope, id);
    try {
      const fleet = validateCacheClusterOptions(props, CDKTF_TOKENS);
      if (fleet.parameterGroup) recordParameterGroupUse(fleet.parameterGroup, this.node.path);
      const built = buildDockerFleet(this, id, fleet, props);
      const plan = built.plan;
      this.fleetName = plan.name;
      this.nodeEndpoints = built.containers.map((c) => c.endpoint);
      this.endpoint = this.nodeEndpoints[0];
      this.authUsername = plan.engine.supportsReplication ? plan.users.application : undefined;
      this.networkName = built.network.name;
      this.hostAddressMap = built.hostAddressMap;
      if (built.authToken !== undefined && this.endpoint.hostAddress !== undefined) {
        this.hostUrl = `redis://${this.authUsername}:${Fn.urlencode(built.authToken)}@${this.hostAddressMap[this.endpoint.socketAddress]}`;
      }
    } catch (error) {
      throw atConstruct(this, error);
    }
  }

  /**
   * Adds Terraform outputs for the cluster, named `<fleet>_<what>`: `endpoint`, `node_endpoints`,
   * `network_name`, `host_address_map` and, for a Redis or Valkey node whose port is published,
   * `host_url` (sensitive: it holds the AUTH token). The cluster adds none unless asked. Calling it
   * again adds nothing more.
   */
  public addOutputs(): void {
    const fleet = this.fleetName;
    fleetOutput(this, 'EndpointOutput', {
      fleet,
      suffix: 'endpoint',
      value: this.endpoint.socketAddress,
      description: 'The first node, address:port in the Docker network',
    });
    addFleetOutputs(this, { fleet, nodeEndpoints: this.nodeEndpoints, nodesAre: 'Every node', networkName: this.networkName, hostAddressMap: this.hostAddressMap });
    if (this.hostUrl !== undefined) {
      fleetOutput(this, 'HostUrlOutput', {
        fleet,
        suffix: 'host_url',
        value: this.hostUrl,
        description: 'The node as a URL with the AUTH token, from the Docker host (sensitive)',
        sensitive: true,
      });
    }
  }
}
