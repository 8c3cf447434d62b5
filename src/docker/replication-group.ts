import { Construct } from 'constructs';
import { DockerFleetOptions } from './container-options';
import { Endpoint } from './endpoint';
import { buildDockerFleet, fleetOutput } from './private/fleet';
import { addFleetOutputs } from './private/outputs';
import { CDKTF_TOKENS } from './private/terraform';
import { atConstruct } from '../core/errors';
import { ReplicationGroupOptions } from '../core/fleet-options';
import { recordParameterGroupUse } from '../core/parameters/parameter-group-use';
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
  /**
   * The data node that starts as the primary (slot 0). It does not follow failovers: after one it is
   * a replica. Clients that write find the current primary through the sentinels
   * (`sentinelEndpoints` and `sentinelMasterName`; from the Docker host, with `hostAddressMap`).
   */
  public readonly initialPrimaryEndpoint: Endpoint;
  /**
   * A network alias over every data node, the primary included (Docker's DNS spreads it): for reads
   * that may go to any node, inside the network. Unlike the AWS flavor's reader endpoint, it does
   * not leave the primary out.
   */
  public readonly anyNodeEndpoint: Endpoint;
  /** Every data node's endpoint, in slot order. */
  public readonly nodeEndpoints: Endpoint[];
  /** Every sentinel's endpoint (none without replicas): they name the current primary. */
  public readonly sentinelEndpoints: Endpoint[];
  /** The name Sentinel monitors the primary under (`SENTINEL get-master-addr-by-name`). */
  public readonly sentinelMasterName: string;
  /** The ACL user clients authenticate as. */
  public readonly authUsername: string;
  /** The Docker network's name: attach application containers to it to reach the nodes. */
  public readonly networkName: string;
  /**
   * Container `address:port` to published `host address:port`, for clients on the Docker host
   * (ioredis `natMap`: the sentinels answer with container addresses). Empty when ports are not published.
   */
  public readonly hostAddressMap: { [containerAddress: string]: string };

  private readonly fleetName: string;

  constructor(scope: Construct, id: string, props: ReplicationGroupProps) {
    super(scope, id);
    try {
      const fleet = validateReplicationGroupOptions(props, CDKTF_TOKENS);
      if (fleet.parameterGroup) recordParameterGroupUse(fleet.parameterGroup, this.node.path);
      const built = buildDockerFleet(this, id, fleet, props);
      const plan = built.plan;
      const data = built.containers.filter((c) => c.service === 'redis');
      const sentinels = built.containers.filter((c) => c.service === 'sentinel');

      this.fleetName = plan.name;
      this.nodeEndpoints = data.map((c) => c.endpoint);
      this.sentinelEndpoints = sentinels.map((c) => c.endpoint);
      this.initialPrimaryEndpoint = data[0].endpoint;
      this.anyNodeEndpoint = new Endpoint(built.readerAlias!, plan.port);
      this.sentinelMasterName = plan.sentinel?.masterName ?? plan.name;
      this.authUsername = plan.users.application;
      this.networkName = built.network.name;
      this.hostAddressMap = built.hostAddressMap;
    } catch (error) {
      throw atConstruct(this, error);
    }
  }

  /**
   * Adds Terraform outputs for the group, named `<fleet>_<what>`: `node_endpoints`,
   * `sentinel_endpoints`, `sentinel_master_name`, `network_name`, `host_address_map` and, when the
   * sentinels' ports are published, `host_sentinels`. The group adds none unless asked. Calling it
   * again adds nothing more.
   */
  public addOutputs(): void {
    const fleet = this.fleetName;
    addFleetOutputs(this, { fleet, nodeEndpoints: this.nodeEndpoints, nodesAre: 'Every data node', networkName: this.networkName, hostAddressMap: this.hostAddressMap });
    fleetOutput(this, 'SentinelEndpointsOutput', {
      fleet,
      suffix: 'sentinel_endpoints',
      value: this.sentinelEndpoints.map((e) => e.socketAddress),
      description: 'Every sentinel, address:port in the Docker network: they name the current primary',
    });
    fleetOutput(this, 'SentinelMasterNameOutput', {
      fleet,
      suffix: 'sentinel_master_name',
      value: this.sentinelMasterName,
      description: 'The name the sentinels monitor the primary under',
    });
    if (this.sentinelEndpoints.length > 0 && this.sentinelEndpoints[0].hostAddress !== undefined) {
      fleetOutput(this, 'HostSentinelsOutput', {
        fleet,
        suffix: 'host_sentinels',
        value: this.sentinelEndpoints.map((e) => this.hostAddressMap[e.socketAddress]),
        description: 'Every sentinel, as published on the Docker host',
      });
    }
  }
}
