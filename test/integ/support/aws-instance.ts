import { spawnSync } from 'child_process';
import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ACCOUNT, AwsEmulator, REGION } from './aws-emulator';
import { runCommand, sleep, waitFor } from './processes';
import { INSTALLED_BUNDLE } from '../../../src/aws/private/boot-scripts';
import { MemcachedEngineVersion, RedisEngineVersion, ValkeyEngineVersion } from '../../../src/core/engine';

/**
 * The AWS flavor booted here from its synthesized template: a strict resolver for the template's
 * intrinsics, and `BootedFleet`, which runs the boot path unchanged (aws platform) under a temporary
 * root per instance, with the stand-ins of `aws-standins/` first on PATH and an instance-metadata
 * stand-in on 127.0.0.1 that requires IMDSv2 tokens. The AWS API is moto behind the strict layer of
 * `aws-emulator.ts`, called through the real AWS CLI; what the template names (the subnet, volumes,
 * interfaces, zone and records, secrets, the bundle parameter and object, the groups and their hooks)
 * is created there from the synthesized template, and each launch is an instance there.
 */

export const STACK = 'BootTest';
export const APP_TOKEN = 'Boot!Token#%&*-1234_abcd';
export const INTERNAL_PASSWORD = 'internalPassword0123456789abcdefABCDEF99';
export const ADMIN_PASSWORD = 'adminPassword0123456789abcdefABCDEF9999';

/** The stand-ins, one executable file per program (copied into each fleet's `$STANDIN/bin`). */
export const STANDINS_DIR = path.join(__dirname, 'aws-standins');

/**
 * The images each fleet's registry holds from the start: those of the engine versions the library
 * lists, which their projects publish. The docker stand-in serves nothing else, as a registry
 * answers `manifest unknown` for a tag it does not hold: a version made up with `.of(...)` names
 * an image no one published, and its boot fails at the pull.
 */
export const PUBLISHED_IMAGES = [
  RedisEngineVersion.VER_6_2, RedisEngineVersion.VER_7_0, RedisEngineVersion.VER_7_2,
  ValkeyEngineVersion.VER_7_2, ValkeyEngineVersion.VER_8_0, ValkeyEngineVersion.VER_8_1,
  MemcachedEngineVersion.VER_1_6,
].map((version) => version.installation.containerImage);

/** The instance profile's role and the temporary credentials the metadata stand-in serves for it. */
const INSTANCE_ROLE = 'cachefleet-node';
const INSTANCE_CREDENTIALS = {
  accessKeyId: 'ASIACACHEFLEETNODE01',
  secretAccessKey: 'c2VjcmV0L29mK3RoZS9pbnN0YW5jZStwcm9maWxl',
  sessionToken: 'IQoJb3JpZ2luX2VjEPr//////////wEaCWV1LXdlc3QtMSJHMEUCIQ+instance/profile==',
};

// ------------------------------------------------------------------------------------------------
// The strict resolver
// ------------------------------------------------------------------------------------------------

export class StrictResolver {
  constructor(
    private readonly resources: Record<string, any>,
    private readonly physical: (logicalId: string, type: string) => string,
    private readonly stackName: string = STACK,
  ) {}

  public resolve(value: any): any {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    const keys = Object.keys(value);
    if (keys.length !== 1) return Object.fromEntries(keys.map((key) => [key, this.resolve(value[key])]));
    const [key] = keys;
    const arg = value[key];
    switch (key) {
      case 'Ref': return this.ref(arg);
      case 'Fn::Join': return (this.resolve(arg[1]) as string[]).join(arg[0]);
      case 'Fn::Base64': return this.resolve(arg);
      case 'Fn::Sub': {
        if (typeof arg !== 'string') throw new Error(`Fn::Sub with variables is not resolved here: ${JSON.stringify(arg)}`);
        return arg.replace(/\$\{([^}]+)\}/g, (_m, name) => this.ref(name));
      }
      default:
        if (key.startsWith('Fn::') || key === 'Condition') throw new Error(`the strict resolver does not know ${key}: ${JSON.stringify(value)}`);
        return { [key]: this.resolve(arg) };
    }
  }

  private ref(name: string): string {
    const pseudo: Record<string, string> = { 'AWS::StackName': this.stackName, 'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT, 'AWS::Partition': 'aws' };
    if (pseudo[name]) return pseudo[name];
    const resource = this.resources[name];
    if (!resource) throw new Error(`the strict resolver has no resource ${name}`);
    return this.physical(name, resource.Type);
  }
}

// ------------------------------------------------------------------------------------------------
// One synthesized fleet, booted slot by slot
// ------------------------------------------------------------------------------------------------

/** How a fleet's account is laid out. */
export interface BootedFleetOptions {
  /**
   * The one subnet's CIDR block, within the VPC's 127.0.0.0/16: where the fixed addresses of the
   * fleet's interfaces are (a cluster-mode group's block, 6 addresses per shard, does not fit the
   * room other tests leave in 127.0.0.0/24).
   * @default '127.0.0.0/24'
   */
  readonly subnetCidr?: string;
  /**
   * The stack's name (another fleet in the same account is another stack).
   * @default STACK
   */
  readonly stackName?: string;
  /**
   * Deploys into the account of another fleet, started before: its emulator, VPC and subnet (and
   * that fleet's `subnetCidr`). That fleet's `dispose()` stops the emulator, after this one's.
   * @default - an account of its own
   */
  readonly sameAccountAs?: BootedFleet;
}

/**
 * What the applier does with each resource type a template may hold: what it creates in the
 * emulator, and, for what it does not create, why no node can tell. A type not listed here fails
 * the deploy: a new resource is either modelled or its absence argued, never ignored.
 */
