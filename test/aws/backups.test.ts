import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { memcached, testStack, valkey } from './fixtures';
import { BackupSource, CacheCluster, ReplicationGroup, ReplicationGroupProps } from '../../src/aws';
import { INSTALLED_BUNDLE, nodeScript } from '../../src/aws/private/boot-scripts';
import { BACKUP_NAME_PATTERN } from '../../src/aws/private/fleet-backups';
import { ClusterMode } from '../../src/core/fleet-options';
import { thrown } from '../shared/thrown';

type Props = Partial<ReplicationGroupProps>;

/** A 1 + 1 Valkey group `Sessions` (fleet name `sessions`) with the props `build` makes in its stack. */
function group(build: (stack: Stack) => Props = () => ({})) {
  const { stack, vpc } = testStack();
  const fleet = new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, replicasPerShard: 1, ...build(stack) });
  return { stack, fleet, template: Template.fromStack(stack) };
}

const resourcesOf = (template: Template, type: string) => Object.entries<any>(template.findResources(type));
const only = (template: Template, type: string) => {
  const found = resourcesOf(template, type);
  expect(found).toHaveLength(1);
  return found[0];
};
const ref = (template: Template, type: string) => ({ Ref: only(template, type)[0] });
const arn = (...parts: unknown[]) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ...parts]] });

/** The statements of the nodes' backup policy, by Sid. */
function backupStatements(template: Template): Record<string, any> {
  const [, policy] = only(template, 'AWS::IAM::ManagedPolicy');
  return Object.fromEntries(policy.Properties.PolicyDocument.Statement.map((statement: any) => [statement.Sid, statement]));
}

/** The fleet's backup location parameter, when it has one. */
function backupLocation(template: Template): [string, any] | undefined {
  return resourcesOf(template, 'AWS::SSM::Parameter').find(([, parameter]) => JSON.stringify(parameter.Properties.Name ?? '').includes('/backup-location'));
}

/** A tag of every node group, as CloudFormation gets it. */
function groupTags(template: Template, key: string): unknown[] {
  return resourcesOf(template, 'AWS::AutoScaling::AutoScalingGroup')
    .map(([, asg]) => asg.Properties.Tags.find((tag: any) => tag.Key === key));
}

