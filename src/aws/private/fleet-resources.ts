import * as crypto from 'crypto';
import { Annotations, ArnFormat, Aws, CfnOutput, Duration, RemovalPolicy, Size, Stack, Tags, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct, IConstruct } from 'constructs';
import { fetchScript, METRICS_NAMESPACE } from './boot-scripts';
import { writeBundleDirectory } from './bundle';
import { FleetBackups } from './fleet-backups';
import { addressInCidr } from '../../core/addresses';
import { ValidationError } from '../../core/errors';
import { CacheFleetOptions } from '../../core/fleet-options';
import { isPinnedByDigest } from '../../core/image-reference';
import { dataSlots, initialPrimary, restartFingerprint, sentinelPort, sentinelSlots } from '../../core/render';
import { FleetPlan, fleetKind, fleetName, NodeSlot as PlannedSlot, planFleet, reservedHostCount, SHARD_HOSTS } from '../../core/topology';
import { AUTH_TOKEN_RULE, refuseAuthTokenForMemcached, TokenCheck, ValidatedCluster, ValidatedFleet } from '../../core/validation';
import { Endpoint } from '../endpoint';
import { FleetProps } from '../fleet';
import { NodeSlot } from '../node-slot';
import { NodeType } from '../node-type';
import { maxClusterShards } from './capacity';
import { instanceMemoryGiB } from './node-memory';
import { validateBackupProps, validateFleetProps } from './validate-fleet-props';

/** aws-cdk-lib's tokens, for core's validation. */
export const CDK_TOKENS: TokenCheck = { isUnresolved: (value) => Token.isUnresolved(value) };

/** The defaults of `FleetProps`. */
export const FLEET_DEFAULTS = {
  nodeType: 'cache.t4g.medium',
  /** The smallest default data volume, GiB. */
  dataVolumeGiB: 20,
  /**
   * The default data volume per byte of `maxmemory`: an AOF rewrite writes the new file beside the
   * old one (up to twice the dataset), and an RDB save writes its temporary file beside the last one;
   * the half on top leaves room for the AOF's growth between rewrites.
   */
  dataVolumePerMaxmemory: 2.5,
  sentinelVolumeGiB: 1,
  removalPolicy: RemovalPolicy.SNAPSHOT,
  signalTimeout: Duration.minutes(15),
  zoneSuffix: 'cachefleet.internal',
} as const;

/**
 * Characters a generated AUTH token never holds: those core's rule refuses (AUTH_TOKEN_RULE), plus
 * `\`, `'` and a backtick, so that the generated token pastes into a shell or a URL unquoted.
 */
const AUTH_TOKEN_EXCLUDED = `${AUTH_TOKEN_RULE.refusedCharacters}\\'\``;

/** Every fleet's addresses by subnet, per stack: two fleets must not share one. */
const USED_ADDRESSES = new WeakMap<Stack, Map<string, string>>();

/** The fleet that holds its records in a given zone, per stack: record names (`primary`, `node-0`…) are the same in every fleet. */
const USED_ZONES = new WeakMap<Stack, Map<string, string>>();

/** The resources every fleet creates, whatever its construct. */
export class FleetResources {
  public readonly plan: FleetPlan;
  public readonly fleetId: string;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly connections: ec2.Connections;
  public readonly role: iam.Role;
  public readonly launchTemplate: ec2.LaunchTemplate;
  public readonly authSecret?: secretsmanager.ISecret;
  public readonly internalSecret?: secretsmanager.Secret;
  public readonly adminSecret?: secretsmanager.Secret;
  public readonly hostedZone: route53.IPrivateHostedZone;
  public readonly slots: NodeSlot[];
  public readonly nodeType: NodeType;
  public readonly bundle: s3assets.Asset;
  public readonly bundleLocation: ssm.StringParameter;
  /**
   * The image the nodes run, when it is named by tag only: CloudFormation writes the tag, the first
   * node to pull it adds the digest it got, and every later node pulls that digest.
   */
  public readonly pinnedImage?: ssm.StringParameter;
  public readonly applyConfiguration: ssm.CfnAssociation;
  /** The backup location, the restore source and the volumes' backup plan. */
  public readonly backups: FleetBackups;
  private readonly scope: Construct;

