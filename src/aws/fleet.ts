import { IResource, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Endpoint } from './endpoint';
import { NodeType } from './node-type';

/**
 * What every imported fleet is known by, beside its id and endpoints.
 */
export interface FleetAttributes {
  /** The engine's port. */
  readonly port: number;
  /** The security groups of the nodes. */
  readonly securityGroups: ec2.ISecurityGroup[];
  /**
   * The secret holding the AUTH token (Redis, Valkey).
   *
   * @default - `grantConnect` grants nothing
   */
  readonly authSecret?: secretsmanager.ISecret;
}

/**
 * What every fleet on EC2 takes beside the engine-neutral options.
 */
export interface FleetProps {
  /** The VPC the nodes run in. */
  readonly vpc: ec2.IVpc;

  /**
   * The subnets the nodes are spread over, one zone per subnet; they need egress (a NAT gateway) to
   * the AWS APIs the nodes call and to their package source.
   *
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The size of every node.
   *
   * @default NodeType.of('cache.t4g.medium')
   */
  readonly nodeType?: NodeType;

  /**
   * The size of each data node's EBS data volume (gp3, encrypted). Sentinel-only slots take 1 GiB;
   * Memcached nodes take none.
   *
   * @default Size.gibibytes(20)
   */
  readonly dataVolumeSize?: Size;

  /**
   * What happens to the data volumes when they leave the stack.
   *
   * @default RemovalPolicy.SNAPSHOT
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * The machine image of every node; it must run cloud-init, the AWS CLI, `dnf` and systemd.
   *
   * @default - the latest Amazon Linux 2023 for the node type's architecture
   */
  readonly machineImage?: ec2.IMachineImage;

  /**
   * The AUTH token: a Secrets Manager secret whose value is the token as a plain string (16 to 128
   * printable ASCII characters other than space, `"`, `/` and `@`). Must be unset for Memcached,
   * which has no AUTH.
   *
   * @default - a 32-character token is generated in a new secret
   */
  readonly authToken?: secretsmanager.ISecret;

  /**
   * The private hosted zone that holds the fleet's endpoints; it must be associated with the VPC and
   * hold no other fleet's endpoints (checked within a stack).
   *
   * @default - a new private zone `<fleet>-<hash>.cachefleet.internal` in the VPC
   */
  readonly hostedZone?: route53.IPrivateHostedZone;

  /**
   * Where the fixed node addresses start in each subnet: the host number of the subnet's first node;
   * the next nodes of that subnet take the following addresses. Two fleets sharing subnets in one
   * stack must not overlap (checked).
   *
   * @default - 16 + 4 × (a hash of the construct path modulo 46): between 16 and 196
   */
  readonly nodeAddressOffset?: number;
}

/**
 * A cache fleet: a CacheCluster or a ReplicationGroup, created here or imported.
 */
export interface ICacheFleet extends IResource, ec2.IConnectable {
  /** The fleet's id: its metrics dimension `Fleet` and its `cachefleet:fleet` tag. */
  readonly fleetId: string;

  /** The address clients connect to: the primary endpoint, the configuration endpoint or the node. */
  readonly endpoint: Endpoint;

  /**
   * Grants what a client needs to connect: read of the AUTH token's secret (nothing for Memcached,
   * which has no AUTH).
   *
   * @param grantee the principal that connects
   */
  grantConnect(grantee: iam.IGrantable): iam.Grant;

  /**
   * A metric the nodes publish in the `CacheFleet` namespace, dimension `Fleet`.
   *
   * @param metricName the metric's name, such as `CurrConnections`
   * @param props options such as the statistic (default: Average) and period (default: 1 minute)
   */
  metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}