describe('the backup bucket', () => {
  test('default: no snapshotRetentionLimit, no bucket, no document, no backup location', () => {
    const { template, fleet } = group();
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.resourceCountIs('AWS::SSM::Document', 0);
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    expect(backupLocation(template)).toBeUndefined();
    expect(fleet.backupBucket).toBeUndefined();
    expect(fleet.backupDocumentName).toBeUndefined();
  });

  test('snapshotRetentionLimit 5: a bucket encrypted, closed to the public, TLS only, versioned, expiring backups after 5 days, retained', () => {
    const { template, fleet } = group(() => ({ snapshotRetentionLimit: 5 }));
    const [id, bucket] = only(template, 'AWS::S3::Bucket');
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.UpdateReplacePolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: [
          { Id: 'expire-backups', Status: 'Enabled', ExpirationInDays: 5, NoncurrentVersionExpiration: { NoncurrentDays: 1 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
          { Id: 'remove-expired-delete-markers', Status: 'Enabled', ExpiredObjectDeleteMarker: true },
        ],
      },
    });
    expect(bucket.Properties.LoggingConfiguration).toBeUndefined();
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        })]),
      },
    });
    expect(Stack.of(fleet).resolve(fleet.backupBucket!.bucketName)).toEqual({ Ref: id });
  });

  test('the nodes read the backup location, s3://<bucket>/<fleet name>, from the fleet\'s parameter, which they alone may read', () => {
    const { template, fleet } = group(() => ({ snapshotRetentionLimit: 1 }));
    const [id, parameter] = backupLocation(template)!;
    expect(parameter.Properties).toMatchObject({
      Type: 'String',
      Name: `/cachefleet/${fleet.fleetId}/backup-location`,
      Value: { 'Fn::Join': ['', ['s3://', ref(template, 'AWS::S3::Bucket'), '/sessions']] },
    });
    // Not a tag: a group's tags reach only the instances it launches later.
    expect(groupTags(template, 'cachefleet:backup-location')).toEqual([undefined, undefined, undefined]);
    expect(backupStatements(template).ReadBackupLocation).toMatchObject({ Action: 'ssm:GetParameter' });
    expect(backupStatements(template).ReadBackupLocation.Resource).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':parameter', { Ref: id }]],
    });
  });

  test('backupEncryptionKey: the bucket is encrypted with it (bucket key on), the nodes may encrypt, decrypt and make data keys with it', () => {
    const { template } = group((stack) => ({ snapshotRetentionLimit: 3, backupEncryptionKey: new kms.Key(stack, 'Key') }));
    const key = { 'Fn::GetAtt': [only(template, 'AWS::KMS::Key')[0], 'Arn'] };
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: key }, BucketKeyEnabled: true }] },
    });
    expect(backupStatements(template).UseBackupKey).toEqual({ Sid: 'UseBackupKey', Effect: 'Allow', Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'], Resource: key });
  });

  test('backupAccessLogsBucket: the bucket logs its accesses there, under the fleet id', () => {
    const { template, fleet } = group((stack) => ({ snapshotRetentionLimit: 3, backupAccessLogsBucket: new s3.Bucket(stack, 'Logs') }));
    const logs = Object.keys(template.findResources('AWS::S3::Bucket')).find((id) => id.startsWith('Logs'))!;
    template.hasResourceProperties('AWS::S3::Bucket', { LoggingConfiguration: { DestinationBucketName: { Ref: logs }, LogFilePrefix: `${fleet.fleetId}/` } });
  });

  test('removalPolicy DESTROY: the bucket and the vault go with the stack too', () => {
    const { template } = group(() => ({ snapshotRetentionLimit: 3, removalPolicy: RemovalPolicy.DESTROY }));
    expect(only(template, 'AWS::S3::Bucket')[1].DeletionPolicy).toBe('Delete');
    expect(only(template, 'AWS::Backup::BackupVault')[1].DeletionPolicy).toBe('Delete');
  });

  test('a bucket of the app\'s: no bucket created, its lifecycle is the app\'s; the location and the document use it', () => {
    const { template, fleet } = group((stack) => ({ backupBucket: s3.Bucket.fromBucketName(stack, 'AppBucket', 'app-backups') }));
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.resourceCountIs('AWS::SSM::Document', 1);
    expect(backupLocation(template)![1].Properties.Value).toBe('s3://app-backups/sessions');
    expect(fleet.backupBucket!.bucketName).toBe('app-backups');
  });

  test('a bucket of the app\'s with a key: the nodes may use the key', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    const { template } = group((stack) => ({
      snapshotRetentionLimit: 7,
      backupBucket: s3.Bucket.fromBucketAttributes(stack, 'AppBucket', { bucketName: 'app-backups', encryptionKey: kms.Key.fromKeyArn(stack, 'AppKey', keyArn) }),
    }));
    expect(backupStatements(template).UseBackupKey.Resource).toBe(keyArn);
  });
});

describe('the nodes\' rights', () => {
  test('their own prefix only: put and get objects under it, list it; no delete; a managed policy the nodes wait for', () => {
    const { template } = group(() => ({ snapshotRetentionLimit: 2 }));
    const bucket = ref(template, 'AWS::S3::Bucket');
    const statements = backupStatements(template);
    expect(Object.keys(statements).sort()).toEqual(['ListOwnBackups', 'ReadBackupLocation', 'WriteOwnBackups']);
    expect(statements.WriteOwnBackups).toEqual({
      Sid: 'WriteOwnBackups',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
      Resource: arn(':s3:::', bucket, '/sessions/*'),
    });
    expect(statements.ListOwnBackups).toEqual({
      Sid: 'ListOwnBackups',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: arn(':s3:::', bucket),
      Condition: { StringLike: { 's3:prefix': ['sessions/*', 'sessions/'] } },
    });
    const [policyId, policy] = only(template, 'AWS::IAM::ManagedPolicy');
    expect(policy.Properties.Roles).toEqual([{ Ref: Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith('SessionsInstanceRole')) }]);
    for (const [, asg] of resourcesOf(template, 'AWS::AutoScaling::AutoScalingGroup')) expect(asg.DependsOn).toContain(policyId);
    expect(JSON.stringify(template.toJSON())).not.toContain('s3:DeleteObject');
  });

  test('the statements do not grow with the nodes', () => {
    const count = (build: (stack: Stack) => Props) => JSON.stringify(only(group(build).template, 'AWS::IAM::ManagedPolicy')[1]).length;
    const bucket = (stack: Stack) => s3.Bucket.fromBucketName(stack, 'B', 'app-backups');
    const withReplicas = (replicasPerShard: number) => count((stack) => ({ backupBucket: bucket(stack), replicasPerShard }));
    expect(withReplicas(5)).toBe(withReplicas(1));
  });
});

