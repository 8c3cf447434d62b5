import * as crypto from 'crypto';
import { Aws, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct, IConstruct } from 'constructs';
import { INSTALLED_BUNDLE } from './boot-scripts';
import { BACKUP_LIMITS, parseSnapshotWindow } from '../../core/backup';
import { ValidationError } from '../../core/errors';
import { CacheFleetOptions } from '../../core/fleet-options';
import { FleetPlan } from '../../core/topology';
import { FleetProps } from '../fleet';
import { NodeSlot } from '../node-slot';

/** The defaults of the backup props. */
export const BACKUP_DEFAULTS = {
  /** Days AWS Backup keeps a volume snapshot when `snapshotRetentionLimit` is 0. */
  volumeRetentionDays: 7,
  /** An older version of a backup object (an overwritten manifest) is useless: gone a day later. */
  noncurrentVersionDays: 1,
  /** An upload the node did not finish (a node replaced mid-backup) is gone a day later. */
  incompleteUploadDays: 1,
  /**
   * How long an on-demand backup's command may run: a fork and a full RDB of the dataset, then its
   * upload; the node's agent goes on if SSM gives up waiting (the command runs in a systemd unit).
   */
  documentTimeoutSeconds: 6 * 3600,
  /**
   * How long AWS Backup lets a volume snapshot run: the first snapshot of a volume copies every
   * block, later ones only the changed blocks (AWS Backup's own default).
   */
  volumeCompletionWindow: Duration.days(7),
} as const;

/** An on-demand backup's name: the backup set's folder under the fleet's prefix. */
export const BACKUP_NAME_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';

/** The instance tag the node agent reads the backup set it restores from (read at a node's first start only). */
export const BACKUP_TAGS = {
  restoreFrom: 'restore-from',
} as const;

/**
 * The SSM parameter that holds a fleet's backup location, `s3://<bucket>/<prefix>`. Not an instance
 * tag: a group's tags reach only the instances it launches later, and a deploy that turns backups on
 * for a running fleet replaces no instance. The agent reads it at each backup; without it, the fleet
 * has no backup location.
 */
export function backupLocationParameterName(fleetId: string): string {
  return `/cachefleet/${fleetId}/backup-location`;
}

/** The fleets writing under each prefix of a bucket given as `backupBucket`, per bucket. */
const USED_PREFIXES = new WeakMap<IConstruct, Map<string, string>>();

/** What a fleet's backups are built from. */
export interface FleetBackupsProps {
  readonly fleetId: string;
  readonly plan: FleetPlan;
  readonly props: FleetProps & CacheFleetOptions;
  readonly slots: NodeSlot[];
}

/**
 * A fleet's backups on AWS: the bucket the nodes back up to (and the document that starts an
 * on-demand backup), the backup set they restore from, and AWS Backup's daily snapshots of the
 * volumes. The node agent takes and restores the backups; this gives it the places and the rights.
 */
export class FleetBackups {
  /** The bucket the nodes back up to, when the fleet has a backup location. */
  public readonly bucket?: s3.IBucket;
  /** The backups' prefix in the bucket: the fleet's name. */
  public readonly prefix: string;
  /** The SSM Command document that runs an on-demand backup on every node. */
  public readonly document?: ssm.CfnDocument;
  /** AWS Backup's plan of the volumes. */
  public readonly volumeBackupPlan?: backup.BackupPlan;
  /** The parameter the nodes read their backup location from (backupLocationParameterName). */
  public readonly locationParameter?: ssm.StringParameter;
  private readonly restoreFrom?: FleetProps['restoreFrom'];

