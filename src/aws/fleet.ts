import { IResource, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { BackupSource } from './backup-source';
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
   * Growing it is applied in place: CloudFormation modifies the volumes (EBS allows one modification
   * per volume every 6 hours) and the agent grows the filesystem with `xfs_growfs` at the node's next
   * boot; nothing is replaced. Shrinking is impossible: EBS does not shrink a volume, so
   * CloudFormation's update fails and rolls back, and nothing is replaced. The default follows the
   * node type and `reserved-memory-percent`: before a change that lowers it (a smaller node type, a
   * larger reserve), set this prop to the volumes' current size.
   *
   * @default - 2.5 times the node's `maxmemory` (its memory less `reserved-memory-percent`), at least
   * 20 GiB, rounded up to whole GiB
   */
  readonly dataVolumeSize?: Size;

  /**
   * What happens to the data volumes when they leave the stack. The backup bucket the fleet creates
   * and the volume backups' vault are retained unless it is `RemovalPolicy.DESTROY` (then
   * CloudFormation deletes them only once they are empty).
   *
   * @default RemovalPolicy.SNAPSHOT
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * The machine image of every node; it must run cloud-init, the AWS CLI, `dnf` and systemd.
   *
   * @default - the latest Amazon Linux 2023 for the node type's architecture, resolved by EC2 at each
   * instance launch (`resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-<arch>`
   * in the launch template): a deploy never replaces nodes because AL2023 released a new image; a
   * node launched later (a replacement, a rolling update) boots the image current then
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
   * The first host number of the block of addresses the fleet reserves in each selected subnet. Each
   * slot's address is fixed by its name, whatever the other props: `node-k` takes host offset + k
   * in its subnet, `sentinel-j` takes offset + 6 + j (past the last data node a replication group can
   * have), so an address never passes from one slot to another. A replication group reserves hosts
   * offset to offset + 8, a Memcached cluster offset to offset + 39, a single Redis or Valkey node
   * the offset alone, and a cluster-mode group 6 hosts per shard: node r of shard s is `node-<6s + r>`
   * (6 = a primary and the most replicas a shard can have), so its block grows with `shards`. The
   * whole block must fit in every subnet, and two fleets sharing subnets in one stack must not
   * reserve overlapping blocks (both checked at each synth, a cluster-mode group's for its current
   * shards).
   *
   * @default - from a hash of the construct path: 16 + 9 × (0 to 25) for a replication group or a
   * single node, 16 + 45 × (0 to 4) for a Memcached cluster, so that the block stays within a /24;
   * 16 for a cluster-mode group whatever its size or path, so that a change of `shards` never moves
   * a node's address (a /24 holds every cluster-mode group the AWS flavor accepts). Set it for a
   * second cluster-mode group sharing the subnets, and to keep the addresses across a change of
   * `clusterMode` (the two modes' defaults differ)
   */
  readonly nodeAddressOffset?: number;

  /**
   * The registry the nodes pull the engine's image from, in place of Amazon ECR Public: a private
   * mirror or an ECR pull-through cache (`123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecr-public`),
   * for VPCs without internet access. The repository path, tag and digest stay the same. Unused
   * by engine versions that EC2 nodes install from an Amazon Linux 2023 package.
   *
   * @default - `public.ecr.aws`, reached through the subnets' NAT or a VPC endpoint
   */
  readonly containerRegistry?: string;

  /**
   * The bucket the nodes write their backups to (Redis and Valkey): each backup under
   * `<fleet name>/<backup id>/` (one RDB and one manifest per shard), scheduled ones by
   * `snapshotRetentionLimit`, on-demand ones by `backupDocumentName`. The nodes never delete a
   * backup: a bucket given here keeps them as its own lifecycle rules say. Two fleets of the same
   * name must not share a bucket (checked within a stack).
   *
   * @default - with `snapshotRetentionLimit` above 0, a bucket the fleet creates: encrypted
   * (S3-managed keys, or `backupEncryptionKey`), public access blocked, TLS only, versioned, its
   * objects expired `snapshotRetentionLimit` days after their creation (older versions a day after
   * they are replaced, incomplete uploads after a day), retained when it leaves the stack unless
   * `removalPolicy` is `RemovalPolicy.DESTROY`; otherwise no backup location (no on-demand backup)
   */
  readonly backupBucket?: s3.IBucket;

  /**
   * The customer managed key of the backup bucket the fleet creates and of its volume backups'
   * vault (Redis and Valkey). Must be unset when `backupBucket` is given: that bucket's own
   * encryption applies (the nodes are granted the use of its key, if it has one).
   *
   * @default - S3-managed keys for the bucket, the AWS Backup managed key for the vault
   */
  readonly backupEncryptionKey?: kms.IKey;

  /**
   * The bucket that receives the server access logs of the backup bucket the fleet creates, under
   * `<fleet id>/` (Redis and Valkey). Must be unset when `backupBucket` is given, or when the fleet
   * creates no backup bucket. A bucket of the same stack is given the permission to receive them;
   * a bucket imported from elsewhere must allow it already.
   *
   * @default - no server access logs
   */
  readonly backupAccessLogsBucket?: s3.IBucket;

  /**
   * The backup set the nodes restore from (Redis and Valkey): a node whose data volume is empty
   * (a new fleet, a new shard) loads its shard's RDB from it before it starts serving. A node that
   * holds data already ignores it, so changing it on a running fleet replaces nothing and changes no
   * data.
   *
   * @default - the nodes start empty
   */
  readonly restoreFrom?: BackupSource;

  /**
   * Whether AWS Backup snapshots the fleet's EBS volumes every day (Redis and Valkey), at the start
   * of `snapshotWindow` (03:00 UTC without one), each snapshot kept `snapshotRetentionLimit` days
   * (7 without one), in a vault the fleet creates (encrypted with `backupEncryptionKey` when given,
   * retained when it leaves the stack unless `removalPolicy` is `RemovalPolicy.DESTROY`). The
   * snapshots are crash-consistent: restored, the engine loads its AOF or RDB as after a power loss.
   * Must be unset for Memcached, which has no volumes.
   *
   * @default true
   */
  readonly volumeBackups?: boolean;
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