const RESOURCE_TYPES: Record<string, string> = {
  'AWS::SecretsManager::Secret': 'created (the test\'s passwords)',
  'AWS::Route53::HostedZone': 'created (private, in the VPC)',
  'AWS::Route53::RecordSet': 'created',
  'AWS::EC2::Volume': 'created',
  'AWS::EC2::NetworkInterface': 'created, through the strict layer (an address in use is refused)',
  'AWS::SSM::Parameter': 'created (the bundle\'s and the image\'s parameters), with the bundle object',
  'AWS::AutoScaling::AutoScalingGroup': 'created with its lifecycle hooks; CloudFormation waits for its signals',
  'AWS::EC2::LaunchTemplate': 'created (one per stack); its user data is what each launch runs',
  'AWS::SSM::Association': 'run by the test on each node (`runAssociation`), as Run Command would',
  'AWS::S3::Bucket': 'created in moto\'s S3 under the name CloudFormation would generate, with its versioning and encryption',
  'AWS::SSM::Document': 'created in moto\'s SSM; the test runs its command on a node (`runDocument`), as Run Command would',
  // Not applied: what a node never calls and whose absence no node can observe here.
  'AWS::EC2::SecurityGroup': 'not applied: every address is on the loopback network, which no security group filters',
  'AWS::EC2::SecurityGroupIngress': 'not applied: as the security group',
  'AWS::IAM::Role': 'not applied: neither moto nor the strict layer evaluates IAM (the rights are checked on the template, test/aws)',
  'AWS::IAM::Policy': 'not applied: as the role',
  'AWS::IAM::ManagedPolicy': 'not applied: as the role',
  'AWS::IAM::InstanceProfile': 'not applied: the instance-metadata stand-in serves the profile\'s credentials',
  'AWS::KMS::Key': 'not applied: the buckets here use S3-managed keys',
  'AWS::S3::BucketPolicy': 'not applied: it refuses requests without TLS, and the emulator speaks plain HTTP on 127.0.0.1 (the CLI speaks HTTPS to S3 on AWS); it grants nothing',
  'AWS::Backup::BackupVault': 'not applied: AWS Backup snapshots the volumes from outside the instances; no node calls it or reads what it makes',
  'AWS::Backup::BackupPlan': 'not applied: as the vault',
  'AWS::Backup::BackupSelection': 'not applied: as the vault',
};

/** Refuses a template with a resource type the applier neither creates nor argues away. */
function checkResourceTypes(resources: Record<string, any>): void {
  const unknown = Object.entries(resources).filter(([, r]) => RESOURCE_TYPES[r.Type] === undefined).map(([id, r]) => `${id} (${r.Type})`);
  if (unknown.length > 0) throw new Error(`the applier does not know what to do with: ${unknown.join(', ')} (see RESOURCE_TYPES in support/aws-instance.ts)`);
}

export interface Slot {
  readonly name: string;
  readonly groupId: string;
  readonly tags: Record<string, string>;
  generation: number;
  root: string;
  /** The slot's current instance in the emulator (the instance-metadata stand-in serves it). */
  instanceId?: string;
  /** What the instance metadata says of the group's plan for it: `InService` until a termination. */
  lifecycleState?: string;
}

export class BootedFleet {
  public readonly standin: string;
  public readonly slots: Slot[] = [];
  public userData = '';
  /** The AWS API of this fleet's account: moto behind the strict layer. */
  public aws!: AwsEmulator;
  private server?: http.Server;
  private port = 0;
  private readonly dir: string;
  /** Physical ids of the template's resources, as the emulator gave them. */
  private readonly physical = new Map<string, string>();
  /** The value CloudFormation last wrote into each parameter (by logical id). */
  private readonly parameterValues = new Map<string, string>();
  /** The template's literal VPC and subnet (an imported VPC) and their ids in the emulator. */
  private readonly literals = new Map<string, string>();
  private readonly resources: Record<string, any>;
  /** The logical ids CloudFormation knows in the stack (signals to others are refused). */
  private registered?: Set<string>;
  private readonly outdir: string;
  private readonly subnetCidr: string;
  /** The stack's name in the account. */
  public readonly stackName: string;
  private readonly sharedAccount?: BootedFleet;

