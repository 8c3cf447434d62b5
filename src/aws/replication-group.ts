import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CacheFleetBase } from './cache-fleet-base';
import { Endpoint } from './endpoint';
import { FleetAttributes, FleetProps, ICacheFleet } from './fleet';
import { atConstruct, ValidationError, withConstructPath } from '../core/errors';
import { ReplicationGroupOptions } from '../core/fleet-options';
import { recordParameterGroupUse } from '../core/parameters/parameter-group-use';
import { sentinelPort } from '../core/render';
import { validateReplicationGroupOptions } from '../core/validation';
import { NODE_METRICS } from './private/boot-scripts';
import { CDK_TOKENS, FleetResources } from './private/fleet-resources';
import { ImportedFleet } from './private/imported-fleet';

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
 * A Redis or Valkey replication group (cluster mode disabled) on EC2: one primary and 0 to 5
 * replicas, each an EC2 node slot; with a replica or more, Sentinel fails over automatically and
 * the primary endpoint follows the primary.
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
  /** The primary endpoint: `primary.<zone>`, moved by the node agent on failover. */
  public readonly primaryEndpoint: Endpoint;
  /** The reader endpoint: `replicas.<zone>` over the healthy replicas (the node agent keeps it so after failovers). */
  public readonly readerEndpoint: Endpoint;
  /** The primary endpoint. */
  public readonly endpoint: Endpoint;
  /** One endpoint per data node: `node-<n>.<zone>`. */
  public readonly nodeEndpoints: Endpoint[];
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
  /** The nodes' role. */
  public readonly role: iam.IRole;
  private readonly resources: FleetResources;

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
      this.primaryEndpoint = new Endpoint(r.primaryRecordName, fleet.port);
      this.readerEndpoint = fleet.dataNodes > 1 ? new Endpoint(r.recordName('replicas'), fleet.port) : this.primaryEndpoint;
      this.endpoint = this.primaryEndpoint;
      this.nodeEndpoints = r.nodeEndpoints();
      this.sentinelEndpoints = r.sentinelEndpoints();
    } catch (error) {
      throw atConstruct(this, error);
    }
  }

  /**
   * Adds stack outputs for the group: `PrimaryEndpoint`, `ReaderEndpoint`, `NodeEndpoints`,
   * `SentinelEndpoints` (with replicas) and `AuthSecretArn`, each in this construct's scope. The
   * group adds none unless asked, as aws-cdk-lib's constructs do. Calling it again adds nothing more.
   */
  public addOutputs(): void {
    this.resources.addOutputs({
      PrimaryEndpoint: this.primaryEndpoint.socketAddress,
      ReaderEndpoint: this.readerEndpoint.socketAddress,
      NodeEndpoints: this.nodeEndpoints.map((endpoint) => endpoint.socketAddress).join(','),
      ...(this.sentinelEndpoints.length > 0 ? { SentinelEndpoints: this.sentinelEndpoints.map((endpoint) => endpoint.socketAddress).join(',') } : {}),
      AuthSecretArn: this.authSecret.secretArn,
    });
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
}