describe('restoreFrom', () => {
  const source = (stack: Stack, prefix = 'orders/scheduled-20261201') =>
    BackupSource.fromS3(s3.Bucket.fromBucketName(stack, 'Old', 'old-backups'), prefix);

  test('the nodes get the backup set in a tag of every group, and may read and list it alone', () => {
    const { template } = group((stack) => ({ restoreFrom: source(stack) }));
    const tag = { Key: 'cachefleet:restore-from', PropagateAtLaunch: true, Value: 's3://old-backups/orders/scheduled-20261201' };
    expect(groupTags(template, 'cachefleet:restore-from')).toEqual([tag, tag, tag]);
    const statements = backupStatements(template);
    expect(Object.keys(statements).sort()).toEqual(['ListRestoreSource', 'ReadRestoreSource']);
    expect(statements.ReadRestoreSource).toEqual({
      Sid: 'ReadRestoreSource', Effect: 'Allow', Action: 's3:GetObject', Resource: arn(':s3:::old-backups/orders/scheduled-20261201/*'),
    });
    expect(statements.ListRestoreSource).toEqual({
      Sid: 'ListRestoreSource',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: arn(':s3:::old-backups'),
      Condition: { StringLike: { 's3:prefix': ['orders/scheduled-20261201/*', 'orders/scheduled-20261201/'] } },
    });
    // Restoring gives no backup location of its own.
    expect(backupLocation(template)).toBeUndefined();
  });

  test('a source bucket with a key: the nodes may decrypt with it, nothing more', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    const { template } = group((stack) => ({
      restoreFrom: BackupSource.fromS3(s3.Bucket.fromBucketAttributes(stack, 'Old', { bucketName: 'old', encryptionKey: kms.Key.fromKeyArn(stack, 'K', keyArn) }), 'a/b'),
    }));
    expect(backupStatements(template).DecryptRestoreSource).toEqual({ Sid: 'DecryptRestoreSource', Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArn });
  });

  test.each([
    ['empty', ''],
    ['a leading slash', '/orders/scheduled-20261201'],
    ['a trailing slash', 'orders/scheduled-20261201/'],
    ['an empty segment', 'orders//scheduled-20261201'],
    ['257 characters', 'a'.repeat(257)],
  ])('BackupSource.fromS3 refuses a prefix with %s', (_what, prefix) => {
    const { stack } = testStack();
    const error = thrown(() => source(stack, prefix));
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe(`\`restoreFrom.prefix\` must be the prefix of one backup set, 1 to 256 characters without a leading or trailing slash, such as 'orders/scheduled-20261201', got: ${JSON.stringify(prefix)}`);
  });

  test('BackupSource.fromS3 takes a token prefix and a token bucket name', () => {
    const { stack } = testStack();
    const bucket = new s3.Bucket(stack, 'Made');
    const made = BackupSource.fromS3(bucket, bucket.bucketName);
    expect(stack.resolve(made.s3Url)).toEqual({ 'Fn::Join': ['', ['s3://', { Ref: expect.any(String) }, '/', { Ref: expect.any(String) }]] });
  });
});

describe('the on-demand backup document', () => {
  test('a Command document running the agent\'s backup on each node it is sent to, as the units run it', () => {
    const { template, fleet, stack } = group(() => ({ snapshotRetentionLimit: 2 }));
    const [id, document] = only(template, 'AWS::SSM::Document');
    expect(stack.resolve(fleet.backupDocumentName)).toEqual({ Ref: id });
    expect(document.Properties.DocumentType).toBe('Command');
    const content = document.Properties.Content;
    expect(content.schemaVersion).toBe('2.2');
    expect(content.parameters).toEqual({
      BackupName: { type: 'String', allowedPattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: expect.stringContaining('1 to 63 lower-case letters, digits and dashes') },
    });
    expect(content.mainSteps).toEqual([{
      action: 'aws:runShellScript',
      name: 'backup',
      inputs: {
        timeoutSeconds: '21600',
        runCommand: ['systemd-run --wait --pipe --collect --quiet --property=EnvironmentFile=/opt/cachefleet/agent.env /opt/cachefleet/cachefleet-node backup {{ BackupName }}'],
      },
    }]);
    expect(JSON.stringify(stack.resolve(content.description))).toContain(`Send it to the instances tagged cachefleet:fleet=${fleet.fleetId}.`);
  });

  test('the agent and its environment file are where the fetch program installs them and the units read them', () => {
    expect(INSTALLED_BUNDLE).toBe('/opt/cachefleet');
    expect(nodeScript('aws/fetch.sh')).toContain('dir="$root/opt/cachefleet"');
    const units = nodeScript('aws/units.sh');
    expect(units).toContain('agent="$bundle/cachefleet-node"');
    expect(units).toContain('env_file="$bundle/agent.env"');
    expect(units).toContain('EnvironmentFile=$env_file');
  });

  test.each([
    ['before-migration', true], ['a', true], ['0', true], ['a'.repeat(63), true],
    ['', false], ['-a', false], ['Upper', false], ['a b', false], ['a;rm', false], ['$(id)', false], ['a'.repeat(64), false],
  ])('the parameter pattern: %j accepted: %s', (name, accepted) => {
    expect(new RegExp(BACKUP_NAME_PATTERN).test(name)).toBe(accepted);
  });
});

