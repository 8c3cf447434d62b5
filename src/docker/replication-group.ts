import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { DockerFleetOptions } from './container-options';
import { Endpoint } from './endpoint';
import { buildDockerFleet, fleetOutput } from './private/fleet';
import { CDKTF_TOKENS } from './private/terraform';
import { ReplicationGroupOptions } from '../core/fleet-options';
import { validateReplicationGroupOptions } from '../core/validation';

/**
 * Properties of a Docker replication group.
 */
export interface ReplicationGroupProps extends ReplicationGroupOptions, DockerFleetOptions {}

/**
 * A Redis or Valkey replication group (cluster mode disabled) as Docker containers: a primary and
 * 0-5 replicas, each in its own container with a named volume, and — with at least one replica —
 * three Sentinel containers that fail the group over. Declared with cdktf and
 * `@cdktf/provider-docker`; the stack must configure the Docker provider itself.
 */
export class ReplicationGroup extends Construct {
  /** The initial primary's endpoint; Sentinel-aware clients follow failovers through `sentinelEndpoints`. */
  public readonly primaryEndpoint: Endpoint;
  /** A network alias over every data node (Docker's DNS spreads it), for reads inside the network. */
  public readonly readerEndpoint: Endpoint;
  /** The group's endpoint: the primary endpoint. */
  public readonly endpoint: Endpoint;
  /** Every data node's endpoint, in slot order. */
  public readonly nodeEndpoints: Endpoint[];
  /** Every sentinel's endpoint (none without replicas). */
  public readonly sentinelEndpoints: Endpoint[];
  /** The name Sentinel monitors the primary under (`SENTINEL get-master-addr-by-name`). */
  public readonly sentinelMasterName: string;
  /** The ACL user clients authenticate as. */
  public readonly authUsername: string;
  /** The Docker network's name: attach application containers to it to reach the nodes. */
  public readonly networkName: string;
  /**
   * Container `address:port` to published `host address:port`, for clients on the Docker host
   * (ioredis `natMap`). Empty when ports are not published.
   */
  public readonly hostAddressMap: { [containerAddress: string]: string };

  constructor(scope: Construct, id: string, props: ReplicationGroupProps) {
    super(scope, id);
    const fleet = validateReplicationGroupOptions(props, CDKTF_TOKENS);
    const built = buildDockerFleet(this, id, fleet, props);
    const plan = built.plan;
    const data = built.containers.filter((c) => c.service === 'redis');
    const sentinels = built.containers.filter((c) => c.service === 'sentinel');

    this.nodeEndpoints = data.map((c) => c.endpoint);
    this.sentinelEndpoints = sentinels.map((c) => c.endpoint);
    this.primaryEndpoint = data[0].endpoint;
    this.endpoint = this.primaryEndpoint;
    this.readerEndpoint = new Endpoint(built.readerAlias!, plan.port);
    this.sentinelMasterName = plan.sentinel?.masterName ?? plan.name;
    this.authUsername = plan.users.application;
    this.networkName = built.network.name;
    this.hostAddressMap = built.hostAddressMap;

    const name = plan.name;
    fleetOutput(this, 'PrimaryEndpointOutput', {
      fleet: name,
      suffix: 'primary_endpoint',
      value: this.primaryEndpoint.socketAddress,
      description: 'The initial primary, address:port in the Docker network',
    });
    fleetOutput(this, 'ReaderEndpointOutput', {
      fleet: name,
      suffix: 'reader_endpoint',
      value: this.readerEndpoint.socketAddress,
      description: 'A network alias over every data node, host:port in the Docker network',
    });
    fleetOutput(this, 'NodeEndpointsOutput', {
      fleet: name,
      suffix: 'node_endpoints',
      value: this.nodeEndpoints.map((e) => e.socketAddress),
      description: 'Every data node, address:port in the Docker network',
    });
    fleetOutput(this, 'SentinelEndpointsOutput', {
      fleet: name,
      suffix: 'sentinel_endpoints',
      value: this.sentinelEndpoints.map((e) => e.socketAddress),
      description: 'Every sentinel, address:port in the Docker network',
    });
    fleetOutput(this, 'SentinelMasterNameOutput', {
      fleet: name,
      suffix: 'sentinel_master_name',
      value: this.sentinelMasterName,
      description: 'The name the sentinels monitor the primary under',
    });
    fleetOutput(this, 'HostAddressMapOutput', {
      fleet: name,
      suffix: 'host_address_map',
      value: this.hostAddressMap,
      description: 'Container address:port to the published host address:port (ioredis natMap)',
    });
    if (this.sentinelEndpoints.length > 0 && this.sentinelEndpoints[0].hostAddress !== undefined) {
      fleetOutput(this, 'HostSentinelsOutput', {
        fleet: name,
        suffix: 'host_sentinels',
        value: this.sentinelEndpoints.map((e) => this.hostAddressMap[e.socketAddress]),
        description: 'Every sentinel, as published on the Docker host',
      });
    }
    if (built.authToken !== undefined && this.primaryEndpoint.hostAddress !== undefined) {
      const hostPrimary = this.hostAddressMap[this.primaryEndpoint.socketAddress];
      fleetOutput(this, 'HostPrimaryUrlOutput', {
        fleet: name,
        suffix: 'host_primary_url',
        value: `redis://${this.authUsername}:${Fn.urlencode(built.authToken)}@${hostPrimary}`,
        description: 'The initial primary as a URL with the AUTH token, from the Docker host (sensitive)',
        sensitive: true,
      });
    }
  }
}
