/**
 * cfn-lint (AWS's CloudFormation linter, preinstalled) over the AWS example and a matrix of fleets:
 * each engine family and version, 0 to 5 replicas, cluster mode (the smallest and the largest
 * groups), Memcached 1 to 40 nodes, a single Redis node, backups (a created bucket, an app's bucket).
 * One cfn-lint process reads every template (its start-up dominates the cost). Our resources get no
 * error and no warning.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { memcached, testStack } from './fixtures';
import { buildExample } from '../../examples/aws/app';
import { BackupSource, CacheCluster, NodeType, ReplicationGroup } from '../../src/aws';
import { CacheEngine, RedisEngineVersion, ValkeyEngineVersion } from '../../src/core/engine';
import { ClusterMode } from '../../src/core/fleet-options';

/**
 * Findings on resources that aws-cdk-lib creates and we cannot change, each ignored narrowly: the
 * rule on the resource's logical-id prefix only.
 */
const IGNORED: Array<{ rule: string; resource: RegExp; why: string }> = [
  {
    rule: 'W3010',
    resource: /^Vpc(Public|Private|Isolated)Subnet\dSubnet[0-9A-F]{8}$/,
    why: 'ec2.Vpc writes the zone names it is given literally in its subnets; the tests and the example name their zones so that synth needs no lookup',
  },
  {
    rule: 'W3005',
    resource: /^Handler[0-9A-F]{8}$/,
    why: "the example's Lambda function: lambda.Function adds a DependsOn on its role that its Role GetAtt already implies",
  },
];

interface Finding {
  readonly Rule: { readonly Id: string };
  readonly Level: string;
  readonly Message: string;
  readonly Filename: string;
  readonly Location: { readonly Path: Array<string | number> };
}

const ENGINES: Array<[string, CacheEngine]> = [
  ['redis62', CacheEngine.redis({ version: RedisEngineVersion.VER_6_2 })],
  ['redis70', CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 })],
  ['redis72', CacheEngine.redis({ version: RedisEngineVersion.VER_7_2 })],
  ['valkey72', CacheEngine.valkey({ version: ValkeyEngineVersion.VER_7_2 })],
  ['valkey80', CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 })],
  ['valkey81', CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_1 })],
];

/** The templates to lint, by file name. */
function templates(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const add = (name: string, stack: Stack) => {
    out[`${name}.template.json`] = Template.fromStack(stack).toJSON();
  };
  const example = buildExample(new App());
  add('example', example);
  for (const [name, engine] of ENGINES) {
    for (const replicasPerShard of [0, 1, 2, 3, 4, 5]) {
      // Every replica count on one engine; the others at 1 + 1 (a sentinel-only slot) and 1 + 2.
      if (name !== 'valkey80' && ![1, 2].includes(replicasPerShard)) continue;
      const { stack, vpc } = testStack();
      new ReplicationGroup(stack, 'Fleet', { vpc, engine, replicasPerShard, nodeType: NodeType.of(replicasPerShard % 2 ? 'cache.r7g.large' : 'cache.m7i.large') });
      add(`rg-${name}-${replicasPerShard}`, stack);
    }
    const { stack, vpc } = testStack();
    new CacheCluster(stack, 'Fleet', { vpc, engine });
    add(`cc-${name}`, stack);
  }
  // Cluster mode: 3 shards with 0, 1 and 2 replicas on three engines, and the largest group.
  for (const [name, shards, replicasPerShard] of [['redis62', 3, 0], ['valkey80', 3, 1], ['redis70', 3, 2], ['valkey80', 19, 1]] as const) {
    const { stack, vpc } = testStack();
    const engine = ENGINES.find(([engineName]) => engineName === name)![1];
    new ReplicationGroup(stack, 'Fleet', { vpc, engine, clusterMode: ClusterMode.ENABLED, shards, replicasPerShard });
    add(`cluster-${name}-${shards}x${replicasPerShard}`, stack);
  }
  for (const numCacheNodes of [1, 2, 3, 4, 40]) {
    const { stack, vpc } = testStack();
    new CacheCluster(stack, 'Fleet', { vpc, engine: memcached, numCacheNodes });
    add(`memcached-${numCacheNodes}`, stack);
  }
  // Backups: a bucket the group creates with a key of the stack's, restoring from a bucket of the
  // app's; a single node backing up to a bucket of the app's (the example covers access logs).
  {
    const { stack, vpc } = testStack();
    const old = s3.Bucket.fromBucketName(stack, 'OldBackups', 'old-backups');
    new ReplicationGroup(stack, 'Fleet', {
      vpc,
      engine: ENGINES[4][1],
      replicasPerShard: 1,
      snapshotRetentionLimit: 7,
      snapshotWindow: '23:30-01:00',
      backupEncryptionKey: new kms.Key(stack, 'BackupKey', { enableKeyRotation: true }),
      restoreFrom: BackupSource.fromS3(old, 'fleet/scheduled-20261201'),
    });
    add('backups-created-bucket', stack);
  }
  {
    const { stack, vpc } = testStack();
    new CacheCluster(stack, 'Fleet', { vpc, engine: ENGINES[0][1], backupBucket: s3.Bucket.fromBucketName(stack, 'AppBackups', 'app-backups') });
    add('backups-app-bucket', stack);
  }
  return out;
}

describe('cfn-lint', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-cfn-lint-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('no error and no warning on any template of the example and the matrix', () => {
    const files = Object.entries(templates()).map(([name, template]) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, JSON.stringify(template, undefined, 1));
      return file;
    });
    expect(files.length).toBeGreaterThan(20);

    // --regions: the example's zones are eu-west-1's; informational findings are not asked for.
    const run = spawnSync('cfn-lint', ['--format', 'json', '--regions', 'eu-west-1', '--', ...files], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(run.error).toBeUndefined();
    // Exit codes: 0 clean, 2 errors, 4 warnings, 6 both, 8 informational; anything else is a crash.
    expect([0, 2, 4, 6, 8, 10, 12, 14]).toContain(run.status);
    const findings: Finding[] = JSON.parse(run.stdout || '[]');
    const kept = findings
      .filter((finding) => finding.Level === 'Error' || finding.Level === 'Warning')
      .filter((finding) => !IGNORED.some((ignored) => ignored.rule === finding.Rule.Id && ignored.resource.test(String(finding.Location.Path[1] ?? ''))))
      .map((finding) => `${path.basename(finding.Filename)} ${finding.Rule.Id} ${finding.Location.Path.join('/')}: ${finding.Message}`);
    expect(kept).toEqual([]);
  });

  test('the linter does find an error in a broken template (the check can fail)', () => {
    const file = path.join(dir, 'broken.template.json');
    fs.writeFileSync(file, JSON.stringify({ Resources: { Volume: { Type: 'AWS::EC2::Volume', Properties: { Size: 20, AvailabilityZone: 'eu-west-1a', VolumeType: 'gp9' } } } }));
    const run = spawnSync('cfn-lint', ['--format', 'json', '--regions', 'eu-west-1', '--', file], { encoding: 'utf8' });
    const findings: Finding[] = JSON.parse(run.stdout || '[]');
    expect(findings.some((finding) => finding.Level === 'Error' && finding.Location.Path.includes('VolumeType'))).toBe(true);
  });
});
