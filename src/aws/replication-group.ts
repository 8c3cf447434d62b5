import { Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CacheFleetBase } from './cache-fleet-base';
import { Endpoint } from './endpoint';
import { FleetAttributes, FleetProps, ICacheFleet } from './fleet';
import { ShardEndpoints } from './shard-endpoints';
import { atConstruct, ValidationError, withConstructPath } from '../core/errors';
import { ReplicationGroupOptions } from '../core/fleet-options';
import { recordParameterGroupUse } from '../core/parameters/parameter-group-use';
import { sentinelPort } from '../core/render';
import { validateReplicationGroupOptions } from '../core/validation';
import { NODE_METRICS } from './private/boot-scripts';
import { CDK_TOKENS, FleetResources } from './private/fleet-resources';
import { ImportedFleet } from './private/imported-fleet';
import { fleetMetric } from './private/metric-methods';

/**
 * A replication group on EC2: the ElastiCache model's ReplicationGroup, self-managed.
 */
export interface IReplicationGroup extends ICacheFleet {
  /** The fleet's id (the same as `fleetId`). */
  readonly replicationGroupId: string;

  /** The primary endpoint: a record that follows the primary. */
  readonly primaryEndpoint: Endpoint;

  /** The reader endpoint: a record over the replicas (the primary's when there are none). */
  readonly readerEndpoint: Endpoint;
}

/**
 * Properties of a replication group on EC2.
 */
export interface ReplicationGroupProps extends ReplicationGroupOptions, FleetProps {}

/**
 * Attributes of a replication group defined elsewhere.
 */
export interface ReplicationGroupAttributes extends FleetAttributes {
  /** The group's id (`replicationGroupId`). */
  readonly replicationGroupId: string;
  /** The primary endpoint's host name. */
  readonly primaryEndpointAddress: string;
  /**
   * The reader endpoint's host name.
   *
   * @default - the primary endpoint's
   */
  readonly readerEndpointAddress?: string;
}

/**
 * A Redis or Valkey replication group on EC2, each node an EC2 node slot. With cluster mode
 * disabled (the default): one primary and 0 to 5 replicas; with a replica or more, Sentinel fails
 * over automatically and the primary endpoint follows the primary. With cluster mode enabled: a
 * Redis / Valkey Cluster of `shards` shards of one primary and `replicasPerShard` replicas each,
 * reached through the configuration endpoint by cluster-aware clients.
 *
 * @resource AWS::AutoScaling::AutoScalingGroup
 */
export class ReplicationGroup extends CacheFleetBase implements IReplicationGroup {
  /**
   * Imports a replication group defined elsewhere.
   *
   * @param scope the scope
   * @param id the construct id
   * @param attrs the group's attributes
   */
  public static fromReplicationGroupAttributes(scope: Construct, id: string, attrs: ReplicationGroupAttributes): IReplicationGroup {
    class Import extends ImportedFleet implements IReplicationGroup {
      public readonly replicationGroupId = attrs.replicationGroupId;
      public readonly primaryEndpoint = new Endpoint(attrs.primaryEndpointAddress, attrs.port);
      public readonly readerEndpoint = new Endpoint(attrs.readerEndpointAddress ?? attrs.primaryEndpointAddress, attrs.port);
    }
    return new Import(scope, id, {
      fleetId: attrs.replicationGroupId,
      endpointAddress: attrs.primaryEndpointAddress,
      port: attrs.port,
      securityGroups: attrs.securityGroups,
      authSecret: attrs.authSecret,
    }, {
      replicationGroupId: attrs.replicationGroupId,
      primaryEndpointAddress: attrs.primaryEndpointAddress,
      port: attrs.port,
      securityGroups: attrs.securityGroups,
    });
  }