  constructor(scope: Construct, props: FleetProps & CacheFleetOptions, fleet: ValidatedFleet) {
    this.scope = scope;
    validateFleetProps(props);
    validateBackupProps(props, fleet.engine);
    refuseAuthTokenForMemcached('authToken', fleet.engine, props.authToken && 'a secret');
    const stack = Stack.of(scope);
    const redisLike = fleet.engine.supportsReplication;
    this.nodeType = props.nodeType ?? NodeType.of(FLEET_DEFAULTS.nodeType);
    validateNodeType(this.nodeType);
    const subnets = selectSubnets(scope, props);
    const kind = fleetKind(fleet);
    if (fleet.cluster) refuseTooManyShards(fleet.cluster);
    const reserved = reservedHostCount(kind, fleet.cluster?.shards);
    const offset = addressOffset(scope, props.nodeAddressOffset, reserved, kind);
    checkAddressRoom(subnets, offset, reserved, props.nodeAddressOffset !== undefined, kind);

    const name = fleetName(scope.node.id);
    this.fleetId = `${name}-${hashOf(scope.node.path).slice(0, 6)}`;
    this.plan = planFleet({
      name,
      // The image reference is core's: a mirror replaces only its registry.
      fleet: props.containerRegistry === undefined ? fleet : { ...fleet, engine: fleet.engine.withContainerRegistry(props.containerRegistry) },
      zoneCount: subnets.length,
      // Each slot name's own host number (core's SLOT_HOSTS), never the slot's place in the plan:
      // an address never passes from one slot name to another, whatever the change.
      addressOf: (position) => addressInCidr('nodeAddressOffset', subnets[position.zoneIndex].ipv4CidrBlock, offset + position.hostNumber),
    });
    claimAddresses(scope, subnets, offset, reserved, props.nodeAddressOffset === undefined, kind);
    if (this.plan.sentinel) warnFewZones(scope, subnets, sentinelSlots(this.plan).length);
    if (this.plan.cluster) warnShardSharesZone(scope, subnets, 1 + this.plan.cluster.replicasPerShard);
    Tags.of(scope).add('cachefleet:fleet', this.fleetId);

    // Network: one security group on every node's interfaces; node-to-node only on the ports in use.
    this.securityGroup = new ec2.SecurityGroup(scope, 'SecurityGroup', {
      vpc: props.vpc,
      description: `cachefleet ${this.fleetId}: the nodes`,
      allowAllOutbound: true,
    });
    if (redisLike) {
      this.securityGroup.addIngressRule(this.securityGroup, ec2.Port.tcp(fleet.port), 'node to node: the engine (replication)');
      if (this.plan.sentinel) {
        this.securityGroup.addIngressRule(this.securityGroup, ec2.Port.tcp(sentinelPort(this.plan)), 'node to node: Sentinel');
      }
      if (this.plan.cluster) {
        // The cluster bus (gossip, failover votes, slot migration) is the nodes' alone: clients get
        // the engine's port only, through `connections`.
        this.securityGroup.addIngressRule(this.securityGroup, ec2.Port.tcp(this.plan.cluster.busPort), 'node to node: the cluster bus');
      }
    }
    this.connections = new ec2.Connections({ securityGroups: [this.securityGroup], defaultPort: ec2.Port.tcp(Token.asNumber(fleet.port)) });

    // Secrets (Redis and Valkey): the AUTH token and the sentinel / replication users' password.
    if (redisLike) {
      this.authSecret = props.authToken ?? new secretsmanager.Secret(scope, 'AuthToken', {
        description: `cachefleet ${this.fleetId}: the AUTH token of user ${fleet.authUsername}`,
        generateSecretString: { passwordLength: 32, excludeCharacters: AUTH_TOKEN_EXCLUDED },
      });
      this.internalSecret = new secretsmanager.Secret(scope, 'InternalPassword', {
        description: `cachefleet ${this.fleetId}: the password of the sentinel and replication users`,
        generateSecretString: { passwordLength: 40, excludePunctuation: true },
      });
      this.adminSecret = new secretsmanager.Secret(scope, 'AdminToken', {
        description: `cachefleet ${this.fleetId}: the password of the admin user (every command, CONFIG, MODULE and DEBUG included)`,
        generateSecretString: { passwordLength: 32, excludeCharacters: AUTH_TOKEN_EXCLUDED },
      });
    }

    // The zone and the endpoints' records.
    if (props.hostedZone) claimZone(scope, props.hostedZone);
    this.hostedZone = props.hostedZone ?? new route53.PrivateHostedZone(scope, 'HostedZone', {
      zoneName: `${this.fleetId}.${FLEET_DEFAULTS.zoneSuffix}`,
      vpc: props.vpc,
      comment: `cachefleet ${this.fleetId}: endpoints`,
    });

    // The bundle: shipped once per group; its location in an SSM parameter whose name the user data holds.
    this.bundle = new s3assets.Asset(scope, 'Bundle', { path: writeBundleDirectory(this.plan) });
    this.bundleLocation = new ssm.StringParameter(scope, 'BundleLocation', {
      description: `cachefleet ${this.fleetId}: where the nodes fetch their bundle`,
      stringValue: this.bundle.s3ObjectUrl,
    });

    const image = this.plan.engine.installation;
    if (image.amazonLinuxPackage === undefined && !isPinnedByDigest(image.containerImage)) {
      this.pinnedImage = new ssm.StringParameter(scope, 'PinnedImage', {
        description: `cachefleet ${this.fleetId}: the image tag the nodes run, then the digest the first node pulled`,
        stringValue: image.containerImage,
      });
    }

    this.role = new iam.Role(scope, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `cachefleet ${this.fleetId}: the nodes`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });

