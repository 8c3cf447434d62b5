import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CacheFleetBase } from './cache-fleet-base';
import { Endpoint } from './endpoint';
import { FleetAttributes, FleetProps, ICacheFleet } from './fleet';
import { atConstruct } from '../core/errors';
import { CacheClusterOptions } from '../core/fleet-options';
import { recordParameterGroupUse } from '../core/parameters/parameter-group-use';
import { validateCacheClusterOptions } from '../core/validation';
import { CDK_TOKENS, FleetResources } from './private/fleet-resources';
import { ImportedFleet } from './private/imported-fleet';

/**
 * A cache cluster on EC2: the ElastiCache model's CacheCluster, self-managed.
 */
export interface ICacheCluster extends ICacheFleet {
  /** The fleet's id (the same as `fleetId`). */
  readonly cacheClusterId: string;
}

/**
 * Properties of a cache cluster on EC2.
 */
export interface CacheClusterProps extends CacheClusterOptions, FleetProps {}

/**
 * Attributes of a cache cluster defined elsewhere.
 */
export interface CacheClusterAttributes extends FleetAttributes {
  /** The cluster's id (`cacheClusterId`). */
  readonly cacheClusterId: string;
  /** The configuration endpoint's (Memcached) or the node's (Redis, Valkey) host name. */
  readonly endpointAddress: string;
}

/**
 * A cache cluster on EC2: Memcached with `numCacheNodes` nodes, or one Redis or Valkey node, each an
 * EC2 node slot.
 *
 * @resource AWS::AutoScaling::AutoScalingGroup
 */
export class CacheCluster extends CacheFleetBase implements ICacheCluster {
  /**
   * Imports a cache cluster defined elsewhere.
   *
   * @param scope the scope
   * @param id the construct id
   * @param attrs the cluster's attributes
   */
  public static fromCacheClusterAttributes(scope: Construct, id: string, attrs: CacheClusterAttributes): ICacheCluster {
    class Import extends ImportedFleet implements ICacheCluster {
      public readonly cacheClusterId = attrs.cacheClusterId;
    }
    return new Import(scope, id, {
      fleetId: attrs.cacheClusterId,
      endpointAddress: attrs.endpointAddress,
      port: attrs.port,
      securityGroups: attrs.securityGroups,
      authSecret: attrs.authSecret,
    }, {
      cacheClusterId: attrs.cacheClusterId,
      endpointAddress: attrs.endpointAddress,
      port: attrs.port,
      securityGroups: attrs.securityGroups,
    });
  }

  public readonly fleetId: string;
  public readonly cacheClusterId: string;
  public readonly connections: ec2.Connections;
  /** The configuration endpoint (Memcached: `config.<zone>` over every node) or the node's (Redis, Valkey). */
  public readonly endpoint: Endpoint;
  /** The configuration endpoint of a Memcached cluster. */
  public readonly configurationEndpoint?: Endpoint;
  /** One endpoint per node: `node-<n>.<zone>`. */
  public readonly nodeEndpoints: Endpoint[];
  /** The secret holding the AUTH token (Redis, Valkey). */
  public readonly authSecret?: secretsmanager.ISecret;
  /**
   * The secret holding the password of the admin user (Redis, Valkey), the one user allowed every
   * command (CONFIG, MODULE, DEBUG…), for an operator's maintenance. Applications authenticate with
   * the AUTH token (`authSecret`), whose user cannot run those commands.
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

  constructor(scope: Construct, id: string, props: CacheClusterProps) {
    super(scope, id);
    try {
      const fleet = validateCacheClusterOptions(props, CDK_TOKENS);
      if (fleet.parameterGroup) recordParameterGroupUse(fleet.parameterGroup, this.node.path);
      this.resources = new FleetResources(this, props, fleet);
      const r = this.resources;
      this.fleetId = r.fleetId;
      this.cacheClusterId = r.fleetId;
      this.connections = r.connections;
      this.securityGroup = r.securityGroup;
      this.role = r.role;
      this.hostedZone = r.hostedZone;
      this.authSecret = r.authSecret;
      this.adminSecret = r.adminSecret;
      this.backupBucket = r.backups.bucket;
      this.backupDocumentName = r.backups.document?.ref;
      this.nodeEndpoints = r.nodeEndpoints();
      if (r.plan.kind === 'memcached') {
        this.configurationEndpoint = new Endpoint(r.recordName('config'), fleet.port);
        this.endpoint = this.configurationEndpoint;
      } else {
        this.endpoint = this.nodeEndpoints[0];
      }
    } catch (error) {
      throw atConstruct(this, error);
    }
  }

  /**
   * Adds stack outputs for the cluster: `Endpoint`, `NodeEndpoints` and, for Redis and Valkey,
   * `AuthSecretArn`, each in this construct's scope. The cluster adds none unless asked, as
   * aws-cdk-lib's constructs do. Calling it again adds nothing more.
   */
  public addOutputs(): void {
    this.resources.addOutputs({
      Endpoint: this.endpoint.socketAddress,
      NodeEndpoints: this.nodeEndpoints.map((endpoint) => endpoint.socketAddress).join(','),
      ...(this.authSecret ? { AuthSecretArn: this.authSecret.secretArn } : {}),
    });
  }

  public grantConnect(grantee: iam.IGrantable): iam.Grant {
    return this.resources.grantConnect(grantee);
  }

}