  public readonly fleetId: string;
  public readonly replicationGroupId: string;
  /**
   * The nodes' security group, with the engine's port as its default: `connections.allowDefaultPortFrom(peer)`
   * lets clients reach the engine. Sentinel-aware clients also need the Sentinel port: see
   * `allowSentinelFrom`.
   */
  public readonly connections: ec2.Connections;
  /**
   * The address clients connect to: the primary endpoint with cluster mode disabled, the
   * configuration endpoint with cluster mode enabled.
   */
  public readonly endpoint: Endpoint;
  /**
   * The configuration endpoint of a cluster-mode group, for cluster-aware clients (ioredis `Cluster`,
   * `redis-cli -c`): `config.<zone>`, a record (TTL 5 s) over every node, from which a client
   * discovers the cluster's shards and primaries. Undefined with cluster mode disabled.
   */
  public readonly configurationEndpoint?: Endpoint;
  /**
   * One endpoint per data node: `node-<n>.<zone>`; with cluster mode enabled, node r of shard s is
   * `node-<6s + r>` (shard by shard, each planned primary first).
   */
  public readonly nodeEndpoints: Endpoint[];
  /** The shards of a cluster-mode group, by index: their hash slots and node endpoints. Empty with cluster mode disabled. */
  public readonly shardEndpoints: ShardEndpoints[];
  /** The sentinels' addresses, for Sentinel-aware clients (empty without replicas). */
  public readonly sentinelEndpoints: Endpoint[];
  /** The secret holding the AUTH token. */
  public readonly authSecret: secretsmanager.ISecret;
  /**
   * The secret holding the password of the admin user, the one user allowed every command (CONFIG,
   * MODULE, DEBUG…), for an operator's maintenance. Applications authenticate with the AUTH token
   * (`authSecret`), whose user cannot run those commands.
   */
  public readonly adminSecret?: secretsmanager.ISecret;
  /** The private zone of the endpoints. */
  public readonly hostedZone: route53.IPrivateHostedZone;
  /** The nodes' security group. */
  public readonly securityGroup: ec2.ISecurityGroup;
  /**
   * The bucket the nodes back up to (`backupBucket`, or the one the fleet created), with the backups
   * under `<fleet name>/`; undefined without a backup location.
   */
  public readonly backupBucket?: s3.IBucket;
  /**
   * The name of the SSM Command document that takes an on-demand backup of every shard: send it to
   * the instances tagged `cachefleet:fleet=<fleetId>` with the parameter `BackupName` (1 to 63
   * lower-case letters, digits and dashes), such as `aws ssm send-command --document-name <name>
   * --targets Key=tag:cachefleet:fleet,Values=<fleetId> --parameters BackupName=before-migration`;
   * the set lands under `<fleet name>/<BackupName>/`. Undefined without a backup location.
   */
  public readonly backupDocumentName?: string;
  /** The nodes' role. */
  public readonly role: iam.IRole;
  private readonly resources: FleetResources;
  private readonly sentinelPrimaryEndpoint?: Endpoint;
  private readonly sentinelReaderEndpoint?: Endpoint;

  constructor(scope: Construct, id: string, props: ReplicationGroupProps) {
    super(scope, id);
    try {
      const fleet = validateReplicationGroupOptions(props, CDK_TOKENS);
      if (fleet.parameterGroup) recordParameterGroupUse(fleet.parameterGroup, this.node.path);
      this.resources = new FleetResources(this, props, fleet);
      const r = this.resources;
      this.fleetId = r.fleetId;
      this.replicationGroupId = r.fleetId;
      this.connections = r.connections;
      this.securityGroup = r.securityGroup;
      this.role = r.role;
      this.hostedZone = r.hostedZone;
      this.authSecret = r.authSecret!;
      this.adminSecret = r.adminSecret;
      this.backupBucket = r.backups.bucket;
      this.backupDocumentName = r.backups.document?.ref;
      this.nodeEndpoints = r.nodeEndpoints();
      this.sentinelEndpoints = r.sentinelEndpoints();
      const cluster = r.plan.cluster;
      if (cluster) {
        this.configurationEndpoint = new Endpoint(r.recordName('config'), fleet.port);
        this.endpoint = this.configurationEndpoint;
        const nodes = r.shardNodeEndpoints();
        this.shardEndpoints = cluster.shards.map((shard) => ({
          shard: shard.index,
          firstHashSlot: shard.slotRange[0],
          lastHashSlot: shard.slotRange[1],
          nodeEndpoints: nodes[shard.index],
        }));
      } else {
        this.sentinelPrimaryEndpoint = new Endpoint(r.primaryRecordName, fleet.port);
        this.sentinelReaderEndpoint = fleet.dataNodes > 1 ? new Endpoint(r.recordName('replicas'), fleet.port) : this.sentinelPrimaryEndpoint;
        this.endpoint = this.sentinelPrimaryEndpoint;
        this.shardEndpoints = [];
      }
    } catch (error) {
      throw atConstruct(this, error);
    }
  }

  /**
   * The primary endpoint: `primary.<zone>`, moved by the node agent on failover. With cluster mode
   * enabled there is none (each shard has its own primary, which the engine fails over): reading it
   * throws a ValidationError; use `configurationEndpoint`.
   */
  public get primaryEndpoint(): Endpoint {
    return this.withoutCluster('primaryEndpoint', this.sentinelPrimaryEndpoint);
  }

  /**
   * The reader endpoint: `replicas.<zone>` over the healthy replicas (the node agent keeps it so
   * after failovers), the primary's without replicas. With cluster mode enabled there is none:
   * reading it throws a ValidationError; cluster-aware clients read from replicas through
   * `configurationEndpoint` (ioredis `scaleReads`, `READONLY`).
   */
  public get readerEndpoint(): Endpoint {
    return this.withoutCluster('readerEndpoint', this.sentinelReaderEndpoint);
  }