  constructor(scope: Construct, private readonly options: FleetBackupsProps) {
    const { props, plan, fleetId } = options;
    this.prefix = plan.name;
    this.restoreFrom = props.restoreFrom;
    const retentionDays = plan.backup?.retentionDays ?? 0;
    // Backups outlive the fleet unless the user asked for everything to go.
    const removalPolicy = props.removalPolicy === RemovalPolicy.DESTROY ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    if (props.backupBucket) {
      claimPrefix(scope, props.backupBucket, this.prefix);
      this.bucket = props.backupBucket;
    } else if (retentionDays > 0) {
      this.bucket = new s3.Bucket(scope, 'BackupBucket', {
        encryption: props.backupEncryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
        encryptionKey: props.backupEncryptionKey,
        bucketKeyEnabled: props.backupEncryptionKey ? true : undefined,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        versioned: true,
        serverAccessLogsBucket: props.backupAccessLogsBucket,
        serverAccessLogsPrefix: props.backupAccessLogsBucket ? `${fleetId}/` : undefined,
        lifecycleRules: [{
          id: 'expire-backups',
          expiration: Duration.days(retentionDays),
          noncurrentVersionExpiration: Duration.days(BACKUP_DEFAULTS.noncurrentVersionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(BACKUP_DEFAULTS.incompleteUploadDays),
        }, {
          // S3 takes this in a rule of its own: the markers the expiry leaves, once no version is left.
          id: 'remove-expired-delete-markers',
          expiredObjectDeleteMarker: true,
        }],
        removalPolicy,
      });
    }

    if (this.bucket) {
      this.document = this.backupDocument(scope);
      this.locationParameter = new ssm.StringParameter(scope, 'BackupLocation', {
        parameterName: backupLocationParameterName(fleetId),
        stringValue: `s3://${this.bucket.bucketName}/${this.prefix}`,
        description: `cachefleet ${fleetId}: where the nodes write their backups`,
      });
    }
    if (props.volumeBackups !== false && plan.engine.supportsReplication) {
      this.volumeBackupPlan = this.volumePlan(scope, retentionDays, removalPolicy);
    }
  }

  /** `s3://<bucket>/<prefix>`: where the nodes write their backups. */
  public get location(): string | undefined {
    return this.bucket ? `s3://${this.bucket.bucketName}/${this.prefix}` : undefined;
  }

  /** The instance tags that give the node agent the set it restores from. */
  public tags(): Record<string, string> {
    return this.restoreFrom ? { [BACKUP_TAGS.restoreFrom]: this.restoreFrom.s3Url } : {};
  }

  /**
   * What the nodes may do with backups: write and read under their own prefix and list it, read and
   * list the backup set they restore from, and use the buckets' customer managed keys (named
   * actions, no wildcard). A managed policy of its own, attached to the nodes' role: a fixed number
   * of statements, whatever the number of nodes, outside the role's inline policies, whose size
   * bounds the fleet's (src/aws/private/capacity.ts). Undefined when the nodes have no bucket to use.
   */
  public grantNodes(scope: Construct, role: iam.IRole): iam.ManagedPolicy | undefined {
    const stack = Stack.of(scope);
    const statements: iam.PolicyStatement[] = [];
    if (this.bucket) {
      statements.push(
        new iam.PolicyStatement({
          // No delete: expiry is the bucket's lifecycle. The lock is a conditional PutObject.
          sid: 'WriteOwnBackups',
          actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
          resources: [objectsArn(stack, this.bucket, this.prefix)],
        }),
        listStatement('ListOwnBackups', stack, this.bucket, this.prefix),
        new iam.PolicyStatement({
          sid: 'ReadBackupLocation',
          actions: ['ssm:GetParameter'],
          resources: [this.locationParameter!.parameterArn],
        }),
      );
      const key = this.bucket.encryptionKey;
      if (key) statements.push(new iam.PolicyStatement({ sid: 'UseBackupKey', actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'], resources: [key.keyArn] }));
    }
    if (this.restoreFrom) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'ReadRestoreSource',
          actions: ['s3:GetObject'],
          resources: [objectsArn(stack, this.restoreFrom.bucket, this.restoreFrom.prefix)],
        }),
        listStatement('ListRestoreSource', stack, this.restoreFrom.bucket, this.restoreFrom.prefix),
      );
      const key = this.restoreFrom.bucket.encryptionKey;
      if (key) statements.push(new iam.PolicyStatement({ sid: 'DecryptRestoreSource', actions: ['kms:Decrypt'], resources: [key.keyArn] }));
    }
    if (statements.length === 0) return undefined;
    return new iam.ManagedPolicy(scope, 'BackupPolicy', {
      description: `cachefleet ${this.options.fleetId}: the nodes' backups and restore source`,
      statements,
      roles: [role],
    });
  }

  /**
   * The document that runs `cachefleet-node backup <BackupName>` on every node it is sent to, as the
   * node's systemd units run the agent (its environment file, its journal): each shard's backup is
   * taken once, by the node that takes the backup set's lock.
   */
  private backupDocument(scope: Construct): ssm.CfnDocument {
    const { fleetId } = this.options;
    return new ssm.CfnDocument(scope, 'BackupDocument', {
      documentType: 'Command',
      content: {
        schemaVersion: '2.2',
        description: `cachefleet ${fleetId}: an on-demand backup of every shard to ${this.location}/<BackupName>/. `
          + `Send it to the instances tagged cachefleet:fleet=${fleetId}.`,
        parameters: {
          BackupName: {
            type: 'String',
            description: 'The backup\'s id, its folder under the fleet\'s prefix: 1 to 63 lower-case letters, digits and dashes.',
            allowedPattern: BACKUP_NAME_PATTERN,
          },
        },
        mainSteps: [{
          action: 'aws:runShellScript',
          name: 'backup',
          inputs: {
            timeoutSeconds: String(BACKUP_DEFAULTS.documentTimeoutSeconds),
            // The pattern above keeps the parameter a single safe word.
            runCommand: [
              `systemd-run --wait --pipe --collect --quiet --property=EnvironmentFile=${INSTALLED_BUNDLE}/agent.env `
              + `${INSTALLED_BUNDLE}/cachefleet-node backup {{ BackupName }}`,
            ],
          },
        }],
      },
    });
  }