  constructor(public readonly label: string, build: (stack: Stack, vpc: ec2.IVpc) => void, options: BootedFleetOptions = {}) {
    this.sharedAccount = options.sameAccountAs;
    if (this.sharedAccount && options.subnetCidr !== undefined && options.subnetCidr !== this.sharedAccount.subnetCidr) {
      throw new Error(`a fleet in another fleet's account uses its subnet (${this.sharedAccount.subnetCidr}), not ${options.subnetCidr}`);
    }
    this.subnetCidr = this.sharedAccount?.subnetCidr ?? options.subnetCidr ?? '127.0.0.0/24';
    this.stackName = options.stackName ?? STACK;
    if (this.sharedAccount?.stackName === this.stackName) throw new Error(`two fleets in one account need two stack names, not ${this.stackName} twice`);
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `cachefleet-aws-${label}-`));
    this.standin = path.join(this.dir, 'standin');
    for (const sub of ['bin', 'volumes']) fs.mkdirSync(path.join(this.standin, sub), { recursive: true });
    for (const name of fs.readdirSync(STANDINS_DIR)) fs.copyFileSync(path.join(STANDINS_DIR, name), path.join(this.standin, 'bin', name));
    fs.writeFileSync(path.join(this.standin, 'calls.log'), '');
    for (const image of PUBLISHED_IMAGES) this.publishImage(image);
    this.outdir = path.join(this.dir, 'cdk.out');
    this.resources = synth(build, this.outdir, this.subnetCidr, this.stackName);
    checkResourceTypes(this.resources);
  }

  /**
   * The registry takes an image, as a push does: a reference by digest is that build; a tag points
   * to its first build (a digest of its own), which is pullable by digest too.
   */
  public publishImage(reference: string): void {
    const registry = path.join(this.standin, 'registry');
    // The docker stand-in's file names: the reference with `/`, `:` and `@` as `_`.
    const file = (dir: string, ref: string) => path.join(registry, dir, ref.replace(/[/:@]/g, '_'));
    fs.mkdirSync(path.join(registry, 'tags'), { recursive: true });
    fs.mkdirSync(path.join(registry, 'digests'), { recursive: true });
    if (reference.includes('@sha256:')) {
      fs.writeFileSync(file('digests', reference), '');
      return;
    }
    const digest = createHash('sha256').update(`${reference}#1`).digest('hex');
    fs.writeFileSync(file('tags', reference), `${digest}\n`);
    fs.writeFileSync(file('digests', `${reference.slice(0, reference.lastIndexOf(':'))}@sha256:${digest}`), '');
  }

  /**
   * Starts the account (the emulator), deploys the template's resources in it, and the
   * instance-metadata stand-in. The slots are known from here on.
   */
  public async start(): Promise<void> {
    const shared = this.sharedAccount;
    if (shared && !shared.aws) throw new Error(`${shared.label} is not started: its account is not there yet`);
    this.aws = shared ? shared.aws : await AwsEmulator.start(path.join(this.dir, 'aws'));
    // In a shared account each fleet acts on its own instances' devices.
    const others = this.aws.events;
    this.aws.events = {
      volumeAttached: (volume, instance, device) => {
        others.volumeAttached?.(volume, instance, device);
        const slot = this.slots.find((s) => s.instanceId === instance);
        if (!slot) return;
        // The NVMe device the volume appears as on a Nitro instance, named by the volume's id.
        const byId = path.join(slot.root, 'dev/disk/by-id');
        fs.mkdirSync(byId, { recursive: true });
        fs.writeFileSync(path.join(byId, `nvme-Amazon_Elastic_Block_Store_${volume.replace(/-/g, '')}`), `${volume}\n`);
      },
      volumeDetached: (volume, instance) => {
        others.volumeDetached?.(volume, instance);
        const slot = this.slots.find((s) => s.instanceId === instance);
        if (slot) fs.rmSync(path.join(slot.root, `dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volume.replace(/-/g, '')}`), { force: true });
      },
    };
    const awsCli = spawnSync('sh', ['-c', 'command -v aws'], { encoding: 'utf8' }).stdout.trim();
    if (!awsCli) throw new Error('the AWS CLI (aws) is not on PATH');
    // The CLI's own retries are off: the agent's retry is the one under test.
    const env = { ...this.aws.cliEnv(), AWS_MAX_ATTEMPTS: '1', AWS_CLI: awsCli, MOTO_URL: this.aws.motoUrl };
    fs.writeFileSync(path.join(this.standin, 'aws-env'), Object.entries(env).map(([key, value]) => `${key}='${value}'\n`).join(''));
    await this.deploy();
    this.aws.addCredentials(INSTANCE_CREDENTIALS.accessKeyId, INSTANCE_CREDENTIALS.secretAccessKey, INSTANCE_CREDENTIALS.sessionToken);
    await this.startMetadataServer();
  }

  /** The same as `start()` (the name the tests used when the metadata stand-in was all there was to start). */
  public startMetadata(): Promise<void> {
    return this.start();
  }

  /** What CloudFormation creates for the stack, in moto (the interfaces through the strict layer, which refuses an address in use). */
  private async deploy(): Promise<void> {
    const aws = this.aws;
    const shared = this.sharedAccount;
    const vpc = shared ? shared.literals.get('vpc-0test')! : (await aws.api('ec2', 'create_vpc', { CidrBlock: '127.0.0.0/16' })).Vpc.VpcId;
    const subnet = shared ? shared.literals.get('subnet-0test')! : (await aws.api('ec2', 'create_subnet', { VpcId: vpc, CidrBlock: this.subnetCidr, AvailabilityZone: `${REGION}a` })).Subnet.SubnetId;
    this.literals.set('vpc-0test', vpc).set('subnet-0test', subnet);
    const resolver = this.resolver(this.resources);
    const of = (type: string) => Object.entries(this.resources).filter(([, r]) => r.Type === type);
    for (const [id] of of('AWS::SecretsManager::Secret')) {
      const value = /AuthToken/.test(id) ? APP_TOKEN : /Admin/.test(id) ? ADMIN_PASSWORD : INTERNAL_PASSWORD;
      this.physical.set(id, (await aws.api('secretsmanager', 'create_secret', { Name: id, SecretString: value })).ARN);
    }
    for (const [id, r] of of('AWS::Route53::HostedZone')) {
      const zone = await aws.api('route53', 'create_hosted_zone', {
        Name: r.Properties.Name, CallerReference: id, HostedZoneConfig: { Comment: r.Properties.HostedZoneConfig?.Comment ?? '', PrivateZone: true }, VPC: { VPCRegion: REGION, VPCId: vpc },
      });
      this.physical.set(id, zone.HostedZone.Id.replace(/^\/hostedzone\//, ''));
    }
    await this.createBackupResources(this.resources, new Set(Object.keys(this.resources)));
    await this.createNodeResources(this.resources, new Set(Object.keys(this.resources)));
    await this.publishBundle(this.resources, this.outdir, resolver);
    const image = (await aws.api('ec2', 'describe_images', {})).Images[0].ImageId;
    await aws.api('ec2', 'create_launch_template', { LaunchTemplateName: `${this.stackName}-nodes`, LaunchTemplateData: { ImageId: image, InstanceType: 't3.micro' } });
    await this.createGroups(this.resources, new Set(Object.keys(this.resources)));
    const lt = Object.values(this.resources).find((r: any) => r.Type === 'AWS::EC2::LaunchTemplate');
    this.userData = resolver.resolve(lt.Properties.LaunchTemplateData.UserData) as string;
  }

  /**
   * The buckets and documents of `resources` whose logical ids are in `ids`, before the groups (the
   * nodes' tags name the bucket). A bucket without `BucketName` gets the name CloudFormation
   * generates (the stack's name, the logical id and a random suffix, lower-case, at most 63
   * characters), with the template's versioning, default encryption and public access block. Its
   * lifecycle rules are not applied: they act after days, and moto expires nothing. A document gets
   * a generated name and its content as the template resolves it.
   */
  private async createBackupResources(resources: Record<string, any>, ids: Set<string>): Promise<void> {
    const aws = this.aws;
    const resolver = this.resolver(resources);
    const of = (type: string) => Object.entries(resources).filter(([id, r]) => r.Type === type && ids.has(id));
    for (const [id, r] of of('AWS::S3::Bucket')) {
      const props = r.Properties ?? {};
      const name = props.BucketName !== undefined ? String(resolver.resolve(props.BucketName)) : generatedName(this.stackName, id, 63).toLowerCase();
      await aws.api('s3', 'create_bucket', { Bucket: name, CreateBucketConfiguration: { LocationConstraint: REGION } });
      if (props.VersioningConfiguration) {
        await aws.api('s3', 'put_bucket_versioning', { Bucket: name, VersioningConfiguration: { Status: resolver.resolve(props.VersioningConfiguration.Status) } });
      }
      if (props.BucketEncryption) {
        const rules = resolver.resolve(props.BucketEncryption.ServerSideEncryptionConfiguration) as any[];
        await aws.api('s3', 'put_bucket_encryption', {
          Bucket: name,
          ServerSideEncryptionConfiguration: {
            Rules: rules.map((rule) => ({
              ApplyServerSideEncryptionByDefault: rule.ServerSideEncryptionByDefault, BucketKeyEnabled: rule.BucketKeyEnabled,
            })),
          },
        });
      }
      if (props.PublicAccessBlockConfiguration) {
        await aws.api('s3', 'put_public_access_block', { Bucket: name, PublicAccessBlockConfiguration: resolver.resolve(props.PublicAccessBlockConfiguration) });
      }
      this.physical.set(id, name);
    }
    for (const [id, r] of of('AWS::SSM::Document')) {
      const props = resolver.resolve(r.Properties);
      const name = props.Name ?? generatedName(this.stackName, id, 128);
      await aws.api('ssm', 'create_document', {
        Name: name, Content: JSON.stringify(props.Content), DocumentType: props.DocumentType, DocumentFormat: 'JSON', ...(props.Tags ? { Tags: props.Tags } : {}),
      });
      this.physical.set(id, name);
    }
  }

  /** The volumes, interfaces and records of `resources` whose logical ids are in `ids` (a record already there is replaced: UPSERT). */
  private async createNodeResources(resources: Record<string, any>, ids: Set<string>): Promise<void> {
    const aws = this.aws;
    const resolver = this.resolver(resources);
    const of = (type: string) => Object.entries(resources).filter(([id, r]) => r.Type === type && ids.has(id));
    for (const [id, r] of of('AWS::EC2::Volume')) {
      const props = resolver.resolve(r.Properties);
      const volume = await aws.api('ec2', 'create_volume', { AvailabilityZone: props.AvailabilityZone, Size: Number(props.Size), VolumeType: props.VolumeType ?? 'gp3', Encrypted: props.Encrypted === true || props.Encrypted === 'true' });
      this.physical.set(id, volume.VolumeId);
    }
    for (const [id, r] of of('AWS::EC2::NetworkInterface')) {
      const subnetId = this.literals.get(r.Properties.SubnetId);
      if (!subnetId) throw new Error(`${id}: the applier knows no subnet ${JSON.stringify(r.Properties.SubnetId)}`);
      const eni = await aws.api('ec2', 'create_network_interface', { SubnetId: subnetId, PrivateIpAddress: r.Properties.PrivateIpAddress, Description: r.Properties.Description ?? '' }, { strict: true });
      this.physical.set(id, eni.NetworkInterface.NetworkInterfaceId);
    }
    for (const [id, r] of of('AWS::Route53::RecordSet')) {
      const props = resolver.resolve(r.Properties);
      await aws.api('route53', 'change_resource_record_sets', {
        HostedZoneId: props.HostedZoneId,
        ChangeBatch: { Changes: [{ Action: this.physical.has(id) ? 'UPSERT' : 'CREATE', ResourceRecordSet: { Name: props.Name, Type: props.Type, TTL: Number(props.TTL), ResourceRecords: props.ResourceRecords.map((v: string) => ({ Value: v })) } }] },
      });
      this.physical.set(id, props.Name);
    }
  }

  /**
   * The Auto Scaling groups of `resources` whose logical ids are in `ids`, with their hooks; CloudFormation
   * then waits for their signals. Their slots join `slots` in the order CloudFormation creates them
   * (each group waits for the one it depends on).
   */
  private async createGroups(resources: Record<string, any>, ids: Set<string>): Promise<Slot[]> {
    const aws = this.aws;
    const resolver = this.resolver(resources);
    const template = (await aws.api('ec2', 'describe_launch_templates', { LaunchTemplateNames: [`${this.stackName}-nodes`] })).LaunchTemplates[0];
    const groups = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::AutoScaling::AutoScalingGroup');
    const created = groups.filter(([id]) => ids.has(id));
    for (const [id, r] of created) {
      const name = `${this.stackName}-${id}`;
      await aws.api('autoscaling', 'create_auto_scaling_group', {
        AutoScalingGroupName: name,
        MinSize: 0,
        MaxSize: 1,
        DesiredCapacity: 0,
        VPCZoneIdentifier: this.literals.get('subnet-0test'),
        LaunchTemplate: { LaunchTemplateId: template.LaunchTemplateId },
      });
      for (const hook of r.Properties.LifecycleHookSpecificationList ?? []) {
        await aws.api('autoscaling', 'put_lifecycle_hook', {
          AutoScalingGroupName: name,
          LifecycleHookName: hook.LifecycleHookName,
          LifecycleTransition: hook.LifecycleTransition,
          HeartbeatTimeout: Number(hook.HeartbeatTimeout ?? 3600),
          DefaultResult: hook.DefaultResult ?? 'ABANDON',
        });
      }
      this.physical.set(id, name);
    }
    // CloudFormation waits for each new group's signals (its creation policy) until they come.
    aws.registerStack(this.stackName, new Set([...(this.registered ?? []), ...Object.keys(resources)]));
    this.registered = new Set([...(this.registered ?? []), ...Object.keys(resources)]);
    for (const [id, r] of created) {
      if (r.CreationPolicy?.ResourceSignal) aws.expectSignals(this.stackName, id, Number(r.CreationPolicy.ResourceSignal.Count ?? 1));
    }
    const ordered: Array<[string, any]> = [];
    while (ordered.length < groups.length) {
      const next = groups.find(([id, r]) => !ordered.some(([o]) => o === id)
        && (r.DependsOn ?? []).filter((d: string) => groups.some(([g]) => g === d)).every((d: string) => ordered.some(([o]) => o === d)));
      if (!next) throw new Error('the slots depend on each other in a cycle');
      ordered.push(next);
    }
    const slots: Slot[] = [];
    for (const [groupId, r] of ordered.filter(([id]) => ids.has(id))) {
      const tags = Object.fromEntries(r.Properties.Tags.map((tag: any) => [tag.Key, String(resolver.resolve(tag.Value))]));
      const slot = { name: tags['cachefleet:slot'], groupId, tags, generation: 0, root: '' };
      this.slots.push(slot);
      slots.push(slot);
    }
    return slots;
  }

  /**
   * A deploy of a changed template (`cdk deploy` of the app `build` makes), as CloudFormation runs an
   * update, up to its cleanup: the bundle parameter and object; the new slots' volumes, interfaces
   * and records, and the records whose addresses changed; the new groups, whose slots are returned in
   * the order CloudFormation creates them (the test boots them, as their groups would). The launch
   * template must be the same (this applier replaces no instance). Then the test runs the
   * association on every node (`runAssociation`) and `removeSlots` the slots the template lacks:
   * the cleanup, after everything else.
   */
  public async update(build: (stack: Stack, vpc: ec2.IVpc) => void, outdirName: string) {
    const outdir = path.join(this.dir, outdirName);
    const resources = synth(build, outdir, this.subnetCidr, this.stackName);
    checkResourceTypes(resources);
    const lt = Object.values(resources).find((r: any) => r.Type === 'AWS::EC2::LaunchTemplate');
    const userData = this.resolver(resources).resolve(lt.Properties.LaunchTemplateData.UserData) as string;
    if (userData !== this.userData) throw new Error('the update changes the launch template\'s user data: every instance would be replaced, which this applier does not model');
    const changedRecords = Object.entries(resources).filter(([id, r]) => r.Type === 'AWS::Route53::RecordSet' && this.resources[id]
      && JSON.stringify(r.Properties) !== JSON.stringify(this.resources[id].Properties)).map(([id]) => id);
    const added = new Set(Object.keys(resources).filter((id) => !this.resources[id]));
    await this.createBackupResources(resources, added);
    await this.createNodeResources(resources, new Set([...added, ...changedRecords]));
    const resolver = this.resolver(resources);
    await this.publishBundle(resources, outdir, resolver);
    const addedSlots = await this.createGroups(resources, added);
    const removedSlots = this.slots.filter((slot) => !resources[slot.groupId]);
    // What the removed groups were (their hooks), until the cleanup removes them.
    for (const slot of removedSlots) resources[slot.groupId] = this.resources[slot.groupId];
    Object.assign(this.resources, resources);
    for (const id of Object.keys(this.resources)) if (!resources[id]) delete this.resources[id];
    return { resources, resolver, addedSlots, removedSlots };
  }

  /**
   * The update's cleanup: CloudFormation deletes the groups the template no longer has, one at a time
   * in the reverse of their creation order; each group's termination hook holds its instance until
   * the node's lifecycle unit completes it (pre-stop), then the instance goes and the slot leaves.
   */
  public async removeSlots(slots: Slot[]): Promise<void> {
    for (const slot of [...slots].reverse()) {
      const instance = slot.instanceId!;
      this.beginTermination(slot);
      await waitFor(`${slot.name}'s termination hook completed`, () =>
        this.aws.lifecycleCompletions.some((completion) => completion.instanceId === instance), { timeoutMs: 120_000, intervalMs: 250 });
      await this.terminate(slot);
      await this.aws.api('autoscaling', 'delete_auto_scaling_group', { AutoScalingGroupName: this.physical.get(slot.groupId), ForceDelete: true });
      this.slots.splice(this.slots.indexOf(slot), 1);
      delete this.resources[slot.groupId];
    }
  }

  /** The strict resolver of a template of this stack, with the emulator's physical ids. */
  private resolver(resources: Record<string, any>): StrictResolver {
    return new StrictResolver(resources, (logicalId, type) => {
      const id = this.physical.get(logicalId);
      if (!id) throw new Error(`the strict resolver has no physical id for ${type} (${logicalId}): the applier did not create it`);
      return id;
    }, this.stackName);
  }

  /**
   * The deploy's parameters, as CloudFormation writes them: created, then overwritten only when the
   * template's value changed (a deploy that leaves it alone leaves what the nodes wrote there); and
   * the bundle's object in the assets bucket.
   */
  private async publishBundle(resources: Record<string, any>, outdir: string, resolver: StrictResolver): Promise<void> {
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type !== 'AWS::SSM::Parameter') continue;
      const url = resolver.resolve(r.Properties.Value) as string;
      // The template's name, else the one CloudFormation generates.
      const name = r.Properties.Name !== undefined ? String(resolver.resolve(r.Properties.Name)) : this.physical.get(id) ?? `CFN-${id}`;
      if (this.parameterValues.get(id) !== url) {
        await this.aws.api('ssm', 'put_parameter', { Name: name, Value: url, Type: 'String', Overwrite: true });
        this.parameterValues.set(id, url);
      }
      this.physical.set(id, name);
      // The bundle's parameter names its asset, a zip named by its hash, which the deploy uploads.
      const asset = /^s3:\/\/([^/]+)\/(.*?([0-9a-f]{64})\.zip)$/.exec(url);
      if (!asset) continue;
      const [, bucket, key, hash] = asset;
      const zipFile = path.join(this.dir, `${hash}.zip`);
      const zip = spawnSync('python3', ['-m', 'zipfile', '-c', zipFile, ...fs.readdirSync(path.join(outdir, `asset.${hash}`)).map((f) => path.join(outdir, `asset.${hash}`, f))]);
      if (zip.status !== 0) throw new Error(`zip: ${zip.stderr}`);
      try {
        await this.aws.api('s3', 'create_bucket', { Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: REGION } });
      } catch (error) {
        if (!/BucketAlreadyOwnedByYou/.test(String(error))) throw error;
      }
      await this.aws.api('s3', 'put_object', { Bucket: bucket, Key: key, Body: { $base64: fs.readFileSync(zipFile).toString('base64') } });
    }
  }

  /**
   * Synthesizes the app again into `<dir>/<outdir>` and deploys what that changes without replacing
   * an instance: the bundle parameter and the bundle object. Returns the template's resources and
   * their resolver.
   */
  public async synthesize(build: (stack: Stack, vpc: ec2.IVpc) => void, outdirName: string) {
    const outdir = path.join(this.dir, outdirName);
    const resources = synth(build, outdir, this.subnetCidr, this.stackName);
    checkResourceTypes(resources);
    const resolver = this.resolver(resources);
    await this.publishBundle(resources, outdir, resolver);
    return { resources, resolver };
  }

  /**
   * Runs the group's SSM association on one slot's instance, as Run Command would: its commands as a
   * root shell script (the instance's files are under the slot's root).
   */
  public runAssociation(slot: Slot, resources: Record<string, any>, resolver: StrictResolver, timeoutMs = 60_000) {
    const association = Object.values(resources).find((r: any) => r.Type === 'AWS::SSM::Association');
    const commands = (resolver.resolve(association.Properties.Parameters.commands) as string[]).join('\n');
    return runCommand('sh', ['-c', commands.replace(/\/usr\/local\/sbin\//g, `${slot.root}/usr/local/sbin/`)], {
      env: { ...this.instanceEnv(slot), CACHEFLEET_RETRY_DELAY: '1' },
      timeoutMs,
    });
  }

  /**
   * Sends the stack's SSM Command document to one slot's instance, as Run Command does: the document
   * as the account holds it, its parameters checked as SSM checks them (each one declared, matching
   * its `allowedPattern`, the required ones given), `{{ Name }}` replaced, and each
   * `aws:runShellScript` step's commands run as one root shell script (the instance's files are under
   * the slot's root). Another action is not modelled: refused.
   */
  public async runDocument(slot: Slot, parameters: Record<string, string>, timeoutMs = 300_000) {
    const documents = Object.entries(this.resources).filter(([, r]) => r.Type === 'AWS::SSM::Document');
    if (documents.length !== 1) throw new Error(`the stack has ${documents.length} SSM documents, not one`);
    const name = this.physical.get(documents[0][0])!;
    const content = JSON.parse((await this.aws.api('ssm', 'get_document', { Name: name })).Content);
    const declared: Record<string, { allowedPattern?: string; default?: string }> = content.parameters ?? {};
    for (const [key, value] of Object.entries(parameters)) {
      if (!declared[key]) throw new Error(`InvalidParameters: ${name} has no parameter ${key}`);
      const pattern = declared[key].allowedPattern;
      if (pattern !== undefined && !new RegExp(pattern).test(value)) throw new Error(`InvalidParameters: ${key} '${value}' does not match ${pattern}`);
    }
    const values: Record<string, string> = {};
    for (const [key, spec] of Object.entries(declared)) {
      const value = parameters[key] ?? spec.default;
      if (value === undefined) throw new Error(`InvalidParameters: ${name} requires ${key}`);
      values[key] = value;
    }
    const commands = (content.mainSteps as any[]).flatMap((step) => {
      if (step.action !== 'aws:runShellScript') throw new Error(`${name}: the action ${step.action} is not modelled`);
      return step.inputs.runCommand as string[];
    }).join('\n').replace(/\{\{\s*(\w+)\s*\}\}/g, (_m, key: string) => {
      if (values[key] === undefined) throw new Error(`${name} names {{ ${key} }}, which it does not declare`);
      return values[key];
    });
    return runCommand('sh', ['-c', commands.split(`${INSTALLED_BUNDLE}/`).join(`${slot.root}${INSTALLED_BUNDLE}/`)], {
      env: this.instanceEnv(slot),
      timeoutMs,
    });
  }

  /** What every program of a slot's instance runs with: the stand-ins first on PATH, the instance's root and metadata. */
  private instanceEnv(slot: Slot): Record<string, string | undefined> {
    return {
      PATH: `${path.join(this.standin, 'bin')}:${process.env.PATH}`,
      HOME: process.env.HOME,
      TMPDIR: this.dir,
      STANDIN: this.standin,
      CACHEFLEET_ROOT: slot.root,
      CACHEFLEET_METADATA_URL: `http://127.0.0.1:${this.port}/${slot.name}`,
      // The one thing a real instance lacks: where AWS is. Credentials come from the instance
      // profile (the metadata below), as on EC2.
      AWS_ENDPOINT_URL: this.aws.endpoint,
    };
  }

  /** The instance-metadata stand-in: IMDSv2 only, one instance per slot under /<slot>/. */
  private async startMetadataServer(): Promise<void> {
    const tokens = new Set<string>();
    this.server = http.createServer((request, response) => {
      const [, slotName, ...rest] = (request.url ?? '').split('/');
      const route = rest.join('/');
      const slot = this.slots.find((s) => s.name === slotName);
      const send = (status: number, body: string) => { response.writeHead(status); response.end(body); };
      if (!slot) return send(404, 'no such instance');
      if (request.method === 'PUT' && route === 'latest/api/token') {
        if (!request.headers['x-aws-ec2-metadata-token-ttl-seconds']) return send(400, 'missing TTL');
        const token = `token-${slot.name}-${tokens.size}`;
        tokens.add(token);
        return send(200, token);
      }
      if (request.method !== 'GET' || !tokens.has(String(request.headers['x-aws-ec2-metadata-token']))) return send(401, 'IMDSv2 token required');
      const meta: Record<string, string> = {
        'latest/meta-data/instance-id': slot.instanceId ?? '',
        'latest/meta-data/placement/region': REGION,
        'latest/meta-data/autoscaling/target-lifecycle-state': slot.lifecycleState ?? 'InService',
      };
      for (const [key, value] of Object.entries(slot.tags)) meta[`latest/meta-data/tags/instance/${key}`] = value;
      // The instance profile's temporary credentials, in the metadata service's own format; the
      // strict layer knows them, as IAM does, and checks the signatures made with them.
      meta['latest/meta-data/iam/security-credentials/'] = INSTANCE_ROLE;
      meta[`latest/meta-data/iam/security-credentials/${INSTANCE_ROLE}`] = [
        '{',
        '  "Code" : "Success",',
        `  "LastUpdated" : "${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}",`,
        '  "Type" : "AWS-HMAC",',
        `  "AccessKeyId" : "${INSTANCE_CREDENTIALS.accessKeyId}",`,
        `  "SecretAccessKey" : "${INSTANCE_CREDENTIALS.secretAccessKey}",`,
        `  "Token" : "${INSTANCE_CREDENTIALS.sessionToken}",`,
        `  "Expiration" : "${new Date(Date.now() + 6 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z')}"`,
        '}',
      ].join('\n');
      return meta[route] !== undefined ? send(200, meta[route]) : send(404, 'Not Found');
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Launches a new instance in a slot: cloud-init writes the fetch program and runs it (runcmd). */
  public async launch(slot: Slot, extraEnv: Record<string, string> = {}) {
    slot.generation += 1;
    // The group launches an instance in the slot's subnet, tagged with the group's tags, and takes it in.
    const subnet = this.literals.get('subnet-0test');
    const tags = Object.entries(slot.tags).map(([Key, Value]) => ({ Key, Value }));
    const run = await this.aws.api('ec2', 'run_instances', {
      ImageId: (await this.aws.api('ec2', 'describe_images', {})).Images[0].ImageId,
      InstanceType: 't3.micro',
      SubnetId: subnet,
      MinCount: 1,
      MaxCount: 1,
      TagSpecifications: [{ ResourceType: 'instance', Tags: tags }],
    });
    slot.instanceId = run.Instances[0].InstanceId as string;
    slot.lifecycleState = 'InService';
    await this.aws.api('autoscaling', 'attach_instances', { AutoScalingGroupName: this.physical.get(slot.groupId), InstanceIds: [slot.instanceId] });
    // A new instance: the same paths as the one it replaces, none of its files (the data volume lives in the stand-in's store).
    slot.root = path.join(this.dir, slot.name);
    fs.rmSync(slot.root, { recursive: true, force: true });
    const cloudConfig = parseCloudConfig(this.userData);
    for (const file of cloudConfig.write_files) {
      const target = path.join(slot.root, file.path);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, file.content, { mode: parseInt(file.permissions, 8) });
    }
    const proc = path.join(slot.root, 'proc');
    fs.mkdirSync(path.join(proc, 'sys/vm'), { recursive: true });
    fs.mkdirSync(path.join(proc, 'sys/net/core'), { recursive: true });
    fs.writeFileSync(path.join(proc, 'meminfo'), 'MemTotal:         524288 kB\n');
    // The kernel's CPU counters (jiffies: user nice system idle iowait irq softirq steal), read by the metrics unit.
    fs.writeFileSync(path.join(proc, 'stat'), 'cpu  4705 150 1120 16250 520 0 35 0 0 0\ncpu0 4705 150 1120 16250 520 0 35 0 0 0\n');
    fs.writeFileSync(path.join(proc, 'sys/vm/overcommit_memory'), '0\n');
    fs.writeFileSync(path.join(proc, 'sys/net/core/somaxconn'), '128\n');
    const [runcmd] = cloudConfig.runcmd as string[][];
    return runCommand('bash', [path.join(slot.root, runcmd[0])], {
      env: {
        ...this.instanceEnv(slot),
        CACHEFLEET_DEV_DIR: path.join(slot.root, 'dev'),
        CACHEFLEET_PROC_DIR: proc,
        CACHEFLEET_SYS_DIR: path.join(slot.root, 'sys'),
        CACHEFLEET_SENTINEL_WAIT: '3',
        CACHEFLEET_RETRY_DELAY: '1',
        ...extraEnv,
      },
      timeoutMs: 180_000,
    });
  }

  /**
   * The instance's CPU counters move on, as the kernel's do between two samples: `busy` and `idle`
   * jiffies added (a static file would show no time passing, and the metrics unit reports no CPU then).
   */
  public advanceCpu(slot: Slot, busy = 30, idle = 70): void {
    const file = path.join(slot.root, 'proc', 'stat');
    const fields = fs.readFileSync(file, 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    fields[0] += busy;
    fields[3] += idle;
    const line = fields.join(' ');
    // Replaced whole, as the kernel's file never reads half-written.
    fs.writeFileSync(`${file}.next`, `cpu  ${line}\ncpu0 ${line}\n`);
    fs.renameSync(`${file}.next`, file);
  }

  /** The physical id the account gave the template's only resource of a type (a bucket's name, a document's name). */
  public physicalIdOf(type: string): string {
    const ids = Object.entries(this.resources).filter(([, r]) => r.Type === type).map(([id]) => id);
    if (ids.length !== 1) throw new Error(`the template has ${ids.length} resources of type ${type}, not one`);
    const physical = this.physical.get(ids[0]);
    if (!physical) throw new Error(`the applier did not create ${ids[0]} (${type})`);
    return physical;
  }

  public slot(name: string): Slot {
    return this.slots.find((s) => s.name === name)!;
  }

  /** The calls the stand-ins recorded (the programs other than the AWS CLI). */
  public calls(): string[] {
    return fs.readFileSync(path.join(this.standin, 'calls.log'), 'utf8').split('\n').filter(Boolean);
  }

  /**
   * The fleet's zone in the account: the one its nodes are told of (a group whose agent moves records), else
   * the template's only zone (a cluster-mode group's records are CloudFormation's alone).
   */
  public hostedZoneId(): string {
    const tagged = this.slots[0]?.tags['cachefleet:hosted-zone-id'];
    if (tagged) return tagged;
    const zones = Object.entries(this.resources).filter(([, r]) => r.Type === 'AWS::Route53::HostedZone');
    if (zones.length !== 1) throw new Error(`the template has ${zones.length} hosted zones and no node names one`);
    return this.physical.get(zones[0][0])!;
  }

  /** Every record set of the fleet's zone: its name and type. */
  public async recordSets(): Promise<Array<{ name: string; type: string }>> {
    const sets = (await this.aws.api('route53', 'list_resource_record_sets', { HostedZoneId: this.hostedZoneId() })).ResourceRecordSets;
    return sets.map((r: any) => ({ name: r.Name as string, type: r.Type as string }));
  }

  /** A record's values in the account's zone, sorted ([] when the record does not exist). */
  public async recordValues(name: string): Promise<string[]> {
    const zone = this.hostedZoneId();
    const fqdn = name.endsWith('.') ? name : `${name}.`;
    const sets = (await this.aws.api('route53', 'list_resource_record_sets', { HostedZoneId: zone, StartRecordName: fqdn, StartRecordType: 'A', MaxItems: '1' })).ResourceRecordSets;
    const set = sets.find((r: any) => r.Name === fqdn && r.Type === 'A');
    return set ? set.ResourceRecords.map((r: any) => r.Value).sort() : [];
  }

  /** The single value of a record. */
  public async record(name: string): Promise<string> {
    return (await this.recordValues(name)).join(' ');
  }

  /** Where a volume or an interface of the template is attached: the instance and the state, per moto. */
  public async attachment(physicalId: string): Promise<{ instanceId: string; state: string } | undefined> {
    if (physicalId.startsWith('vol-')) {
      const attachment = (await this.aws.api('ec2', 'describe_volumes', { VolumeIds: [physicalId] })).Volumes[0].Attachments[0];
      return attachment ? { instanceId: attachment.InstanceId, state: attachment.State } : undefined;
    }
    const attachment = (await this.aws.api('ec2', 'describe_network_interfaces', { NetworkInterfaceIds: [physicalId] })).NetworkInterfaces[0].Attachment;
    return attachment ? { instanceId: attachment.InstanceId, state: attachment.Status } : undefined;
  }

  /** The signals CloudFormation received for a slot's group, accepted or refused. */
  public signals(slot: Slot) {
    return this.aws.signals.filter((signal) => signal.stackName === this.stackName && signal.logicalResourceId === slot.groupId);
  }

  /** The group's view of an instance's health (`Healthy` / `Unhealthy`). */
  public async health(instanceId: string): Promise<string | undefined> {
    return (await this.aws.api('autoscaling', 'describe_auto_scaling_instances', { InstanceIds: [instanceId] })).AutoScalingInstances[0]?.HealthStatus;
  }

  /** Runs one of a slot's units once, as its timer would. */
  public runUnit(slot: Slot, unit: string) {
    return runCommand(path.join(this.standin, 'bin', 'run-unit'), [path.join(slot.root, 'etc/systemd/system', unit)], {
      env: this.instanceEnv(slot),
      timeoutMs: 30_000,
    });
  }

  /**
   * Kills every process a slot's instance started (-9), or those of one unit. For the whole instance,
   * `holder` says what becomes of it in the account: `terminated` (default: its volume and interface
   * are released, it leaves its group), `shutting-down` (it still holds them, as while AWS shuts it
   * down; `finishTermination` ends that), or `running` (an instance that stopped answering).
   */
  public async terminate(slot: Slot, unit?: string, holder: 'terminated' | 'shutting-down' | 'running' = 'terminated'): Promise<void> {
    if (unit) {
      const file = path.join(slot.root, 'systemctl', `${unit}.pid`);
      if (fs.existsSync(file)) killGroup(Number(fs.readFileSync(file, 'utf8')));
      return;
    }
    await endInstanceProcesses(slot);
    if (!slot.instanceId || holder === 'running') return;
    if (holder === 'shutting-down') return this.aws.holdShuttingDown(slot.instanceId);
    await this.finishTermination(slot);
  }

  /**
   * The group starts terminating a slot's instance: its termination hooks hold it (Terminating:Wait)
   * and the instance metadata's target lifecycle state becomes `Terminated`.
   */
  public beginTermination(slot: Slot): void {
    const group = this.resources[slot.groupId];
    for (const hook of group.Properties.LifecycleHookSpecificationList ?? []) {
      if (hook.LifecycleTransition === 'autoscaling:EC2_INSTANCE_TERMINATING') this.aws.startLifecycleAction(this.physical.get(slot.groupId)!, hook.LifecycleHookName, slot.instanceId!);
    }
    slot.lifecycleState = 'Terminated';
  }

  /** The end of an instance's termination: terminated, its volume and interfaces released, out of its group. */
  public async finishTermination(slot: Slot): Promise<void> {
    const instance = slot.instanceId;
    if (!instance) return;
    this.aws.holdShuttingDown(instance, false);
    const state = (await this.aws.api('ec2', 'describe_instances', { InstanceIds: [instance] })).Reservations[0].Instances[0].State.Name;
    if (state === 'terminated') return;
    // moto releases the volumes itself; AWS also detaches the secondary interfaces.
    await this.aws.api('ec2', 'terminate_instances', { InstanceIds: [instance] });
    const enis = (await this.aws.api('ec2', 'describe_network_interfaces', { Filters: [{ Name: 'attachment.instance-id', Values: [instance] }] })).NetworkInterfaces;
    for (const eni of enis) {
      if (eni.Attachment && eni.Attachment.DeviceIndex > 0) await this.aws.api('ec2', 'detach_network_interface', { AttachmentId: eni.Attachment.AttachmentId, Force: true });
    }
    try {
      await this.aws.api('autoscaling', 'detach_instances', { AutoScalingGroupName: this.physical.get(slot.groupId), InstanceIds: [instance], ShouldDecrementDesiredCapacity: true });
    } catch {
      // not in the group (any more)
    }
  }

  public async dispose(): Promise<void> {
    for (const slot of this.slots) await this.terminate(slot, undefined, 'running');
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
    // A shared account's emulator is stopped by the fleet that started it.
    if (!this.sharedAccount) await this.aws?.stop();
    await sleep(200);
    if (process.env.CACHEFLEET_KEEP_INTEG !== '1') fs.rmSync(this.dir, { recursive: true, force: true });
  }

  public logs(): string {
    return this.slots.flatMap((slot) => {
      const dir = path.join(slot.root, 'systemctl');
      return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => `--- ${slot.name} ${f}\n${fs.readFileSync(path.join(dir, f), 'utf8').split('\n').slice(-15).join('\n')}`) : [];
    }).join('\n');
  }
}

/** Synthesizes the app into `outdir` (the VPC imported: one subnet, `subnetCidr`) and returns the template's resources. */
function synth(build: (stack: Stack, vpc: ec2.IVpc) => void, outdir: string, subnetCidr: string, stackName: string): Record<string, any> {
  const app = new App({ outdir });
  const stack = new Stack(app, stackName);
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0test', availabilityZones: [`${REGION}a`], privateSubnetIds: ['subnet-0test'], privateSubnetIpv4CidrBlocks: [subnetCidr],
  });
  build(stack, vpc);
  app.synth();
  return JSON.parse(fs.readFileSync(path.join(outdir, `${stackName}.template.json`), 'utf8')).Resources;
}