describe('the volumes\' AWS Backup plan', () => {
  test('default (Redis, Valkey): daily at 03:00 UTC, a 60-minute start window, kept 7 days, every volume by ARN, a retained vault', () => {
    const { template } = group();
    const [, plan] = only(template, 'AWS::Backup::BackupPlan');
    expect(plan.Properties.BackupPlan.BackupPlanRule).toEqual([{
      RuleName: 'daily',
      ScheduleExpression: 'cron(0 3 * * ? *)',
      StartWindowMinutes: 60,
      CompletionWindowMinutes: 7 * 24 * 60,
      Lifecycle: { DeleteAfterDays: 7 },
      TargetBackupVault: { 'Fn::GetAtt': [only(template, 'AWS::Backup::BackupVault')[0], 'BackupVaultName'] },
    }]);
    const volumes = Object.keys(template.findResources('AWS::EC2::Volume'));
    expect(volumes).toHaveLength(3);
    const [, selection] = only(template, 'AWS::Backup::BackupSelection');
    expect(selection.Properties.BackupSelection.Resources).toEqual(expect.arrayContaining(volumes.map((volume) => arn(':ec2:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':volume/', { Ref: volume }))));
    expect(selection.Properties.BackupSelection.Resources).toHaveLength(volumes.length);
    expect(selection.Properties.BackupSelection.SelectionName).toMatch(/^volumes-[0-9a-f]{8}$/);
    const [, vault] = only(template, 'AWS::Backup::BackupVault');
    expect(vault.DeletionPolicy).toBe('Retain');
    expect(vault.Properties.EncryptionKeyArn).toBeUndefined();
  });

  test('snapshotWindow and snapshotRetentionLimit: the rule starts with the window, for its length, and keeps the snapshots as long', () => {
    const { template } = group(() => ({ snapshotRetentionLimit: 14, snapshotWindow: '22:30-01:00' }));
    template.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: { BackupPlanRule: [Match.objectLike({ ScheduleExpression: 'cron(30 22 * * ? *)', StartWindowMinutes: 150, Lifecycle: { DeleteAfterDays: 14 } })] },
    });
  });

  test('a window alone (no scheduled backup to S3): the rule starts with it; the snapshots are kept 7 days', () => {
    const { template } = group(() => ({ snapshotWindow: '05:15-06:15' }));
    template.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: { BackupPlanRule: [Match.objectLike({ ScheduleExpression: 'cron(15 5 * * ? *)', StartWindowMinutes: 60, Lifecycle: { DeleteAfterDays: 7 } })] },
    });
  });

  test('backupEncryptionKey: the vault is encrypted with it', () => {
    const { template } = group((stack) => ({ backupEncryptionKey: new kms.Key(stack, 'Key') }));
    template.hasResourceProperties('AWS::Backup::BackupVault', { EncryptionKeyArn: { 'Fn::GetAtt': [only(template, 'AWS::KMS::Key')[0], 'Arn'] } });
  });

  test('the vault\'s and the plan\'s names hold the fleet id and the stack\'s own id (a retained vault leaves its name behind)', () => {
    const { template, fleet } = group();
    const name = only(template, 'AWS::Backup::BackupVault')[1].Properties.BackupVaultName;
    expect(name['Fn::Join'][1][0]).toMatch(new RegExp(`^${fleet.fleetId}-[0-9a-f]{8}-$`));
    expect(JSON.stringify(name)).toContain('AWS::StackId');
  });

  test('volumeBackups: false: no plan, vault or selection', () => {
    const { template } = group(() => ({ volumeBackups: false }));
    template.resourceCountIs('AWS::Backup::BackupPlan', 0);
    template.resourceCountIs('AWS::Backup::BackupVault', 0);
    template.resourceCountIs('AWS::Backup::BackupSelection', 0);
  });

  test('cluster mode: every node\'s volume', () => {
    const { stack, vpc } = testStack();
    new ReplicationGroup(stack, 'Orders', { vpc, engine: valkey, clusterMode: ClusterMode.ENABLED, shards: 3, replicasPerShard: 1 });
    const template = Template.fromStack(stack);
    expect(only(template, 'AWS::Backup::BackupSelection')[1].Properties.BackupSelection.Resources).toHaveLength(6);
  });

  test('Memcached: no volumes, no plan', () => {
    const { stack, vpc } = testStack();
    new CacheCluster(stack, 'Pages', { vpc, engine: memcached, numCacheNodes: 2 });
    Template.fromStack(stack).resourceCountIs('AWS::Backup::BackupPlan', 0);
  });
});

