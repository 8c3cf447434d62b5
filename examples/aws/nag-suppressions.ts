// The cdk-nag findings the example accepts: each acknowledged on one resource, with its reason.
// docs/cdk-nag.md lists them, one row per group of rules (test/aws/example.test.ts checks it).
import { Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** An accepted finding: the rule, the resources (construct paths below the stack) it is accepted on, why. */
export interface ExampleSuppression {
  readonly id: string;
  readonly paths: string[];
  readonly reason: string;
}

const slots = (fleet: string, count: number, child: string) => Array.from({ length: count }, (_, i) => `${fleet}/node-${i}/${child}`);
/** The cluster-mode group's slots: 3 shards of a primary and a replica, node r of shard s named node-<6s + r>. */
const shardSlots = (fleet: string, child: string) => [0, 1, 2].flatMap((s) => [0, 1].map((r) => `${fleet}/node-${6 * s + r}/${child}`));
const allFleets = (child: string) => ['Sessions', 'Pages', 'Orders'].map((fleet) => `${fleet}/${child}`);
const publicSubnets = (child: string) => [1, 2, 3].map((n) => `Vpc/PublicSubnet${n}/${child}`);
const secrets = ['Sessions', 'Orders'].flatMap((fleet) => [`${fleet}/AuthToken/Resource`, `${fleet}/InternalPassword/Resource`, `${fleet}/AdminToken/Resource`]);
const inlinePolicies = [...allFleets('InstanceRole/DefaultPolicy/Resource'), ...allFleets('NodePolicy/Resource'), 'Handler/ServiceRole/DefaultPolicy/Resource', 'Vpc/All/IAMRole/DefaultPolicy/Resource'];
const BOTH = (rule: string) => [`NIST.800.53.R5-${rule}`, `HIPAA.Security-${rule}`];

/** The accepted findings, grouped: the rules one reason answers, on the resources it answers them for. */
export const ACCEPTED: Array<{ ids: string[]; paths: string[]; reason: string }> = [
  {
    ids: ['AwsSolutions-AS3'],
    paths: [...slots('Sessions', 3, 'Group/ASG'), ...slots('Pages', 3, 'Group/ASG'), ...shardSlots('Orders', 'Group/ASG')],
    reason: 'A node slot is a one-instance group whose scaling events are node replacements; the nodes report through CloudFormation signals and their metrics, not ASG notifications.',
  },
  {
    ids: ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]'],
    paths: allFleets('InstanceRole/Resource'),
    reason: 'SSM Session Manager replaces SSH on the nodes; AWS maintains the managed policy it needs.',
  },
  {
    ids: [
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
    ],
    paths: ['Handler/ServiceRole/Resource'],
    reason: "The example client function uses Lambda's standard managed policies for logs and VPC access.",
  },
  {
    ids: ['AwsSolutions-IAM5[Resource::*]'],
    paths: allFleets('NodePolicy/Resource'),
    reason: 'Only ec2:DescribeVolumes, ec2:DescribeNetworkInterfaces, ec2:DescribeInstances, autoscaling:DescribeAutoScalingInstances (no resource-level permissions) and cloudwatch:PutMetricData (limited by the cloudwatch:namespace condition to CacheFleet) use "*".',
  },
  {
    ids: ['AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*]'],
    paths: allFleets('NodePolicy/Resource'),
    reason: "Attaching or force-detaching a volume or interface also authorizes on the instance, whose id is unknown before launch; the aws:ResourceTag/cachefleet:fleet condition limits it to the fleet's own instances, and the volume and interface statements name their ARNs.",
  },
  {
    ids: ['AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:autoscaling:<AWS::Region>:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/*]'],
    paths: allFleets('NodePolicy/Resource'),
    reason: "Marking an instance Unhealthy after a failed boot and completing the pre-stop lifecycle action (a cluster node extends it while its hash slots move away): an auto scaling group ARN holds a generated id, and naming the groups would make the role depend on them while they wait for the role; the autoscaling:ResourceTag/cachefleet:fleet condition limits it to the fleet's groups.",
  },
  {
    ids: ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]'],
    paths: ['Sessions', 'Orders'].map((fleet) => `${fleet}/VolumeBackupPlan/Volumes/Role/Resource`),
    reason: "AWS Backup snapshots the volumes with the service role policy AWS maintains for it; the role is AWS Backup's alone (its trust policy names backup.amazonaws.com).",
  },
  {
    ids: ['AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::<SessionsBackupBucketF9586D29>/sessions/*]'],
    paths: ['Sessions/BackupPolicy/Resource'],
    reason: "The nodes name a backup's objects when they take it (its id, their shard): they may put and get objects under the fleet's own prefix of its backup bucket, and delete none.",
  },
  {
    ids: BOTH('S3BucketReplicationEnabled'),
    paths: ['Sessions/BackupBucket/Resource', 'BackupAccessLogs/Resource'],
    reason: 'The example keeps its backups and their access logs in its own region; for copies in another region, give the group a bucket of your own with replication rules (backupBucket).',
  },
  {
    ids: BOTH('S3DefaultEncryptionKMS'),
    paths: ['BackupAccessLogs/Resource'],
    reason: 'S3 delivers server access logs only to a bucket encrypted with S3-managed keys (SSE-S3), not with a KMS key.',
  },
  {
    ids: ['AwsSolutions-L1'],
    paths: ['Handler/Resource'],
    reason: 'The example function runs Node.js 24, the latest runtime aws-cdk-lib 2.257.0 names; cdk-nag compares against a newer list.',
  },
  {
    ids: ['AwsSolutions-SMG4', ...BOTH('SecretsManagerRotationEnabled')],
    paths: secrets,
    reason: 'Rotating the AUTH token, the internal password or the admin password of a running group is not supported yet (README: not supported yet); a rotation would lock the nodes out.',
  },
  {
    ids: BOTH('SecretsManagerUsingKMSKey'),
    paths: secrets,
    reason: 'The secrets are encrypted with the AWS managed key of Secrets Manager; a customer managed key is an option the fleet does not take yet.',
  },
  {
    ids: BOTH('IAMNoInlinePolicy'),
    paths: inlinePolicies,
    reason: "The policies are scoped to this stack's own resources (ARNs and tags of this stack), which a shared managed policy could not name.",
  },
  {
    ids: BOTH('LambdaDLQ'),
    paths: ['Handler/Resource'],
    reason: 'The example function is invoked synchronously; it has no asynchronous events to dead-letter.',
  },
  {
    ids: BOTH('CloudWatchLogGroupEncrypted'),
    paths: ['Vpc/All/LogGroup/Resource'],
    reason: "The example's VPC flow logs are encrypted by CloudWatch Logs' default encryption.",
  },
  {
    ids: [...BOTH('VPCNoUnrestrictedRouteToIGW'), ...BOTH('VPCSubnetAutoAssignPublicIpDisabled')],
    paths: [...publicSubnets('DefaultRoute'), ...publicSubnets('Subnet')].filter((path) => path.endsWith('DefaultRoute') || path.endsWith('Subnet')),
    reason: 'The public subnets hold the NAT gateway that gives the nodes egress to the AWS APIs; nothing of the fleet runs in them.',
  },
];