/** The name CloudFormation gives a resource without one: `<stack>-<logical id>-<random>`, at most `max` characters. */
function generatedName(stackName: string, logicalId: string, max: number): string {
  const suffix = randomBytes(8).toString('hex').slice(0, 13);
  return `${`${stackName}-${logicalId}`.slice(0, max - suffix.length - 1)}-${suffix}`;
}

/** The cloud-config parsed by PyYAML, the parser cloud-init itself uses (the system python3 that runs cloud-init). */
export function parseCloudConfig(userData: string): any {
  const parsed = spawnSync('/usr/bin/python3', ['-c', 'import sys, yaml, json; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: userData, encoding: 'utf8' });
  if (parsed.status !== 0) throw new Error(`the user data is not YAML: ${parsed.stderr}`);
  return JSON.parse(parsed.stdout);
}

export async function boot(fleet: BootedFleet, slot: Slot): Promise<void> {
  const result = await fleet.launch(slot);
  if (result.code !== 0) throw new Error(`${slot.name} did not boot (exit ${result.code}):\n${result.stderr}\n${fleet.logs()}`);
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/**
 * The live (not zombie) processes of an instance: those that carry its root in their environment (every
 * process a unit, a timer or a watcher of the instance started, an orphan included) and every member
 * of their process groups or of the groups its units recorded (a container's engine, started with an
 * empty environment, is in its unit's group).
 */
function instanceProcesses(slot: Slot): Array<{ pid: number; pgid: number }> {
  const marker = `CACHEFLEET_ROOT=${slot.root}\0`;
  const recorded = path.join(slot.root, 'systemctl');
  const groups = new Set<number>(fs.existsSync(recorded)
    ? fs.readdirSync(recorded).filter((f) => f.endsWith('.pid')).map((f) => Number(fs.readFileSync(path.join(recorded, f), 'utf8')))
    : []);
  const all: Array<{ pid: number; pgid: number; ours: boolean }> = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The fields after the command's name (which may hold spaces and parentheses): state, ppid, pgid.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue;
      const ours = `${fs.readFileSync(`/proc/${entry}/environ`, 'latin1')}\0`.includes(marker);
      if (ours) groups.add(Number(pgid));
      all.push({ pid: Number(entry), pgid: Number(pgid), ours });
    } catch {
      // ended while we looked
    }
  }
  // Never the test's own group (a command run without a group of its own would share it).
  const self = fs.readFileSync('/proc/self/stat', 'utf8');
  const own = Number(self.slice(self.lastIndexOf(')') + 2).split(' ')[2]);
  return all.filter((p) => (p.ours || groups.has(p.pgid)) && p.pgid !== own);
}

/**
 * Ends every process of an instance at once (-9), as a power cut or a reboot does, and returns once
 * none is left: what a unit recorded, and what it started without recording (a watcher's run, a
 * process left by an earlier boot whose record a later one replaced).
 */
export async function endInstanceProcesses(slot: Slot): Promise<void> {
  for (let round = 0; round < 100; round++) {
    const live = instanceProcesses(slot);
    if (live.length === 0) return;
    for (const p of live) {
      killGroup(p.pgid);
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await sleep(100);
  }
  throw new Error(`${slot.name}: processes still running after -9: ${instanceProcesses(slot).map((p) => p.pid).join(' ')}`);
}

/** Runs `work`; when it fails, the error carries the end of every unit's log (the test's directory goes with it). */
export async function withUnitLogs<T>(fleet: BootedFleet, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- the end of the nodes' unit logs ---\n${fleet.logs()}`);
  }
}
