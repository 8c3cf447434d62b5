/**
 * The transition test: every change of one prop, both ways, modelled the way CloudFormation applies
 * it. CloudFormation creates the resources only in the new template and the replacements of
 * resources whose replacement-requiring properties changed, updates the others in place, and
 * deletes the old ones last (the cleanup phase). Through the whole update, no two live resources
 * may claim the same private IP, the same record name in a zone, or the same volume or interface
 * (a node group's `cachefleet:volume-id` / `cachefleet:interface-id` tags are its attachments), and
 * no data volume may be replaced or deleted, except the volume of a removed slot, which its
 * removal policy snapshots.
 */
import { spawnSync } from 'child_process';
import { Size, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { memcached, redis, redis62, testStack, valkey } from './fixtures';
import { BackupSource, CacheCluster, CacheClusterProps, NodeType, ReplicationGroup, ReplicationGroupProps } from '../../src/aws';
import { ClusterMode } from '../../src/core/fleet-options';
import { ParameterGroup } from '../../src/core/parameters/parameter-group';

type Resource = { Type: string; Properties?: Record<string, any>; DeletionPolicy?: string };
type Resources = Record<string, Resource>;

/**
 * The properties whose change makes CloudFormation replace a resource ("Update requires:
 * Replacement" in the CloudFormation template reference, docs.aws.amazon.com/AWSCloudFormation/
 * latest/TemplateReference/aws-resource-<service>-<type>.html), for the types a fleet creates. A
 * test below checks that each list holds every create-only property of the type's provider schema
 * as shipped with cfn-lint. AWS::EC2::Volume has no provider schema: its list is every property
 * that cannot change on a live volume (a new zone, encryption or source means a new volume), the
 * strictest reading.
 */
const REPLACED_BY: Record<string, string[]> = {
  'AWS::EC2::NetworkInterface': ['PrivateIpAddress', 'SubnetId', 'InterfaceType'],
  'AWS::EC2::Volume': ['AvailabilityZone', 'Encrypted', 'KmsKeyId', 'SnapshotId', 'OutpostArn', 'SourceVolumeId'],
  'AWS::Route53::RecordSet': ['Name', 'Type', 'HostedZoneId', 'HostedZoneName'],
  'AWS::Route53::HostedZone': ['Name'],
  'AWS::AutoScaling::AutoScalingGroup': ['AutoScalingGroupName', 'InstanceId'],
  'AWS::EC2::LaunchTemplate': ['LaunchTemplateName'],
  'AWS::EC2::SecurityGroup': ['GroupDescription', 'GroupName', 'VpcId'],
  'AWS::SecretsManager::Secret': ['Name'],
  'AWS::SSM::Parameter': ['Name'],
  'AWS::IAM::Role': ['Path', 'RoleName'],
  'AWS::IAM::InstanceProfile': ['InstanceProfileName', 'Path'],
  'AWS::IAM::ManagedPolicy': ['ManagedPolicyName', 'Description', 'Path'],
  'AWS::S3::Bucket': ['BucketName', 'BucketNamePrefix', 'BucketNamespace'],
  'AWS::S3::BucketPolicy': ['Bucket'],
  'AWS::SSM::Document': ['Name', 'DocumentType'],
  'AWS::Backup::BackupVault': ['BackupVaultName', 'EncryptionKeyArn'],
  'AWS::Backup::BackupPlan': [],
  'AWS::Backup::BackupSelection': ['BackupSelection', 'BackupPlanId'],
};

/** One physical resource: its logical id and the deployment that created it. */
type Physical = string;

interface Claim {
  readonly key: string;
  readonly owner: Physical;
}

interface Outcome {
  /** Logical ids replaced (a new physical resource beside the old one). */
  readonly replaced: string[];
  readonly created: string[];
  readonly deleted: string[];
  /** The claims held twice at some point of the update. */
  readonly doubleClaims: string[];
  /** Why CloudFormation refuses the update (and rolls back, replacing nothing), if it does. */
  readonly refused: string[];
}

/** Models CloudFormation's update from `before` to `after`. */
function update(before: Resources, after: Resources): Outcome {
  const created = Object.keys(after).filter((id) => !(id in before));
  const deleted = Object.keys(before).filter((id) => !(id in after));
  const replaced = Object.keys(after).filter((id) => id in before && before[id].Type === after[id].Type
    && (REPLACED_BY[after[id].Type] ?? []).some((name) =>
      JSON.stringify(before[id].Properties?.[name]) !== JSON.stringify(after[id].Properties?.[name])));
  const renewed = new Set([...created, ...replaced]);
  const physicalBefore = (id: string): Physical => `${id}@before`;
  const physicalAfter = (id: string): Physical => (renewed.has(id) ? `${id}@after` : `${id}@before`);

  const claims: Claim[] = [];
  // Every old resource lives until the cleanup; a resource updated in place holds its old and its new
  // claims (same owner); new and replacement resources live beside the old ones.
  for (const [id, resource] of Object.entries(before)) claims.push(...claimsOf(resource, physicalBefore(id), physicalBefore));
  for (const [id, resource] of Object.entries(after)) claims.push(...claimsOf(resource, physicalAfter(id), physicalAfter));
  const owners = new Map<string, Set<Physical>>();
  for (const claim of claims) owners.set(claim.key, (owners.get(claim.key) ?? new Set()).add(claim.owner));
  const doubleClaims = [...owners].filter(([, who]) => who.size > 1).map(([key, who]) => `${key} by ${[...who].sort().join(' and ')}`);

  const refused = Object.keys(after)
    .filter((id) => id in before && after[id].Type === 'AWS::EC2::Volume' && !renewed.has(id) && after[id].Properties!.Size < before[id].Properties!.Size)
    .map((id) => `${id}: ${before[id].Properties!.Size} -> ${after[id].Properties!.Size} GiB (EBS does not shrink a volume)`);
  return { replaced, created, deleted, doubleClaims, refused };
}

/** What a resource holds that no other live resource may hold at the same time. */
function claimsOf(resource: Resource, owner: Physical, physical: (id: string) => Physical): Claim[] {
  const props = resource.Properties ?? {};
  const ref = (value: any): string => (value && typeof value === 'object' && typeof value.Ref === 'string' ? physical(value.Ref) : JSON.stringify(value));
  switch (resource.Type) {
    case 'AWS::EC2::NetworkInterface':
      // A private IP is unique within the VPC.
      return [{ key: `private IP ${props.PrivateIpAddress}`, owner }];
    case 'AWS::Route53::RecordSet':
      return [{ key: `record ${props.Name} ${props.Type} in ${ref(props.HostedZoneId)}`, owner }];
    case 'AWS::AutoScaling::AutoScalingGroup': {
      const tag = (key: string) => (props.Tags ?? []).find((t: any) => t.Key === key)?.Value;
      return [
        ...(tag('cachefleet:volume-id') ? [{ key: `attachment of volume ${ref(tag('cachefleet:volume-id'))}`, owner }] : []),
        ...(tag('cachefleet:interface-id') ? [{ key: `attachment of interface ${ref(tag('cachefleet:interface-id'))}`, owner }] : []),
      ];
    }
    default:
      return [];
  }
}

/** The checks every transition passes; returns the outcome for the case's own expectations. */
function expectSafe(before: Resources, after: Resources): Outcome {
  const outcome = update(before, after);
  expect(outcome.doubleClaims).toEqual([]);
  const volumes = (resources: Resources) => Object.keys(resources).filter((id) => resources[id].Type === 'AWS::EC2::Volume');
  // No volume is replaced; one is deleted only with its slot (its group goes too), snapshotted.
  expect(outcome.replaced.filter((id) => before[id].Type === 'AWS::EC2::Volume')).toEqual([]);
  for (const id of volumes(before).filter((volume) => outcome.deleted.includes(volume))) {
    const slot = id.replace(/DataVolume[0-9A-F]{8}$/, '');
    const groupGone = Object.keys(before).some((other) => other.startsWith(`${slot}Group`) && before[other].Type === 'AWS::AutoScaling::AutoScalingGroup' && outcome.deleted.includes(other));
    expect({ id, groupGone, policy: before[id].DeletionPolicy }).toEqual({ id, groupGone: true, policy: 'Snapshot' });
  }
  return outcome;
}

const templates = new Map<string, Resources>();

/** The resources of a stack with one fleet at a fixed construct path (`Test/Fleet`), memoized. */
function synth(key: string, build: () => Resources): Resources {
  if (!templates.has(key)) templates.set(key, build());
  return templates.get(key)!;
}

function group(key: string, props: Partial<ReplicationGroupProps> = {}, parameters?: Record<string, string>): Resources {
  return synth(`rg ${key}`, () => {
    const { stack, vpc } = testStack();
    const engine = props.engine ?? valkey;
    const parameterGroup = parameters ? new ParameterGroup(stack, 'Params', { engine, parameters }) : undefined;
    new ReplicationGroup(stack, 'Fleet', { vpc, engine, parameterGroup, ...props });
    return Template.fromStack(stack).toJSON().Resources;
  });
}

function cluster(key: string, props: Partial<CacheClusterProps> = {}): Resources {
  return synth(`cc ${key}`, () => {
    const { stack, vpc } = testStack();
    new CacheCluster(stack, 'Fleet', { vpc, engine: memcached, ...props });
    return Template.fromStack(stack).toJSON().Resources;
  });
}

/** Each pair of neighbours, both ways. */
function bothWays<T>(values: T[]): Array<[T, T]> {
  return values.slice(1).flatMap((value, i): Array<[T, T]> => [[values[i], value], [value, values[i]]]);
}

const ofType = (resources: Resources, type: string) => Object.keys(resources).filter((id) => resources[id].Type === type);

describe('transitions: one prop changed, as CloudFormation applies it', () => {
  test.each(bothWays([0, 1, 2, 3, 4, 5]))('replicasPerShard %i -> %i', (from, to) => {
    const before = group(`replicas ${from}`, { replicasPerShard: from });
    const after = group(`replicas ${to}`, { replicasPerShard: to });
    const outcome = expectSafe(before, after);
    expect(outcome.refused).toEqual([]);
    // The slots that stay keep their interface, volume and group: nothing of theirs is replaced.
    expect(outcome.replaced.filter((id) => ['AWS::EC2::NetworkInterface', 'AWS::EC2::Volume', 'AWS::AutoScaling::AutoScalingGroup'].includes(before[id].Type))).toEqual([]);
    // One slot alone without replicas; with them, at least three (a sentinel-only slot makes up 1 + 1).
    const slots = (resources: Resources) => ofType(resources, 'AWS::AutoScaling::AutoScalingGroup').length;
    const expected = (replicas: number) => (replicas === 0 ? 1 : Math.max(3, replicas + 1));
    expect([slots(before), slots(after)]).toEqual([expected(from), expected(to)]);
  });

  test('the sentinel-only slot appears (0 -> 1 replica) and goes (1 -> 2), its address never passing to a data node', () => {
    const zero = group('replicas 0', { replicasPerShard: 0 });
    const one = group('replicas 1', { replicasPerShard: 1 });
    const two = group('replicas 2', { replicasPerShard: 2 });
    expect(ofType(one, 'AWS::AutoScaling::AutoScalingGroup').filter((id) => id.includes('sentinel0'))).toHaveLength(1);
    expect(update(zero, one).created.filter((id) => id.includes('sentinel0')).length).toBeGreaterThan(0);
    const goes = expectSafe(one, two);
    expect(goes.deleted.filter((id) => id.includes('sentinel0')).map((id) => one[id].Type).sort())
      .toEqual(['AWS::AutoScaling::AutoScalingGroup', 'AWS::EC2::NetworkInterface', 'AWS::EC2::Volume', 'AWS::Route53::RecordSet']);
    const addresses = (resources: Resources) => ofType(resources, 'AWS::EC2::NetworkInterface').map((id) => resources[id].Properties!.PrivateIpAddress);
    const sentinelAddress = one[ofType(one, 'AWS::EC2::NetworkInterface').find((id) => id.includes('sentinel0'))!].Properties!.PrivateIpAddress;
    expect(addresses(two)).not.toContain(sentinelAddress);
  });

  /** A cluster-mode group's slots (construct ids `node<6s + r>`) whose resources a change creates or deletes. */
  const slotsOf = (ids: string[]) => [...new Set(ids.map((id) => /^Fleet(node\d+)/.exec(id)?.[1] ?? `not a slot's: ${id}`))].sort();
  const clusterGroup = (shards: number, replicasPerShard: number) =>
    group(`cluster ${shards} x ${replicasPerShard}`, { clusterMode: ClusterMode.ENABLED, shards, replicasPerShard });

  test.each([
    ['shards', 3, 1, 4, 1, ['node18', 'node19']],
    ['shards', 4, 1, 3, 1, ['node18', 'node19']],
    ['replicasPerShard', 3, 1, 3, 2, ['node14', 'node2', 'node8']],
    ['replicasPerShard', 3, 2, 3, 1, ['node14', 'node2', 'node8']],
  ])('cluster mode: %s (%i shards of 1 + %i -> %i shards of 1 + %i) adds or removes only its slots; the others keep everything', (_prop, fromShards, fromReplicas, toShards, toReplicas, changed) => {
    const before = clusterGroup(fromShards, fromReplicas);
    const after = clusterGroup(toShards, toReplicas);
    const outcome = expectSafe(before, after);
    expect(outcome.refused).toEqual([]);
    // Nothing replaced but the volumes' backup selection, which names them (a new one, under a new
    // name, before the old goes): the configuration record and the policies change in place.
    expect(outcome.replaced.map((id) => before[id].Type)).toEqual(['AWS::Backup::BackupSelection']);
    const selectionName = (resources: Resources) => resources[outcome.replaced[0]].Properties!.BackupSelection.SelectionName;
    expect(selectionName(after)).not.toBe(selectionName(before));
    const grows = toShards * (1 + toReplicas) > fromShards * (1 + fromReplicas);
    expect(slotsOf(grows ? outcome.created : outcome.deleted)).toEqual(changed);
    expect(grows ? outcome.deleted : outcome.created).toEqual([]);
    const slots = (resources: Resources) => ofType(resources, 'AWS::AutoScaling::AutoScalingGroup').length;
    expect([slots(before), slots(after)]).toEqual([fromShards * (1 + fromReplicas), toShards * (1 + toReplicas)]);
    // The nodes that stay are not rolled: their launch template (the user data's restart fingerprint) is the same.
    const launchTemplate = (resources: Resources) => resources[ofType(resources, 'AWS::EC2::LaunchTemplate')[0]];
    expect(launchTemplate(after)).toEqual(launchTemplate(before));
  });

  test.each([...bothWays([1, 2, 3, 4, 5, 6, 7]), ...bothWays([39, 40])])('Memcached numCacheNodes %i -> %i', (from, to) => {
    const outcome = expectSafe(cluster(`nodes ${from}`, { numCacheNodes: from }), cluster(`nodes ${to}`, { numCacheNodes: to }));
    expect(outcome.refused).toEqual([]);
    expect(outcome.replaced.filter((id) => id.includes('Interface'))).toEqual([]);
  });

  test('a single Redis node: engine version 6.2 -> 7.0 replaces no interface, volume or record', () => {
    const before = synth('cc redis 6.2', () => {
      const { stack, vpc } = testStack();
      new CacheCluster(stack, 'Fleet', { vpc, engine: redis62 });
      return Template.fromStack(stack).toJSON().Resources;
    });
    const after = synth('cc redis 7.0', () => {
      const { stack, vpc } = testStack();
      new CacheCluster(stack, 'Fleet', { vpc, engine: redis });
      return Template.fromStack(stack).toJSON().Resources;
    });
    const outcome = expectSafe(before, after);
    expect(outcome.replaced).toEqual([]);
    // 7.0 runs from an image named by tag: the parameter that pins it to one digest comes with it.
    expect(outcome.created).toEqual([expect.stringMatching(/^FleetPinnedImage/)]);
    expect(outcome.deleted).toEqual([]);
  });

  /** Configurations of a 1 + 2 group, by name. */
  const VARIANTS: Record<string, Partial<ReplicationGroupProps>> = {
    'redis 6.2': { engine: redis62 },
    'redis 7.0': { engine: redis },
    'valkey 8.0': { engine: valkey },
    't4g.medium': { nodeType: NodeType.of('cache.t4g.medium') },
    'm7g.large': { nodeType: NodeType.of('cache.m7g.large') },
    'c7g.large': { nodeType: NodeType.of('cache.c7g.large') },
    'r7g.large': { nodeType: NodeType.of('cache.r7g.large') },
    'r7g.xlarge': { nodeType: NodeType.of('cache.r7g.xlarge') },
    '50 GiB': { dataVolumeSize: Size.gibibytes(50) },
    '100 GiB': { dataVolumeSize: Size.gibibytes(100) },
  };
  const variant = (name: string) => group(`1 + 2 ${name}`, { replicasPerShard: 2, ...VARIANTS[name] });

  test('engine version redis 6.2 -> redis 7.0: in place; only the image\'s pin parameter is created (6.2 is an AL2023 package, 7.0 an image named by tag)', () => {
    const outcome = expectSafe(variant('redis 6.2'), variant('redis 7.0'));
    expect(outcome).toMatchObject({ replaced: [], created: [expect.stringMatching(/^FleetPinnedImage/)], deleted: [], refused: [] });
  });

  test('engine version redis 7.0 -> redis 6.2: in place; the pin parameter goes', () => {
    const outcome = expectSafe(variant('redis 7.0'), variant('redis 6.2'));
    expect(outcome).toMatchObject({ replaced: [], created: [], deleted: [expect.stringMatching(/^FleetPinnedImage/)], refused: [] });
  });

  test.each([
    ['engine version (the pin parameter takes the new tag in place)', 'redis 7.0', 'valkey 8.0'],
    ['nodeType (the default volume grows 20 -> 30 GiB)', 't4g.medium', 'r7g.large'],
    ['nodeType (30 -> 60 GiB)', 'r7g.large', 'r7g.xlarge'],
    ['nodeType (both at the 20 GiB minimum)', 'm7g.large', 'c7g.large'],
    ['nodeType (both at the 20 GiB minimum)', 'c7g.large', 'm7g.large'],
    ['dataVolumeSize', '50 GiB', '100 GiB'],
  ])('%s: %s -> %s in place, nothing replaced, created or deleted', (_prop, from, to) => {
    const before = variant(from);
    const after = variant(to);
    const outcome = expectSafe(before, after);
    expect(outcome).toMatchObject({ replaced: [], created: [], deleted: [], refused: [] });
  });

  test('dataVolumeSize growth: the volumes are modified in place (Size is not a replacing property)', () => {
    const before = variant('50 GiB');
    const after = variant('100 GiB');
    const sizes = (resources: Resources) => ofType(resources, 'AWS::EC2::Volume').map((id) => [id, resources[id].Properties!.Size]);
    expect(sizes(after)).toEqual(sizes(before).map(([id]) => [id, 100]));
    expect(update(before, after).replaced).toEqual([]);
  });

  test.each([
    ['dataVolumeSize', '100 GiB', '50 GiB', 100, 50],
    ['nodeType with the default size', 'r7g.xlarge', 'r7g.large', 60, 30],
  ])('%s: %s -> %s is refused by EBS, so the update rolls back; nothing is replaced', (_prop, from, to, fromGiB, toGiB) => {
    const before = variant(from);
    const after = variant(to);
    const outcome = expectSafe(before, after);
    expect(outcome).toMatchObject({ replaced: [], created: [], deleted: [] });
    expect(outcome.refused).toEqual(ofType(before, 'AWS::EC2::Volume').map((id) => `${id}: ${fromGiB} -> ${toGiB} GiB (EBS does not shrink a volume)`));
  });

  test.each([
    ['a live parameter (maxmemory-policy)', { 'maxmemory-policy': 'allkeys-lru' }, { 'maxmemory-policy': 'volatile-ttl' }],
    ['a restart parameter (databases)', { databases: '16' }, { databases: '32' }],
    ['reserved-memory-percent lowered: the default volume grows', { 'reserved-memory-percent': '50' }, { 'reserved-memory-percent': '25' }],
  ])('parameters: %s, nothing replaced, created or deleted', (_name, from, to) => {
    const before = group(`params ${JSON.stringify(from)}`, { replicasPerShard: 2 }, from);
    const after = group(`params ${JSON.stringify(to)}`, { replicasPerShard: 2 }, to);
    expect(expectSafe(before, after)).toMatchObject({ replaced: [], created: [], deleted: [], refused: [] });
  });
});

describe('transitions of the backup props', () => {
  /** A 1 + 2 group whose backup props are built in its stack (a bucket or a key of the app's). */
  const backups = (key: string, props: (stack: Stack) => Partial<ReplicationGroupProps> = () => ({})) => synth(`backups ${key}`, () => {
    const { stack, vpc } = testStack();
    new ReplicationGroup(stack, 'Fleet', { vpc, engine: valkey, replicasPerShard: 2, ...props(stack) });
    return Template.fromStack(stack).toJSON().Resources;
  });
  const appBucket = (stack: Stack) => s3.Bucket.fromBucketName(stack, 'AppBucket', 'app-backups');
  const CASES: Record<string, (stack: Stack) => Partial<ReplicationGroupProps>> = {
    'none': () => ({}),
    'retention 7': () => ({ snapshotRetentionLimit: 7 }),
    'retention 14': () => ({ snapshotRetentionLimit: 14 }),
    'retention 7 with a key': (stack) => ({ snapshotRetentionLimit: 7, backupEncryptionKey: new kms.Key(stack, 'Key') }),
    'an app bucket': (stack) => ({ backupBucket: appBucket(stack) }),
    'restore from set a': (stack) => ({ restoreFrom: BackupSource.fromS3(appBucket(stack), 'fleet/scheduled-20261201') }),
    'restore from set b': (stack) => ({ restoreFrom: BackupSource.fromS3(appBucket(stack), 'fleet/scheduled-20261202') }),
    'no volume backups': () => ({ volumeBackups: false }),
  };
  const NODE_TYPES = ['AWS::EC2::NetworkInterface', 'AWS::EC2::Volume', 'AWS::AutoScaling::AutoScalingGroup', 'AWS::EC2::LaunchTemplate'];

  test.each([
    ...bothWays(['none', 'retention 7', 'retention 14']),
    ...bothWays(['retention 7', 'retention 7 with a key']),
    ...bothWays(['retention 7', 'an app bucket']),
    ...bothWays(['none', 'restore from set a', 'restore from set b']),
    ...bothWays(['none', 'no volume backups']),
  ])('%s -> %s: no node, volume or interface replaced; the launch template unchanged (running nodes are not rolled)', (from, to) => {
    const before = backups(from, CASES[from]);
    const after = backups(to, CASES[to]);
    const outcome = expectSafe(before, after);
    expect(outcome.refused).toEqual([]);
    expect(outcome.replaced.filter((id) => NODE_TYPES.includes(before[id].Type))).toEqual([]);
    expect([...outcome.created, ...outcome.deleted].filter((id) => NODE_TYPES.includes((after[id] ?? before[id]).Type))).toEqual([]);
    const launchTemplate = (resources: Resources) => resources[ofType(resources, 'AWS::EC2::LaunchTemplate')[0]];
    expect(launchTemplate(after)).toEqual(launchTemplate(before));
  });

  test('restoreFrom changed on a running group: only the groups\' restore-from tag and the backup policy change', () => {
    const before = backups('restore from set a', CASES['restore from set a']);
    const after = backups('restore from set b', CASES['restore from set b']);
    const changed = Object.keys(after).filter((id) => JSON.stringify(after[id]) !== JSON.stringify(before[id]));
    expect(changed.map((id) => after[id].Type).sort()).toEqual([
      ...ofType(after, 'AWS::AutoScaling::AutoScalingGroup').map(() => 'AWS::AutoScaling::AutoScalingGroup'),
      'AWS::IAM::ManagedPolicy',
    ]);
    expect(update(before, after)).toMatchObject({ replaced: [], created: [], deleted: [] });
  });

  test('another key replaces the volume backups\' vault under another name, so the new one is created beside the old', () => {
    const before = backups('retention 7', CASES['retention 7']);
    const after = backups('retention 7 with a key', CASES['retention 7 with a key']);
    const vault = ofType(after, 'AWS::Backup::BackupVault')[0];
    expect(update(before, after).replaced).toContain(vault);
    expect(JSON.stringify(after[vault].Properties!.BackupVaultName)).not.toEqual(JSON.stringify(before[vault].Properties!.BackupVaultName));
  });
});

describe('the model itself', () => {
  test('the replacing properties hold every create-only property of the provider schemas cfn-lint ships', () => {
    const script = [
      'import json, sys',
      'from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER as m',
      'types = json.loads(sys.argv[1])',
      "print(json.dumps({t: [p.split('/')[-1] for p in (m.get_resource_schema('us-east-1', t).schema.get('createOnlyProperties') or [])] for t in types}))",
    ].join('\n');
    const result = spawnSync('python3', ['-c', script, JSON.stringify(Object.keys(REPLACED_BY))], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    const createOnly: Record<string, string[]> = JSON.parse(result.stdout);
    for (const [type, names] of Object.entries(createOnly)) {
      expect({ type, missing: names.filter((name) => !REPLACED_BY[type].includes(name)) }).toEqual({ type, missing: [] });
    }
  });

  test('every resource type a fleet creates with a stable identity is in the table', () => {
    const types = new Set([...templates.values()].flatMap((resources) => Object.values(resources).map((r) => r.Type)));
    for (const type of ['AWS::EC2::NetworkInterface', 'AWS::EC2::Volume', 'AWS::Route53::RecordSet', 'AWS::AutoScaling::AutoScalingGroup']) {
      expect(types.has(type)).toBe(true);
    }
  });

  test('a double claim is found: two interfaces with one address, and an address passed from one name to another', () => {
    const eni = (ip: string): Resource => ({ Type: 'AWS::EC2::NetworkInterface', Properties: { PrivateIpAddress: ip, SubnetId: 's' } });
    expect(update({ a: eni('10.0.0.5') }, { b: eni('10.0.0.5') }).doubleClaims).toEqual(['private IP 10.0.0.5 by a@before and b@after']);
    // The same name with a new address is a replacement: created before the old one goes.
    expect(update({ a: eni('10.0.0.5'), b: eni('10.0.0.6') }, { a: eni('10.0.0.6') }).doubleClaims).toEqual(['private IP 10.0.0.6 by a@after and b@before']);
    // Kept in place: no claim against itself.
    expect(update({ a: eni('10.0.0.5') }, { a: eni('10.0.0.5') }).doubleClaims).toEqual([]);
  });

  test('a volume attachment passed to another group is a double claim', () => {
    const asg = (volume: string): Resource => ({ Type: 'AWS::AutoScaling::AutoScalingGroup', Properties: { Tags: [{ Key: 'cachefleet:volume-id', Value: { Ref: volume } }] } });
    const volume: Resource = { Type: 'AWS::EC2::Volume', Properties: { AvailabilityZone: 'a', Size: 20 } };
    expect(update({ v: volume, g1: asg('v') }, { v: volume, g2: asg('v') }).doubleClaims).toEqual(['attachment of volume v@before by g1@before and g2@after']);
  });
});