  /**
   * Adds stack outputs for the group, each in this construct's scope: with cluster mode disabled
   * `PrimaryEndpoint`, `ReaderEndpoint`, `NodeEndpoints`, `SentinelEndpoints` (with replicas); with
   * cluster mode enabled `ConfigurationEndpoint`, `NodeEndpoints` and `Shard<s>NodeEndpoints` for
   * each shard; and `AuthSecretArn`. The group adds none unless asked, as aws-cdk-lib's constructs
   * do. Calling it again adds nothing more.
   */
  public addOutputs(): void {
    const list = (endpoints: Endpoint[]) => endpoints.map((endpoint) => endpoint.socketAddress).join(',');
    const endpoints: Record<string, string> = this.configurationEndpoint
      ? {
        ConfigurationEndpoint: this.configurationEndpoint.socketAddress,
        NodeEndpoints: list(this.nodeEndpoints),
        ...Object.fromEntries(this.shardEndpoints.map((shard) => [`Shard${shard.shard}NodeEndpoints`, list(shard.nodeEndpoints)])),
      }
      : {
        PrimaryEndpoint: this.primaryEndpoint.socketAddress,
        ReaderEndpoint: this.readerEndpoint.socketAddress,
        NodeEndpoints: list(this.nodeEndpoints),
        ...(this.sentinelEndpoints.length > 0 ? { SentinelEndpoints: list(this.sentinelEndpoints) } : {}),
      };
    this.resources.addOutputs({ ...endpoints, AuthSecretArn: this.authSecret.secretArn });
  }

  public grantConnect(grantee: iam.IGrantable): iam.Grant {
    return this.resources.grantConnect(grantee);
  }

  /**
   * Lets a peer reach the sentinels (their port, 26379), for Sentinel-aware clients that discover the
   * primary from `sentinelEndpoints` and fail over faster than the primary endpoint's record. The
   * engine's port is `connections.allowDefaultPortFrom(peer)`.
   *
   * @param peer the clients, such as a security group or `ec2.Peer.ipv4(cidr)`
   * @param description the rule's description
   */
  public allowSentinelFrom(peer: ec2.IConnectable, description?: string): void {
    const plan = this.resources.plan;
    withConstructPath(this, () => {
      if (plan.cluster) {
        throw new ValidationError('clusterMode', 'ClusterMode.ENABLED',
          'must be ClusterMode.DISABLED for allowSentinelFrom: a cluster-mode group runs no sentinels (cluster-aware clients need only the engine\'s port: connections.allowDefaultPortFrom)');
      }
      if (!plan.sentinel) {
        throw new ValidationError('replicasPerShard', plan.slots.length - 1,
          'must be at least 1 for allowSentinelFrom: a group without replicas runs no sentinels');
      }
    });
    this.connections.allowFrom(peer, ec2.Port.tcp(sentinelPort(plan)), description ?? 'clients: Sentinel');
  }

  /** Seconds since a replica last heard from its primary (`ReplicationLag`, Maximum over 1 minute). */
  public metricReplicationLag(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(NODE_METRICS.replicationLag, { statistic: 'Maximum', ...props });
  }

  /**
   * A metric of one shard of a cluster-mode group: what its nodes publish in the `CacheFleet`
   * namespace under the dimensions `Fleet` and `Shard` (the shard's index), Average over 1 minute
   * unless `props` say otherwise, such as `metricForShard(2, 'DatabaseMemoryUsagePercentage', { statistic: 'Maximum' })`.
   *
   * @param shard the shard's index, 0 to `shards` − 1 (`shardEndpoints[i].shard`)
   * @param metricName the metric's name, such as `CPUUtilization`, `CurrConnections`, `ReplicationLag`
   * @param props options such as the statistic (default: Average) and period (default: 1 minute)
   */
  public metricForShard(shard: number, metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    const shards = this.shardEndpoints.length;
    withConstructPath(this, () => {
      if (shards === 0) {
        throw new ValidationError('clusterMode', 'ClusterMode.DISABLED', 'must be ClusterMode.ENABLED for metricForShard: a group without cluster mode is one shard (use metric)');
      }
      if (Token.isUnresolved(shard) || !Number.isInteger(shard) || shard < 0 || shard >= shards) {
        throw new ValidationError('shard', shard, `must be a shard's index, an integer from 0 to ${shards - 1}`);
      }
    });
    return fleetMetric(this.fleetId, metricName, props, { Shard: String(shard) });
  }

  /** A Sentinel endpoint, refused with cluster mode enabled. */
  private withoutCluster(name: string, endpoint: Endpoint | undefined): Endpoint {
    if (endpoint) return endpoint;
    return withConstructPath(this, () => {
      throw new ValidationError('clusterMode', 'ClusterMode.ENABLED',
        `must be ClusterMode.DISABLED to read ${name}: each shard of a cluster-mode group has its own primary, which the engine fails over; cluster-aware clients connect to configurationEndpoint`);
    });
  }
}
