import { Construct } from 'constructs';
import { DockerFleetOptions } from './container-options';
import { Endpoint } from './endpoint';
import { buildDockerFleet, fleetOutput } from './private/fleet';
import { addFleetOutputs } from './private/outputs';
import { CDKTF_TOKENS } from './private/terraform';
import { ShardEndpoints } from './shard-endpoints';
import { atConstruct } from '../core/errors';
import { ReplicationGroupOptions } from '../core/fleet-options';
import { recordParameterGroupUse } from '../core/parameters/parameter-group-use';
import { validateReplicationGroupOptions } from '../core/validation';

/**
 * Properties of a Docker replication group.
 */
export interface ReplicationGroupProps extends ReplicationGroupOptions, DockerFleetOptions {}

/**
 * A Redis or Valkey replication group as Docker containers, each node in its own container with a
 * named volume. Cluster mode disabled: a primary and 0-5 replicas and — with at least one replica —
 * three Sentinel containers that fail the group over. Cluster mode enabled: a Redis / Valkey
 * Cluster of `shards` shards, each a primary and `replicasPerShard` replicas, which the engine fails
 * over itself (no sentinels). Declared with cdktf and `@cdktf/provider-docker`; the stack must
 * configure the Docker provider itself.
 */
export class ReplicationGroup extends Construct {
  /**
   * The data node that starts as the primary (slot 0; with cluster mode enabled, shard 0's). It does
   * not follow failovers: after one it is a replica. Clients that write find the current primary
   * through the sentinels (`sentinelEndpoints` and `sentinelMasterName`; from the Docker host, with
   * `hostAddressMap`), or, with cluster mode enabled, through the configuration endpoint.
   */
  public readonly initialPrimaryEndpoint: Endpoint;
  /**
   * A network alias over every data node, the primary included (Docker's DNS spreads it): for reads
   * that may go to any node, inside the network. Unlike the AWS flavor's reader endpoint, it does
   * not leave the primary out. With cluster mode enabled it is the configuration endpoint.
   */
  public readonly anyNodeEndpoint: Endpoint;
  /**
   * With cluster mode enabled, where cluster-aware clients (ioredis `Cluster`, `redis-cli -c`) start
   * inside the Docker network: a network alias over every data node, any of which answers with the
   * map of the shards. From the Docker host, start from a node's published address and give the
   * client `hostAddressMap` (ioredis `natMap`). Undefined with cluster mode disabled.
   */
  public readonly configurationEndpoint?: Endpoint;
  /** With cluster mode enabled, each shard's hash slots and nodes, by shard; empty otherwise. */
  public readonly shardEndpoints: ShardEndpoints[];
  /** Every data node's endpoint, in slot order (with cluster mode enabled, shard by shard). */
  public readonly nodeEndpoints: Endpoint[];
  /** Every sentinel's endpoint (none without replicas, nor with cluster mode enabled): they name the current primary. */
  public readonly sentinelEndpoints: Endpoint[];
  /**
   * The name Sentinel monitors the primary under (`SENTINEL get-master-addr-by-name`); with cluster
   * mode enabled, where no sentinel runs, the fleet's name.
   */
  public readonly sentinelMasterName: string;
  /** The ACL user clients authenticate as. */
  public readonly authUsername: string;
  /** The Docker network's name: attach application containers to it to reach the nodes. */
  public readonly networkName: string;
  /**
   * Container `address:port` to published `host address:port`, for clients on the Docker host
   * (ioredis `natMap`: the sentinels, and with cluster mode enabled the nodes themselves, answer
   * with the addresses the nodes announce in the network). Empty when ports are not published.
   */
  public readonly hostAddressMap: { [containerAddress: string]: string };

  private readonly fleetName: string;
  private readonly clusterMode: boolean;

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
      this.clusterMode = plan.cluster !== undefined;
      this.configurationEndpoint = plan.cluster ? this.anyNodeEndpoint : undefined;
      const endpointOf = new Map(data.map((c) => [c.slot.name, c.endpoint]));
      this.shardEndpoints = (plan.cluster?.shards ?? []).map((shard) => ({
        shard: shard.index,
        firstHashSlot: shard.slotRange[0],
        lastHashSlot: shard.slotRange[1],
        nodeEndpoints: shard.slotNames.map((slotName) => endpointOf.get(slotName)!),
      }));
      this.sentinelMasterName = plan.sentinel?.masterName ?? plan.name;
      this.authUsername = plan.users.application;
      this.networkName = built.network.name;
      this.hostAddressMap = built.hostAddressMap;
    } catch (error) {
      throw atConstruct(this, error);
    }
  }

  /**
   * Adds Terraform outputs for the group, named `<fleet>_<what>`: `node_endpoints`, `network_name`,
   * `host_address_map` and, with cluster mode disabled, `sentinel_endpoints`,
   * `sentinel_master_name` and, when the sentinels' ports are published, `host_sentinels`; with
   * cluster mode enabled, `configuration_endpoint` and `shards` (each shard's hash slots and
   * nodes). The group adds none unless asked. Calling it again adds nothing more.
   */
  public addOutputs(): void {
    const fleet = this.fleetName;
    addFleetOutputs(this, { fleet, nodeEndpoints: this.nodeEndpoints, nodesAre: 'Every data node', networkName: this.networkName, hostAddressMap: this.hostAddressMap });
    if (this.clusterMode) {
      fleetOutput(this, 'ConfigurationEndpointOutput', {
        fleet,
        suffix: 'configuration_endpoint',
        value: this.configurationEndpoint!.socketAddress,
        description: 'Where cluster-aware clients start in the Docker network: an alias over every data node',
      });
      fleetOutput(this, 'ShardsOutput', {
        fleet,
        suffix: 'shards',
        value: this.shardEndpoints.map((s) => ({
          shard: s.shard,
          hash_slots: `${s.firstHashSlot}-${s.lastHashSlot}`,
          node_endpoints: s.nodeEndpoints.map((e) => e.socketAddress),
        })),
        description: 'Each shard: the hash slots it serves when balanced and its nodes (address:port in the Docker network), the one that starts as its primary first',
      });
      return;
    }
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
