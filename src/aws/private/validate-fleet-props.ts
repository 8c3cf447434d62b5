import { RemovalPolicy, Size, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { CacheEngine } from '../../core/engine';
import { ValidationError } from '../../core/errors';
import { CacheFleetOptions } from '../../core/fleet-options';
import { AUTH_TOKEN_RULE, requireAuthTokenRule } from '../../core/validation';
import { BackupSource } from '../backup-source';
import { FleetProps } from '../fleet';

/** gp3's size range, GiB. */
const GP3_GIB = { min: 1, max: 16_384 } as const;

/**
 * Checks the AWS flavor's own props before any resource exists, so that a wrong value is a
 * ValidationError naming the prop, never a TypeError deep in aws-cdk-lib or a half-built fleet.
 * (The engine-neutral props are core's; `nodeType` and `nodeAddressOffset` are checked where used.)
 */
export function validateFleetProps(props: FleetProps): void {
  validateVpc(props);
  validateVpcSubnets(props);
  validateDataVolumeSize(props.dataVolumeSize);
  validateRemovalPolicy(props.removalPolicy);
  requireObjectWith('machineImage', props.machineImage, { getImage: 'function' }, 'must be an ec2.IMachineImage (ec2.MachineImage.latestAmazonLinux2023(), …)');
  requireObjectWith('authToken', props.authToken, { grantRead: 'function', secretArn: 'string' }, 'must be a secretsmanager.ISecret whose value is the AUTH token');
  validateAuthTokenSecret(props.authToken);
  requireObjectWith('hostedZone', props.hostedZone, { hostedZoneId: 'string', zoneName: 'string' }, 'must be a route53.IPrivateHostedZone associated with the VPC');
}

/** The backup props: their types, the engines that have backups, and the combinations that make sense. */
export function validateBackupProps(props: FleetProps & CacheFleetOptions, engine: CacheEngine): void {
  const backupProps = {
    backupBucket: props.backupBucket,
    backupEncryptionKey: props.backupEncryptionKey,
    backupAccessLogsBucket: props.backupAccessLogsBucket,
    restoreFrom: props.restoreFrom,
    volumeBackups: props.volumeBackups,
  };
  if (!engine.supportsReplication) {
    for (const [prop, value] of Object.entries(backupProps)) {
      if (value !== undefined) {
        throw new ValidationError(prop, pathOf(value), prop === 'volumeBackups'
          ? 'must be unset for Memcached, which has no volumes to back up'
          : 'must be unset for Memcached, which keeps no data to back up');
      }
    }
    return;
  }
  requireObjectWith('backupBucket', props.backupBucket, { bucketName: 'string', grantRead: 'function' }, 'must be an s3.IBucket');
  requireObjectWith('backupEncryptionKey', props.backupEncryptionKey, { keyArn: 'string', grant: 'function' }, 'must be a kms.IKey');
  requireObjectWith('backupAccessLogsBucket', props.backupAccessLogsBucket, { bucketName: 'string', grantRead: 'function' }, 'must be an s3.IBucket');
  if (props.restoreFrom !== undefined && !(props.restoreFrom instanceof BackupSource)) {
    throw new ValidationError('restoreFrom', props.restoreFrom, "must be a BackupSource (BackupSource.fromS3(bucket, 'orders/scheduled-20261201'))");
  }
  if (props.volumeBackups !== undefined && typeof props.volumeBackups !== 'boolean') {
    throw new ValidationError('volumeBackups', props.volumeBackups, 'must be true or false');
  }
  if (props.backupBucket && props.backupEncryptionKey) {
    throw new ValidationError('backupEncryptionKey', pathOf(props.backupEncryptionKey),
      'must be unset when backupBucket is given: the bucket\'s own encryption applies (the nodes are granted the use of its key, if it has one)');
  }
  if (props.backupAccessLogsBucket && props.backupBucket) {
    throw new ValidationError('backupAccessLogsBucket', pathOf(props.backupAccessLogsBucket),
      'must be unset when backupBucket is given: the server access logs of a bucket of your own are its own setting');
  }
  if (props.backupAccessLogsBucket && !((props.snapshotRetentionLimit ?? 0) > 0)) {
    throw new ValidationError('backupAccessLogsBucket', pathOf(props.backupAccessLogsBucket),
      'must be unset when the fleet creates no backup bucket: set snapshotRetentionLimit above 0 for one');
  }
}

/** What Secrets Manager generates a password from when `passwordLength` is unset. */
const SECRETS_MANAGER_DEFAULT_LENGTH = 32;

/**
 * The AUTH token's rule, where the app decides the secret's value: a secret of the app whose value is
 * written in it, or that Secrets Manager generates (every generated value must follow the rule, not
 * only the first). A secret created elsewhere is checked by the node agent when it reads it.
 */
function validateAuthTokenSecret(secret: secretsmanager.ISecret | undefined): void {
  const resource = secret?.node.defaultChild;
  if (!(resource instanceof secretsmanager.CfnSecret)) return;
  const stack = Stack.of(resource);
  const value: unknown = stack.resolve(resource.secretString);
  if (typeof value === 'string') requireAuthTokenRule('authToken', value);
  const generator: secretsmanager.CfnSecret.GenerateSecretStringProperty | undefined = stack.resolve(resource.generateSecretString);
  if (generator === undefined || typeof generator !== 'object') return;
  const generates = `a secret that generates ${describeGenerator(generator)}`;
  if (generator.generateStringKey !== undefined || generator.secretStringTemplate !== undefined) {
    throw new ValidationError('authToken', generates, 'must hold the AUTH token as a plain string, not a JSON document: unset generateStringKey and secretStringTemplate');
  }
  const length = generator.passwordLength ?? SECRETS_MANAGER_DEFAULT_LENGTH;
  if (Token.isUnresolved(length) || length < AUTH_TOKEN_RULE.minLength || length > AUTH_TOKEN_RULE.maxLength) {
    throw new ValidationError('authToken', generates, `must generate ${AUTH_TOKEN_RULE.allowed}: a passwordLength between ${AUTH_TOKEN_RULE.minLength} and ${AUTH_TOKEN_RULE.maxLength}`);
  }
  const excluded = generator.excludeCharacters ?? '';
  const mayHold = [...AUTH_TOKEN_RULE.refusedCharacters].filter((c) => !excluded.includes(c)
    && (c === ' ' ? generator.includeSpace === true : generator.excludePunctuation !== true));
  if (mayHold.length > 0) {
    throw new ValidationError('authToken', generates,
      `must generate ${AUTH_TOKEN_RULE.allowed}: add ${mayHold.map((c) => JSON.stringify(c)).join(', ')} to excludeCharacters`);
  }
}

function describeGenerator(generator: secretsmanager.CfnSecret.GenerateSecretStringProperty): string {
  const options = Object.entries(generator).filter(([, option]) => option !== undefined).sort(([a], [b]) => a.localeCompare(b)).map(([name, option]) => `${name}: ${JSON.stringify(option)}`);
  return options.length === 0 ? 'with the defaults' : `with ${options.join(', ')}`;
}

function validateVpc(props: FleetProps): void {
  if (props.vpc === undefined || props.vpc === null) {
    throw new ValidationError('vpc', props.vpc, 'is required: the VPC the nodes run in (an ec2.IVpc)');
  }
  requireObjectWith('vpc', props.vpc, { selectSubnets: 'function', vpcId: 'string' }, 'must be an ec2.IVpc (new ec2.Vpc(...), ec2.Vpc.fromVpcAttributes(...))');
}

function validateVpcSubnets(props: FleetProps): void {
  const selection = props.vpcSubnets;
  if (selection === undefined) return;
  if (typeof selection !== 'object' || selection === null || Array.isArray(selection)) {
    throw new ValidationError('vpcSubnets', selection, 'must be an ec2.SubnetSelection ({ subnetType: ... }, { subnetGroupName: ... } or { subnets: [...] })');
  }
  const types = Object.values(ec2.SubnetType) as string[];
  if (selection.subnetType !== undefined && !types.includes(selection.subnetType)) {
    throw new ValidationError('vpcSubnets.subnetType', selection.subnetType, `must be an ec2.SubnetType (${Object.keys(ec2.SubnetType).map((name) => `SubnetType.${name}`).join(', ')})`);
  }
  try {
    props.vpc.selectSubnets(selection);
  } catch (error) {
    throw new ValidationError('vpcSubnets', selection, `must select subnets of the VPC (${(error as Error).message})`);
  }
}

function validateDataVolumeSize(size: Size | undefined): void {
  if (size === undefined) return;
  const allowed = `must be a Size of whole gibibytes between ${GP3_GIB.min} and ${GP3_GIB.max} (gp3), such as Size.gibibytes(50)`;
  if (!(size instanceof Size)) throw new ValidationError('dataVolumeSize', size, allowed);
  let gib: number;
  try {
    gib = size.toGibibytes();
  } catch {
    throw new ValidationError('dataVolumeSize', `${size.toMebibytes()} MiB`, allowed);
  }
  // The volumes' size is checked by aws-cdk-lib at construction: it must be known at synth time.
  if (Token.isUnresolved(gib)) throw new ValidationError('dataVolumeSize', 'a token', `${allowed}, known at synth time`);
  if (!Number.isInteger(gib) || gib < GP3_GIB.min || gib > GP3_GIB.max) {
    throw new ValidationError('dataVolumeSize', `${gib} GiB`, allowed);
  }
}

function validateRemovalPolicy(policy: RemovalPolicy | undefined): void {
  if (policy === undefined) return;
  if (!(Object.values(RemovalPolicy) as string[]).includes(policy)) {
    throw new ValidationError('removalPolicy', policy, `must be a RemovalPolicy (${Object.keys(RemovalPolicy).map((name) => `RemovalPolicy.${name}`).join(', ')})`);
  }
}

/** A construct by its path (a class name says little: aws-cdk-lib's are renamed), any other value as it is. */
function pathOf(value: unknown): unknown {
  const node = (value as { node?: { path?: unknown } } | null)?.node;
  return typeof node?.path === 'string' ? node.path : value;
}

/** An optional prop that must be an object with the given members of the given types (jsii gives no type check). */
function requireObjectWith(prop: string, value: unknown, members: Record<string, 'function' | 'string'>, allowed: string): void {
  if (value === undefined) return;
  const shaped = typeof value === 'object' && value !== null
    && Object.entries(members).every(([member, type]) => typeof (value as Record<string, unknown>)[member] === type);
  if (!shaped) throw new ValidationError(prop, value, allowed);
}
