/**
 * The largest cluster-mode group one stack holds: the formula of src/aws/private/capacity.ts, proven
 * by synthesizing the largest accepted groups and measuring what CloudFormation and IAM limit.
 */
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { testStack, valkey } from './fixtures';
import { BackupSource, ReplicationGroup } from '../../src/aws';
import {
  CLUSTER_FIXED_RESOURCES, maxClusterNodes, maxClusterShards, POLICY_CHARACTERS_PER_NODE, POLICY_FIXED_CHARACTERS,
  RESOURCES_PER_NODE, ROLE_INLINE_POLICY_LIMIT, STACK_RESOURCE_LIMIT,
} from '../../src/aws/private/capacity';
import { ValidationError } from '../../src/core/errors';
import { ClusterMode } from '../../src/core/fleet-options';

type Resources = Record<string, { Type: string; Properties?: any }>;

/** The longest values CloudFormation and AWS give what a policy names, to measure its worst size. */
const WORST: Record<string, string> = {
  'AWS::Partition': 'aws-us-gov',
  'AWS::Region': 'ap-southeast-5',
  'AWS::AccountId': '123456789012',
  'AWS::URLSuffix': 'amazonaws.com.cn',
  'AWS::StackName': 'S'.repeat(128),
  'AWS::StackId': `arn:aws-us-gov:cloudformation:ap-southeast-5:123456789012:stack/${'S'.repeat(128)}/01234567-89ab-cdef-0123-456789abcdef`,
};

function physicalId(resources: Resources, id: string): string {
  const type = resources[id]?.Type;
  switch (type) {
    case 'AWS::EC2::NetworkInterface': return 'eni-0123456789abcdef0';
    case 'AWS::EC2::Volume': return 'vol-0123456789abcdef0';
    case 'AWS::SecretsManager::Secret': return `arn:aws-us-gov:secretsmanager:ap-southeast-5:123456789012:secret:${id}-AbCdEfGhIjKl-AbCdEf`;
    case 'AWS::SSM::Parameter': return `CFN-${id}-AbCdEfGhIjKl`;
    case 'AWS::Route53::HostedZone': return 'Z0123456789ABCDEFGHIJ';
    case 'AWS::S3::Bucket': return 'b'.repeat(63);
    case 'AWS::IAM::Role': return `${'S'.repeat(20)}-${id.slice(0, 20)}-AbCdEfGhIjKl`;
    default: throw new Error(`no worst-case id for ${id} (${type})`);
  }
}

/** Resolves a policy's intrinsics to their longest deployed values. */
function resolveWorst(resources: Resources, value: any): any {
  if (Array.isArray(value)) return value.map((item) => resolveWorst(resources, item));
  if (value && typeof value === 'object') {
    if (typeof value.Ref === 'string') return WORST[value.Ref] ?? physicalId(resources, value.Ref);
    if (value['Fn::Join']) return value['Fn::Join'][1].map((part: any) => resolveWorst(resources, part)).join(value['Fn::Join'][0]);
    if (typeof value['Fn::Sub'] === 'string') return value['Fn::Sub'].replace(/\$\{([^}]+)\}/g, (_: string, name: string) => WORST[name] ?? physicalId(resources, name));
    if (value['Fn::GetAtt']) throw new Error(`no worst case for ${JSON.stringify(value)}`);
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, resolveWorst(resources, inner)]));
  }
  return value;
}

/** The fleet's own resources and the characters of its role's inline policies, resolved to their longest. */
function measure(shards: number, replicasPerShard: number) {
  const { stack, vpc } = testStack();
  // Every backup resource and statement at its largest: a created bucket with the fleet's key, a
  // backup set in another bucket of the longest name and prefix, with a key of its own.
  const longest = (n: number) => 'b'.repeat(n);
  const keyArn = `arn:aws-us-gov:kms:ap-southeast-5:123456789012:key/${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`;
  const restoreBucket = s3.Bucket.fromBucketAttributes(stack, 'Restore', {
    bucketName: longest(63),
    encryptionKey: kms.Key.fromKeyArn(stack, 'RestoreKey', keyArn),
  });
  new ReplicationGroup(stack, 'Orders', {
    vpc,
    engine: valkey,
    clusterMode: ClusterMode.ENABLED,
    shards,
    replicasPerShard,
    nodeAddressOffset: 4,
    snapshotRetentionLimit: 7,
    backupEncryptionKey: kms.Key.fromKeyArn(stack, 'BackupKey', keyArn),
    restoreFrom: BackupSource.fromS3(restoreBucket, longest(256)),
  });
  const resources: Resources = Template.fromStack(stack).toJSON().Resources;
  const own = Object.keys(resources).filter((id) => id.startsWith('Orders'));
  const size = (type: string) => own.filter((id) => resources[id].Type === type)
    .reduce((sum, id) => sum + JSON.stringify(resolveWorst(resources, resources[id].Properties.PolicyDocument)).length, 0);
  return { resources: own.length, characters: size('AWS::IAM::Policy'), managedCharacters: size('AWS::IAM::ManagedPolicy') };
}

const REFUSAL = (shards: number, replicas: number, most: number) => new ValidationError('shards', shards,
  `must be at most ${most} with ${replicas} replica(s) per shard on EC2: a larger group does not fit one CloudFormation stack ` +
  '(at most 500 resources, of which each node takes 4, and the nodes\' role\'s policies at most 10,240 characters, of which each node takes its volume\'s and its interface\'s ARN)',
  false, 'Test/Orders');

describe('the largest cluster-mode group', () => {
  test('each node adds its slot\'s resources and at most POLICY_CHARACTERS_PER_NODE; the rest stays within the fixed counts', () => {
    const three = measure(3, 0);
    const four = measure(4, 0);
    expect(four.resources - three.resources).toBe(RESOURCES_PER_NODE);
    expect(four.characters - three.characters).toBeLessThanOrEqual(POLICY_CHARACTERS_PER_NODE);
    expect(three.resources).toBe(CLUSTER_FIXED_RESOURCES + 3 * RESOURCES_PER_NODE);
    expect(three.characters - 3 * (four.characters - three.characters)).toBeLessThanOrEqual(POLICY_FIXED_CHARACTERS);
  });

  test('the policy size binds before the resource count: 39 nodes', () => {
    expect(Math.floor((STACK_RESOURCE_LIMIT - CLUSTER_FIXED_RESOURCES) / RESOURCES_PER_NODE)).toBe(118);
    expect(maxClusterNodes()).toBe(39);
    expect([0, 1, 2, 3, 4, 5].map(maxClusterShards)).toEqual([39, 19, 13, 9, 7, 6]);
  });

  test.each([0, 1, 2, 3, 4, 5])('%i replica(s) per shard: the most shards synthesize within both limits; one more is refused, naming the most', (replicas) => {
    const most = maxClusterShards(replicas);
    const largest = measure(most, replicas);
    expect(largest.resources).toBe(CLUSTER_FIXED_RESOURCES + RESOURCES_PER_NODE * most * (1 + replicas));
    expect(largest.resources).toBeLessThanOrEqual(STACK_RESOURCE_LIMIT);
    expect(largest.characters).toBeLessThanOrEqual(ROLE_INLINE_POLICY_LIMIT);
    // The backups' managed policy: a fixed size, within IAM's 6,144 characters of a managed policy.
    expect(largest.managedCharacters).toBeGreaterThan(0);
    expect(largest.managedCharacters).toBeLessThanOrEqual(6_144);
    expect(() => measure(most + 1, replicas)).toThrow(REFUSAL(most + 1, replicas, most));
  });
});