    const userData = ec2.UserData.custom(cloudConfig(fetchScript({
      bundleParameterName: this.bundleLocation.parameterName,
      stackName: Aws.STACK_NAME,
      restartFingerprint: restartFingerprint(this.plan),
      signalTimeoutSeconds: FLEET_DEFAULTS.signalTimeout.toSeconds(),
    })));
    this.launchTemplate = new ec2.LaunchTemplate(scope, 'LaunchTemplate', {
      // Resolved by EC2 when it launches an instance, not by CloudFormation at each deploy: a deploy
      // with no change replaces nothing when AL2023 releases a new image.
      machineImage: props.machineImage ?? ec2.MachineImage.resolveSsmParameterAtLaunch(amazonLinux2023Parameter(this.nodeType)),
      instanceType: this.nodeType.instanceType,
      role: this.role,
      securityGroup: this.securityGroup,
      userData,
      requireImdsv2: true,
      instanceMetadataTags: true,
      detailedMonitoring: true,
      associatePublicIpAddress: false,
      blockDevices: [{
        deviceName: '/dev/xvda',
        volume: ec2.BlockDeviceVolume.ebs(20, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3, deleteOnTermination: true }),
      }],
    });

    // The slots, each waiting for the one before it, so CloudFormation creates and updates them one
    // at a time, in `slotOrder`: replicas first, the primary (or the cluster's former) last.
    const dataVolumeSize = redisLike ? props.dataVolumeSize ?? defaultDataVolumeSize(this.nodeType, this.plan.reservedMemoryPercent) : undefined;
    const order = slotOrder(this.plan);
    const slotsByName = new Map<string, NodeSlot>();
    let previous: NodeSlot | undefined;
    for (const planned of order) {
      const slot = new NodeSlot(scope, planned.name, {
        slot: planned,
        subnet: subnets[planned.zoneIndex],
        vpc: props.vpc,
        launchTemplate: this.launchTemplate,
        securityGroup: this.securityGroup,
        dataVolumeSize: !redisLike ? undefined
          : planned.services.includes('redis') ? dataVolumeSize : Size.gibibytes(FLEET_DEFAULTS.sentinelVolumeGiB),
        removalPolicy: props.removalPolicy ?? FLEET_DEFAULTS.removalPolicy,
        hostedZone: this.hostedZone,
        preStopHook: planned.services.includes('redis'),
        signalTimeout: FLEET_DEFAULTS.signalTimeout,
      });
      if (previous) slot.autoScalingGroup.node.addDependency(previous.autoScalingGroup);
      // A node boots only once its zone's route out exists (NAT): it calls AWS APIs and fetches its
      // engine at boot. Only within the stack: an imported subnet's route already exists.
      const subnet = subnets[planned.zoneIndex];
      if (Stack.of(subnet) === stack) slot.autoScalingGroup.node.addDependency(subnet.internetConnectivityEstablished);
      previous = slot;
      slotsByName.set(planned.name, slot);
    }
    this.slots = this.plan.slots.map((planned) => slotsByName.get(planned.name)!);

    // Group-wide settings the agent reads from the instance's tags.
    const groupTag = (key: string, value: string) => {
      for (const slot of this.slots) Tags.of(slot.autoScalingGroup).add(`cachefleet:${key}`, value, { applyToLaunchedInstances: true });
    };
    if (this.authSecret && this.internalSecret && this.adminSecret) {
      groupTag('app-secret-id', this.authSecret.secretArn);
      groupTag('internal-secret-id', this.internalSecret.secretArn);
      groupTag('admin-secret-id', this.adminSecret.secretArn);
    }
    if (this.pinnedImage) groupTag('image-parameter', this.pinnedImage.parameterName);
    this.backups = new FleetBackups(scope, { fleetId: this.fleetId, plan: this.plan, props, slots: this.slots });
    for (const [key, value] of Object.entries(this.backups.tags())) groupTag(key, value);
    if (this.plan.kind === 'replication') {
      // The primary record starts at the initial primary; the agent moves it on failover. Its properties never
      // change after creation, so a later deploy never moves it back.
      new route53.ARecord(scope, 'PrimaryRecord', {
        zone: this.hostedZone,
        recordName: 'primary',
        target: route53.RecordTarget.fromIpAddresses(initialPrimary(this.plan).address),
        ttl: Duration.seconds(5),
      });
      if (this.plan.sentinel) {
        groupTag('hosted-zone-id', this.hostedZone.hostedZoneId);
        groupTag('primary-record', this.primaryRecordName);
      }
      const replicas = this.plan.slots.filter((slot) => slot.role === 'replica');
      if (replicas.length > 0) {
        // Starts at the planned replicas; the agent keeps it on the healthy replicas after failovers.
        new route53.ARecord(scope, 'ReaderRecord', {
          zone: this.hostedZone,
          recordName: 'replicas',
          target: route53.RecordTarget.fromIpAddresses(...replicas.map((slot) => slot.address)),
          ttl: Duration.seconds(5),
        });
        if (this.plan.sentinel) groupTag('reader-record', this.readerRecordName);
      }
    } else if (this.plan.kind === 'memcached' || this.plan.kind === 'cluster') {
      // Memcached and cluster-aware clients take any node to start from: a name over them all.
      new route53.ARecord(scope, 'ConfigurationRecord', {
        zone: this.hostedZone,
        recordName: 'config',
        target: route53.RecordTarget.fromIpAddresses(...this.plan.slots.map((slot) => slot.address)),
        ttl: Duration.seconds(5),
      });
    }

    const policy = this.grantNodes(stack);
    // A node backs up and restores from its first boot.
    const backupPolicy = this.backups.grantNodes(scope, this.role);
    for (const slot of this.slots) slot.autoScalingGroup.node.addDependency(policy, ...(backupPolicy ? [backupPolicy] : []));

    // A new bundle reaches running nodes through SSM, one node at a time, stopping at the first
    // failure: its live parameters by CONFIG SET. The bundle's location is in the command, so the
    // association runs again whenever the bundle changes; after the slots, so never mid-update.
    this.applyConfiguration = new ssm.CfnAssociation(scope, 'ApplyConfiguration', {
      name: 'AWS-RunShellScript',
      targets: [{ key: 'tag:cachefleet:fleet', values: [this.fleetId] }],
      parameters: {
        commands: [`# bundle ${this.bundle.s3ObjectUrl}`, '/usr/local/sbin/cachefleet-fetch apply'],
        // In cluster mode the first node's apply also moves the hash slots a changed shard count
        // moves: its command may run for the resharding budget.
        ...(this.plan.kind === 'cluster' ? { executionTimeout: [String(RESHARD_BUDGET_SECONDS + 120)] } : {}),
      },
      maxConcurrency: '1',
      maxErrors: '0',
      // CloudFormation waits for every node's success, so a failed live change fails the deploy (and
      // rolls it back) instead of passing unseen. The nodes apply one at a time; each is a fetch from
      // S3 and a few CONFIG SETs (seconds), but SSM delivers the command when the node's agent next
      // polls, and a node may be in the middle of a boot: 120 s a node, at least 10 minutes, and in
      // cluster mode the resharding budget once.
      waitForSuccessTimeoutSeconds: applyTimeoutSeconds(this.slots.length, this.plan.kind === 'cluster'),
    });
    for (const slot of this.slots) this.applyConfiguration.node.addDependency(slot.autoScalingGroup);
  }

  /** `<record>.<zone>` of a record in the fleet's zone. */
  public recordName(record: string): string {
    return `${record}.${this.hostedZone.zoneName}`;
  }

  public get primaryRecordName(): string {
    return this.recordName('primary');
  }

  public get readerRecordName(): string {
    return this.recordName('replicas');
  }

  /** The endpoint of each data node: its record. */
  public nodeEndpoints(): Endpoint[] {
    return dataSlots(this.plan).map((slot) => this.slotEndpoint(slot));
  }

  /** The node endpoints of each shard of a cluster-mode group, its planned primary first (none otherwise). */
  public shardNodeEndpoints(): Endpoint[][] {
    const byName = new Map(this.plan.slots.map((slot) => [slot.name, slot]));
    return (this.plan.cluster?.shards ?? []).map((shard) => shard.slotNames.map((name) => this.slotEndpoint(byName.get(name)!)));
  }

  private slotEndpoint(slot: PlannedSlot): Endpoint {
    return new Endpoint(this.recordName(slot.name), slot.enginePort ?? this.plan.port);
  }

  /** The sentinels' addresses. */
  public sentinelEndpoints(): Endpoint[] {
    return this.plan.sentinel ? sentinelSlots(this.plan).map((slot) => new Endpoint(slot.address, sentinelPort(this.plan))) : [];
  }

  public grantConnect(grantee: iam.IGrantable): iam.Grant {
    if (!this.authSecret) {
      return iam.Grant.drop(grantee, 'Memcached has no AUTH: connecting needs only network access');
    }
    return this.authSecret.grantRead(grantee);
  }

  /** Stack outputs: the endpoints, the port and the secret. */
  public addOutputs(endpoints: Record<string, string>): void {
    for (const [id, value] of Object.entries(endpoints)) {
      if (this.scope.node.tryFindChild(id)) continue; // added by an earlier call
      new CfnOutput(this.scope, id, { value, description: `cachefleet ${this.fleetId}: ${id}` });
    }
  }

  /** What the nodes may do: their own volumes, interfaces, secrets, record, bundle and parameter, nothing else's. */
  private grantNodes(stack: Stack): iam.Policy {
    // cloudformation:SignalResource on this stack (a boot's SUCCESS or FAILURE): granted by the auto
    // scaling groups' `signals`, on the launch template's role.
    const redisLike = this.plan.engine.supportsReplication;
    const instances = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
    const ownInstances = { StringEquals: { 'aws:ResourceTag/cachefleet:fleet': this.fleetId } };
    const ownGroups = stack.formatArn({ service: 'autoscaling', resource: 'autoScalingGroup', resourceName: '*:autoScalingGroupName/*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const ownGroupsCondition = { StringEquals: { 'autoscaling:ResourceTag/cachefleet:fleet': this.fleetId } };
    const statements: iam.PolicyStatement[] = [
      new iam.PolicyStatement({
        sid: 'Describe',
        actions: ['ec2:DescribeVolumes', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeInstances', 'autoscaling:DescribeAutoScalingInstances'],
        resources: ['*'], // these describe calls have no resource-level permissions
      }),
      new iam.PolicyStatement({
        // Attach at boot; force-detach from a holder that is terminated or shutting down.
        sid: 'OwnInterfaces',
        actions: ['ec2:AttachNetworkInterface', 'ec2:DetachNetworkInterface'],
        resources: this.slots.map((slot) => stack.formatArn({ service: 'ec2', resource: 'network-interface', resourceName: slot.networkInterface.ref })),
      }),
      new iam.PolicyStatement({
        // The instance side of the same calls: the booting instance and the old holder, both the fleet's.
        sid: 'OwnInstances',
        actions: redisLike
          ? ['ec2:AttachNetworkInterface', 'ec2:DetachNetworkInterface', 'ec2:AttachVolume', 'ec2:DetachVolume']
          : ['ec2:AttachNetworkInterface', 'ec2:DetachNetworkInterface'],
        resources: [instances],
        conditions: ownInstances,
      }),
      new iam.PolicyStatement({
        // A failed boot marks its instance Unhealthy, so that its group replaces it.
        sid: 'ReportOwnHealth',
        actions: ['autoscaling:SetInstanceHealth'],
        resources: [ownGroups],
        conditions: ownGroupsCondition,
      }),
      new iam.PolicyStatement({
        sid: 'PublishMetrics',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'], // PutMetricData has no resources; the namespace condition scopes it
        conditions: { StringEquals: { 'cloudwatch:namespace': METRICS_NAMESPACE } },
      }),
    ];
    const volumes = this.slots.flatMap((slot) => (slot.dataVolume ? [slot.dataVolume] : []));
    if (volumes.length > 0) {
      statements.push(new iam.PolicyStatement({
        sid: 'OwnVolumes',
        actions: ['ec2:AttachVolume', 'ec2:DetachVolume'],
        resources: volumes.map((volume) => stack.formatArn({ service: 'ec2', resource: 'volume', resourceName: volume.volumeId })),
      }));
    }
    if (this.plan.slots.some((slot) => slot.services.includes('redis'))) {
      statements.push(new iam.PolicyStatement({
        sid: 'CompletePreStop',
        // A cluster node leaving the group (fewer shards) moves its hash slots away first, which can
        // outlast the hook's timeout: its pre-stop extends the hook with heartbeats meanwhile.
        actions: this.plan.cluster
          ? ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat']
          : ['autoscaling:CompleteLifecycleAction'],
        resources: [ownGroups],
        conditions: ownGroupsCondition,
      }));
    }
    if (this.plan.sentinel) {
      const zoneArn = stack.formatArn({ service: 'route53', region: '', account: '', resource: 'hostedzone', resourceName: this.hostedZone.hostedZoneId });
      statements.push(
        new iam.PolicyStatement({
          sid: 'MoveEndpointRecords',
          actions: ['route53:ChangeResourceRecordSets'],
          resources: [zoneArn],
          conditions: {
            'ForAllValues:StringEquals': {
              // Sentinel runs only with replicas, so the group has both records.
              'route53:ChangeResourceRecordSetsNormalizedRecordNames': [this.primaryRecordName.toLowerCase(), this.readerRecordName.toLowerCase()],
              'route53:ChangeResourceRecordSetsRecordTypes': ['A'],
            },
          },
        }),
        new iam.PolicyStatement({ sid: 'ReadEndpointRecords', actions: ['route53:ListResourceRecordSets'], resources: [zoneArn] }),
      );
    }
    // The bundle object only: the asset's own grantRead would give the whole assets bucket (every
    // stack's assets, GetObject*, GetBucket* and List*).
    statements.push(new iam.PolicyStatement({
      sid: 'ReadOwnBundle',
      actions: ['s3:GetObject'],
      resources: [stack.formatArn({ service: 's3', region: '', account: '', resource: this.bundle.s3BucketName, resourceName: this.bundle.s3ObjectKey })],
    }));
    const policy = new iam.Policy(this.scope, 'NodePolicy', { roles: [this.role], statements });
    this.bundle.bucket.encryptionKey?.grantDecrypt(this.role);
    this.bundleLocation.grantRead(this.role);
    // Read its history, add the digest: nothing else of the account's parameters.
    this.pinnedImage?.grantRead(this.role);
    this.pinnedImage?.grantWrite(this.role);
    for (const secret of [this.authSecret, this.internalSecret, this.adminSecret]) secret?.grantRead(this.role);
    return policy;
  }
}

/** The user data: a cloud-config that writes the fetch program and runs it. */
export function cloudConfig(script: string): string {
  const indented = script.split('\n').map((line) => (line === '' ? '' : `      ${line}`)).join('\n');
  return [
    '#cloud-config',
    'write_files:',
    '  - path: /usr/local/sbin/cachefleet-fetch',
    "    permissions: '0755'",
    '    owner: root:root',
    '    content: |',
    indented,
    'runcmd:',
    '  - [/usr/local/sbin/cachefleet-fetch]',
    '',
  ].join('\n');
}

function hashOf(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

function validateNodeType(nodeType: NodeType): void {
  if (!(nodeType instanceof NodeType)) {
    throw new ValidationError('nodeType', nodeType, "must be a NodeType (NodeType.of('cache.r7g.large') or NodeType.fromInstanceType(...))");
  }
}

/** The first host a default offset takes, past the addresses other resources of a subnet usually take. */
const DEFAULT_FIRST_HOST = 16;
/** The last host of a /24 subnet (255 is its broadcast address): the default offset assumes /24 or larger. */
const LAST_HOST_OF_24 = 254;
/** The grid default offsets are laid on: a replication group's block, so default blocks meet edge to edge. */
const DEFAULT_OFFSET_GRID = reservedHostCount('replication');

/**
 * The first host of the fleet's block. By default, a hash of the construct path picks one of the
 * places on a grid of the block's size (rounded up to whole grid cells) that keep the block within
 * a /24, so that two fleets of a stack rarely pick overlapping blocks.
 */
function addressOffset(scope: IConstruct, given: number | undefined, reserved: number, kind: FleetPlan['kind']): number {
  // A cluster-mode group's block grows with its shards: a default placed by its size would move
  // every slot's address when `shards` changes. It starts at the first default host whatever its size.
  if (given === undefined && kind === 'cluster') return DEFAULT_FIRST_HOST;
  if (given === undefined) {
    const step = Math.ceil(reserved / DEFAULT_OFFSET_GRID) * DEFAULT_OFFSET_GRID;
    const places = Math.floor((LAST_HOST_OF_24 - DEFAULT_FIRST_HOST - step + 1) / step) + 1;
    return DEFAULT_FIRST_HOST + step * (parseInt(hashOf(scope.node.path).slice(0, 8), 16) % places);
  }
  if (Token.isUnresolved(given) || !Number.isInteger(given) || given < 4) {
    throw new ValidationError('nodeAddressOffset', given, 'must be an integer of at least 4 known at synth time (AWS reserves the first four addresses of a subnet)');
  }
  return given;
}

/** Every selected subnet must hold the whole block, so that no later change within the limits runs out of room. */
function checkAddressRoom(subnets: ec2.ISubnet[], offset: number, reserved: number, given: boolean, kind: FleetPlan['kind']): void {
  const last = offset + reserved - 1;
  for (const subnet of subnets) {
    if (Token.isUnresolved(subnet.ipv4CidrBlock)) {
      throw new ValidationError('vpcSubnets', subnet.subnetId, 'must select subnets whose CIDR blocks are known at synth time (the nodes take fixed addresses in them)');
    }
    try {
      addressInCidr('nodeAddressOffset', subnet.ipv4CidrBlock, last);
    } catch {
      // Name the offset (given or default) and what to do, not only the subnet's size.
      throw new ValidationError('nodeAddressOffset', given ? offset : `${offset} (the default for ${kind === 'cluster' ? 'a cluster-mode group' : 'this construct path'})`,
        `must leave room for hosts ${offset} to ${last} (the ${reserved} addresses the fleet reserves) in subnet ${subnet.ipv4CidrBlock}: ` +
        (given ? 'choose a smaller offset or larger subnets'
          : kind === 'cluster' ? `select larger subnets, fewer shards, or set nodeAddressOffset (a cluster-mode group reserves ${SHARD_HOSTS} addresses per shard from host ${DEFAULT_FIRST_HOST} by default)`
            : 'set nodeAddressOffset (the default assumes /24 or larger subnets)'));
    }
  }
}

/**
 * The default data volume: FLEET_DEFAULTS.dataVolumePerMaxmemory times the node's `maxmemory` (its
 * memory less `reserved-memory-percent`, as the agent computes it at boot), at least
 * FLEET_DEFAULTS.dataVolumeGiB, in whole GiB.
 */
function defaultDataVolumeSize(nodeType: NodeType, reservedMemoryPercent: number): Size {
  const memory = instanceMemoryGiB(nodeType.instanceType);
  if (memory === undefined) {
    throw new ValidationError('dataVolumeSize', undefined,
      `must be given for node type ${nodeType.nodeTypeName}, whose memory cachefleet does not know (the default is ${FLEET_DEFAULTS.dataVolumePerMaxmemory} times the node's maxmemory): ` +
      'set it to at least 2.5 times the node\'s memory, such as Size.gibibytes(100)');
  }
  const maxmemory = (memory * (100 - reservedMemoryPercent)) / 100;
  // Rounded to a millionth first, so that a product like 36.000000000000004 stays 36.
  const gib = Math.ceil(Math.round(maxmemory * FLEET_DEFAULTS.dataVolumePerMaxmemory * 1e6) / 1e6);
  return Size.gibibytes(Math.max(FLEET_DEFAULTS.dataVolumeGiB, gib));
}

/** The public SSM parameter of the latest Amazon Linux 2023 for the node type's architecture. */
function amazonLinux2023Parameter(nodeType: NodeType): string {
  const arch = nodeType.instanceType.architecture === ec2.InstanceArchitecture.ARM_64 ? 'arm64' : 'x86_64';
  return `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${arch}`;
}

/**
 * How long a deploy lets a cluster-mode group move hash slots (a changed shard count): the first
 * node's apply moves them all. A move that takes longer fails the deploy, which rolls back; move
 * that much data beforehand with the agent's `reshard`.
 */
export const RESHARD_BUDGET_SECONDS = 3600;

/**
 * How long CloudFormation waits for the configuration association: 120 s a node, at least 600 s,
 * plus the resharding budget in cluster mode.
 */
export function applyTimeoutSeconds(slots: number, resharding = false): number {
  return Math.max(600, 120 * slots) + (resharding ? RESHARD_BUDGET_SECONDS : 0);
}

/** The selected subnets, refused when they have no egress to the APIs the nodes call. */
function selectSubnets(scope: IConstruct, props: FleetProps): ec2.ISubnet[] {
  const selection = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  const subnets = props.vpc.selectSubnets(selection).subnets;
  if (subnets.length === 0) {
    throw new ValidationError('vpcSubnets', selection, 'must select at least one subnet');
  }
  const isolated = new Set(props.vpc.isolatedSubnets.map((subnet) => subnet.subnetId));
  const pub = new Set(props.vpc.publicSubnets.map((subnet) => subnet.subnetId));
  for (const subnet of subnets) {
    if (isolated.has(subnet.subnetId) || pub.has(subnet.subnetId)) {
      const kind = isolated.has(subnet.subnetId) ? 'an isolated subnet' : 'a public subnet (the nodes get no public IP)';
      throw new ValidationError(
        'vpcSubnets',
        `${kind} in ${subnet.availabilityZone} (${scope.node.path})`,
        'must select private subnets with egress (NAT): the nodes call EC2, Secrets Manager, Route 53, SSM, S3, CloudWatch and CloudFormation, and fetch their engine from the Amazon Linux repositories or a container registry',
      );
    }
  }
  return subnets;
}

/** Sentinel needs a majority of its sentinels: with fewer zones than sentinels, one zone can hold a majority. */
function warnFewZones(scope: IConstruct, subnets: ec2.ISubnet[], sentinels: number): void {
  const zones = new Set(subnets.map((subnet) => subnet.availabilityZone));
  if (zones.size < sentinels) {
    Annotations.of(scope).addWarningV2(
      'cachefleet:fewerThanThreeZones',
      `the nodes are spread over ${zones.size} availability zone(s): losing one zone can take the group's majority of sentinels or all its nodes; select subnets in ${sentinels} zones`,
    );
  }
}

/**
 * Claims the fleet's whole block in every selected subnet, not only the addresses its slots take
 * now: a later change within the limits (more replicas, more Memcached nodes) then never runs into
 * another fleet of the stack.
 */
function claimAddresses(scope: IConstruct, subnets: ec2.ISubnet[], offset: number, reserved: number, isDefault: boolean, kind: FleetPlan['kind']): void {
  const stack = Stack.of(scope);
  let used = USED_ADDRESSES.get(stack);
  if (!used) {
    used = new Map();
    USED_ADDRESSES.set(stack, used);
  }
  const block = subnets.flatMap((subnet) =>
    Array.from({ length: reserved }, (_, host) => addressInCidr('nodeAddressOffset', subnet.ipv4CidrBlock, offset + host)));
  for (const address of block) {
    const owner = used.get(address);
    if (owner !== undefined && owner !== scope.node.path) {
      const which = !isDefault ? 'another offset'
        : kind === 'cluster' ? `an offset (the default of every cluster-mode group is ${offset}: set nodeAddressOffset on all but one of them)`
          : `an offset (the default for this construct path is ${offset})`;
      throw new ValidationError('nodeAddressOffset', address,
        `must give addresses no other fleet of the stack reserves (${owner} reserves it; this fleet reserves ${reserved} from the offset): choose ${which}`);
    }
  }
  for (const address of block) used.set(address, scope.node.path);
}

function claimZone(scope: IConstruct, zone: route53.IPrivateHostedZone): void {
  const stack = Stack.of(scope);
  let used = USED_ZONES.get(stack);
  if (!used) {
    used = new Map();
    USED_ZONES.set(stack, used);
  }
  const owner = used.get(zone.node.path);
  if (owner !== undefined && owner !== scope.node.path) {
    throw new ValidationError('hostedZone', zone.zoneName, `must not hold another fleet's endpoints (${owner} uses it; the record names are the same in every fleet): give each fleet its own zone or leave hostedZone unset`);
  }
  used.set(zone.node.path, scope.node.path);
}

/**
 * The order CloudFormation creates and updates the slots in, each waiting for the one before:
 * sentinel-only slots, then the replicas, the primary last. An update thus replaces the replicas
 * first and the primary once they are in sync (its pre-stop hands over first); on creation a
 * replica is ready before its primary exists (the agent's first-boot rule). A cluster-mode group:
 * the replicas of every shard, then the shards' primaries, the one that forms the cluster
 * (`plan.cluster.former`) last, once every other node is up.
 */
export function slotOrder(plan: FleetPlan): PlannedSlot[] {
  if (plan.cluster) {
    const former = plan.cluster.former;
    const data = dataSlots(plan);
    return [
      ...data.filter((slot) => slot.role === 'replica'),
      ...data.filter((slot) => slot.role === 'primary' && slot.name !== former).reverse(),
      ...data.filter((slot) => slot.name === former),
    ];
  }
  const primary = plan.kind === 'memcached' ? undefined : initialPrimary(plan);
  return [
    ...plan.slots.filter((slot) => slot.role === 'sentinel'),
    ...dataSlots(plan).filter((slot) => slot !== primary).reverse(),
    ...(primary ? [primary] : []),
  ];
}

/** A cluster-mode group must fit one stack: see `maxClusterShards`. */
function refuseTooManyShards(cluster: ValidatedCluster): void {
  const most = maxClusterShards(cluster.replicasPerShard);
  if (cluster.shards > most) {
    throw new ValidationError('shards', cluster.shards,
      `must be at most ${most} with ${cluster.replicasPerShard} replica(s) per shard on EC2: a larger group does not fit one CloudFormation stack ` +
      '(at most 500 resources, of which each node takes 4, and the nodes\' role\'s policies at most 10,240 characters, of which each node takes its volume\'s and its interface\'s ARN)');
  }
}

/**
 * Each shard of a cluster-mode group spreads its nodes over the zones (shard s's node r in zone
 * (s + r) mod zones); with fewer zones than nodes in a shard, some share one, and losing that zone
 * takes the shard's primary and replica at once.
 */
function warnShardSharesZone(scope: IConstruct, subnets: ec2.ISubnet[], nodesPerShard: number): void {
  const zones = new Set(subnets.map((subnet) => subnet.availabilityZone));
  if (zones.size < nodesPerShard) {
    Annotations.of(scope).addWarningV2(
      'cachefleet:shardNodesShareZone',
      `each shard has ${nodesPerShard} nodes but the subnets span ${zones.size} availability zone(s): some of a shard's nodes share a zone, and losing that zone can lose the shard's primary and its replica together; select subnets in ${nodesPerShard} zones`,
    );
  }
}