  /** AWS Backup's daily snapshots of every volume of the fleet, from the start of the snapshot window. */
  private volumePlan(scope: Construct, retentionDays: number, removalPolicy: RemovalPolicy): backup.BackupPlan {
    const { plan, fleetId, slots, props } = this.options;
    const window = plan.backup
      ? { startMinute: plan.backup.windowStartMinute, minutes: plan.backup.windowMinutes }
      : parseSnapshotWindow('snapshotWindow', BACKUP_LIMITS.defaultWindow);
    const stack = Stack.of(scope);
    const vault = new backup.BackupVault(scope, 'VolumeBackupVault', {
      // The key is set at creation: another key is another vault, under another name (CloudFormation
      // creates the new vault before it lets go of the old one).
      backupVaultName: accountUniqueName(fleetId, shortHash(JSON.stringify(stack.resolve(props.backupEncryptionKey?.keyArn ?? 'aws/backup')))),
      encryptionKey: props.backupEncryptionKey,
      removalPolicy,
    });
    const volumePlan = new backup.BackupPlan(scope, 'VolumeBackupPlan', {
      backupPlanName: accountUniqueName(fleetId, 'volumes'),
      backupVault: vault,
      backupPlanRules: [new backup.BackupPlanRule({
        ruleName: 'daily',
        scheduleExpression: events.Schedule.cron({ minute: String(window.startMinute % 60), hour: String(Math.floor(window.startMinute / 60)) }),
        // Core's window is at least BACKUP_LIMITS.minWindowMinutes long.
        startWindow: Duration.minutes(window.minutes),
        completionWindow: BACKUP_DEFAULTS.volumeCompletionWindow,
        deleteAfter: Duration.days(retentionDays > 0 ? retentionDays : BACKUP_DEFAULTS.volumeRetentionDays),
      })],
    });
    // Every volume by ARN, the sentinel-only slots' too: none of the fleet's volumes is left out
    // of a plan. Tags could be changed; ARNs cannot.
    const volumes = slots.flatMap((slot) => (slot.dataVolume ? [slot.dataVolume] : []));
    volumePlan.addSelection('Volumes', {
      // Another set of volumes is another selection (CloudFormation replaces it): under another name.
      backupSelectionName: `volumes-${shortHash(volumes.map((volume) => volume.node.path).join(','))}`,
      resources: volumes.map((volume) => backup.BackupResource.fromArn(
        stack.formatArn({ service: 'ec2', resource: 'volume', resourceName: volume.volumeId }))),
      allowRestores: false,
    });
    return volumePlan;
  }
}

/**
 * A name unique in the account and region, at most 50 characters (AWS Backup's limit): the fleet's
 * id, a word of at most 8 characters and the last part of the stack's id. A retained vault keeps its
 * name after its stack is gone; a new stack of the same name has a new id, so the name is free.
 */
function accountUniqueName(fleetId: string, word: string): string {
  const stackIdSuffix = Fn.select(4, Fn.split('-', Fn.select(2, Fn.split('/', Aws.STACK_ID))));
  return `${fleetId.slice(0, 28)}-${word.slice(0, 8)}-${stackIdSuffix}`;
}

function shortHash(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex').slice(0, 8);
}

function objectsArn(stack: Stack, bucket: s3.IBucket, prefix: string): string {
  return stack.formatArn({ service: 's3', region: '', account: '', resource: bucket.bucketName, resourceName: `${prefix}/*` });
}

/** ListBucket on the bucket, limited to listings under the prefix. */
function listStatement(sid: string, stack: Stack, bucket: s3.IBucket, prefix: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: ['s3:ListBucket'],
    resources: [stack.formatArn({ service: 's3', region: '', account: '', resource: bucket.bucketName })],
    conditions: { StringLike: { 's3:prefix': [`${prefix}/*`, `${prefix}/`] } },
  });
}

/** Two fleets of the same name would write their backups under one prefix of a shared bucket. */
function claimPrefix(scope: IConstruct, bucket: s3.IBucket, prefix: string): void {
  let used = USED_PREFIXES.get(bucket);
  if (!used) {
    used = new Map();
    USED_PREFIXES.set(bucket, used);
  }
  const owner = used.get(prefix);
  if (owner !== undefined && owner !== scope.node.path) {
    throw new ValidationError('backupBucket', bucket.node.path,
      `must not hold another fleet's backups under the same prefix (${owner} writes under '${prefix}/' too, the fleet's name): give one of the fleets another id or another bucket`);
  }
  used.set(prefix, scope.node.path);
}