describe('validation', () => {
  const bucket = (stack: Stack) => s3.Bucket.fromBucketName(stack, 'AppBucket', 'app-backups');
  test.each<[string, (stack: Stack) => Record<string, unknown>, string]>([
    ['backupBucket', (stack) => ({ backupBucket: bucket(stack) }), 'must be unset for Memcached, which keeps no data to back up'],
    ['backupEncryptionKey', (stack) => ({ backupEncryptionKey: new kms.Key(stack, 'Key') }), 'must be unset for Memcached, which keeps no data to back up'],
    ['backupAccessLogsBucket', (stack) => ({ backupAccessLogsBucket: bucket(stack) }), 'must be unset for Memcached, which keeps no data to back up'],
    ['restoreFrom', (stack) => ({ restoreFrom: BackupSource.fromS3(bucket(stack), 'a/b') }), 'must be unset for Memcached, which keeps no data to back up'],
    ['volumeBackups', () => ({ volumeBackups: false }), 'must be unset for Memcached, which has no volumes to back up, got: false'],
  ])('Memcached refuses %s', (prop, props, message) => {
    const { stack, vpc } = testStack();
    const error = thrown(() => new CacheCluster(stack, 'Pages', { vpc, engine: memcached, ...props(stack) }));
    expect(error.name).toBe('ValidationError');
    expect(error.message).toContain(`Test/Pages: \`${prop}\` ${message}`);
  });

  test.each<[string, (stack: Stack) => Props, string]>([
    ['a key with a bucket of the app\'s', (stack) => ({ backupBucket: bucket(stack), backupEncryptionKey: new kms.Key(stack, 'Key') }),
      "`backupEncryptionKey` must be unset when backupBucket is given: the bucket's own encryption applies (the nodes are granted the use of its key, if it has one), got: \"Test/Key\""],
    ['access logs with a bucket of the app\'s', (stack) => ({ backupBucket: bucket(stack), backupAccessLogsBucket: new s3.Bucket(stack, 'Logs') }),
      '`backupAccessLogsBucket` must be unset when backupBucket is given: the server access logs of a bucket of your own are its own setting, got: "Test/Logs"'],
    ['access logs without a bucket', (stack) => ({ backupAccessLogsBucket: new s3.Bucket(stack, 'Logs') }),
      '`backupAccessLogsBucket` must be unset when the fleet creates no backup bucket: set snapshotRetentionLimit above 0 for one, got: "Test/Logs"'],
    ['restoreFrom not a BackupSource', () => ({ restoreFrom: 's3://old/a' as any }),
      "`restoreFrom` must be a BackupSource (BackupSource.fromS3(bucket, 'orders/scheduled-20261201')), got: \"s3://old/a\""],
    ['volumeBackups not a boolean', () => ({ volumeBackups: 'yes' as any }), '`volumeBackups` must be true or false, got: "yes"'],
    ['backupBucket not a bucket', () => ({ backupBucket: 'app-backups' as any }), '`backupBucket` must be an s3.IBucket, got: "app-backups"'],
  ])('refuses %s', (_what, build, message) => {
    const error = thrown(() => group(build));
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe(`Test/Sessions: ${message}`);
  });

  test('two fleets of the same name must not share a bucket of the app\'s', () => {
    const { stack, vpc } = testStack();
    const shared = bucket(stack);
    const { Construct } = jest.requireActual('constructs');
    new ReplicationGroup(new Construct(stack, 'A'), 'Sessions', { vpc, engine: valkey, backupBucket: shared, nodeAddressOffset: 16 });
    const error = thrown(() => new ReplicationGroup(new Construct(stack, 'B'), 'Sessions', { vpc, engine: valkey, backupBucket: shared, nodeAddressOffset: 40 }));
    expect(error.message).toBe("Test/B/Sessions: `backupBucket` must not hold another fleet's backups under the same prefix (Test/A/Sessions writes under 'sessions/' too, the fleet's name): give one of the fleets another id or another bucket, got: \"Test/AppBucket\"");
  });
});
