// The AWS example: a VPC over three named zones, a Valkey replication group (1 primary + 2
// replicas) backed up to S3 every day, a Valkey Cluster (cluster mode: 3 shards of a primary and a
// replica), a Memcached cluster and a Lambda function allowed to reach all three. Environment-agnostic: no lookups, no
// account or region, so `cdk synth` runs offline.
import { App, CfnOutput, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
// eslint-disable-next-line import/no-extraneous-dependencies -- the example app, not the library, runs cdk-nag
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { Construct } from 'constructs';
import { applyNagSuppressions } from './nag-suppressions';
import { CacheCluster, NodeType, ReplicationGroup } from '../../src/aws';
import { CacheEngine, MemcachedEngineVersion, ValkeyEngineVersion } from '../../src/core/engine';
import { ClusterMode } from '../../src/core/fleet-options';
import { ParameterGroup } from '../../src/core/parameters/parameter-group';

/** The example's zones: named, so that the stack needs no lookup. */
export const EXAMPLE_ZONES = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];

/** The example stack. */
export class CacheFleetExampleStack extends Stack {
  public readonly sessions: ReplicationGroup;
  public readonly pages: CacheCluster;
  public readonly orders: ReplicationGroup;
  public readonly handler: lambda.Function;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    // Server access logs are delivered under a bucket policy, not the legacy log-delivery ACL (the
    // default of apps made with `cdk init` since aws-cdk-lib 2.60).
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.0.0.0/16'),
      availabilityZones: EXAMPLE_ZONES,
      // One NAT gateway per zone: a node boots and heals through its own zone's route (README).
      natGateways: EXAMPLE_ZONES.length,
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      flowLogs: { All: { trafficType: ec2.FlowLogTrafficType.ALL } },
    });

    // Backups: encrypted with a key of the app's, their bucket's access logged to a bucket of its
    // own (which cannot log to itself, nor be encrypted with a KMS key: S3's server access logs
    // take S3-managed keys only).
    const backupKey = new kms.Key(this, 'BackupKey', { enableKeyRotation: true, description: 'cachefleet example: the backups' });
    const accessLogs = new s3.Bucket(this, 'BackupAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
    });

    const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });
    const params = new ParameterGroup(this, 'SessionParams', { engine: valkey, parameters: { 'maxmemory-policy': 'allkeys-lru' } });
    this.sessions = new ReplicationGroup(this, 'Sessions', {
      vpc,
      engine: valkey,
      nodeType: NodeType.of('cache.r7g.large'),
      replicasPerShard: 2,
      parameterGroup: params,
      // One RDB per day in the window, kept 7 days in a bucket the group creates; the volumes'
      // daily AWS Backup snapshots start with the window and are kept as long.
      snapshotRetentionLimit: 7,
      snapshotWindow: '02:00-03:30',
      backupEncryptionKey: backupKey,
      backupAccessLogsBucket: accessLogs,
    });
    this.pages = new CacheCluster(this, 'Pages', {
      vpc,
      engine: CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 }),
      nodeType: NodeType.of('cache.m7g.large'),
      numCacheNodes: 3,
    });
    // Cluster mode: the 16,384 hash slots split over 3 shards, each a primary and a replica in two
    // zones; cluster-aware clients start from the configuration endpoint.
    this.orders = new ReplicationGroup(this, 'Orders', {
      vpc,
      engine: valkey,
      nodeType: NodeType.of('cache.r7g.large'),
      clusterMode: ClusterMode.ENABLED,
      shards: 3,
      replicasPerShard: 1,
      // A cluster-mode group's block starts at host 16 unless told otherwise, where Pages' is: from
      // host 272 of the /20 subnets (x.x.x.16 of their second /24), 6 addresses per shard leave room
      // for every shard it may grow to.
      nodeAddressOffset: 272,
    });
    // Outputs are opt-in: these print the endpoints and the secret's ARN after `cdk deploy`.
    this.sessions.addOutputs();
    this.pages.addOutputs();
    this.orders.addOutputs();
    // `aws ssm send-command --document-name <it> --targets Key=tag:cachefleet:fleet,Values=<fleet id>
    // --parameters BackupName=<name>` takes an on-demand backup.
    new CfnOutput(this, 'SessionsBackupDocument', { value: this.sessions.backupDocumentName!, description: `The on-demand backup document of ${this.sessions.fleetId}` });

    this.handler = new lambda.Function(this, 'Handler', {
      runtime: lambda.Runtime.NODEJS_24_X,
      reservedConcurrentExecutions: 10,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({ ok: true });'),
      vpc,
      environment: {
        SESSIONS_ENDPOINT: this.sessions.primaryEndpoint.socketAddress,
        SESSIONS_SECRET_ARN: this.sessions.authSecret.secretArn,
        PAGES_ENDPOINT: this.pages.endpoint.socketAddress,
        ORDERS_CONFIGURATION_ENDPOINT: this.orders.configurationEndpoint!.socketAddress,
        ORDERS_SECRET_ARN: this.orders.authSecret.secretArn,
      },
    });
    this.sessions.connections.allowDefaultPortFrom(this.handler);
    this.sessions.grantConnect(this.handler);
    this.pages.connections.allowDefaultPortFrom(this.handler);
    this.orders.connections.allowDefaultPortFrom(this.handler);
    this.orders.grantConnect(this.handler);
  }
}

/** The example app, checked by cdk-nag's AwsSolutions, NIST 800-53 R5 and HIPAA packs. */
export function buildExample(app: App): CacheFleetExampleStack {
  const stack = new CacheFleetExampleStack(app, 'CacheFleetExample');
  applyNagSuppressions(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app), new HIPAASecurityChecks(app));
  return stack;
}