/** Every accepted finding, one resource each. */
export const EXAMPLE_SUPPRESSIONS: Array<{ id: string; path: string; reason: string }> = ACCEPTED.flatMap((entry) =>
  entry.ids.flatMap((id) =>
    entry.paths
      .filter((path) => !(id.endsWith('VPCNoUnrestrictedRouteToIGW') && path.endsWith('/Subnet')) && !(id.endsWith('AutoAssignPublicIpDisabled') && path.endsWith('/DefaultRoute')))
      .map((path) => ({ id, path, reason: entry.reason })),
  ),
);

/** Acknowledges every accepted finding on its one resource. */
export function applyNagSuppressions(stack: Stack): void {
  for (const suppression of EXAMPLE_SUPPRESSIONS) {
    const resource = suppression.path.split('/').reduce((scope, id) => scope.node.findChild(id), stack as IConstruct);
    if (suppression.id.split('::').length > 2) {
      // aws-cdk-lib 2.257's Validations.acknowledge refuses an id with two '::' (a finding such as
      // IAM4[Policy::arn:<AWS::Partition>:...]); record the same acknowledgment metadata it writes.
      const previous = resource.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).pop();
      resource.node.addMetadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, { ...(previous?.data ?? {}), [suppression.id]: suppression.reason });
    } else {
      Validations.of(resource).acknowledge({ id: suppression.id, reason: suppression.reason });
    }
  }
}

/** The table docs/cdk-nag.md holds: one row per group of rules, with its resources and its one reason. */
export function acceptedFindingsTable(): string {
  const code = (items: string[]) => items.map((item) => `\`${item}\``).join('<br>');
  return [
    '| cdk-nag rules | resources | reason |',
    '|---|---|---|',
    ...ACCEPTED.map((entry) => `| ${code(entry.ids)} | ${code(entry.paths)} | ${entry.reason} |`),
  ].join('\n');
}
