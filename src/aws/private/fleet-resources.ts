import * as crypto from 'crypto';
import { Annotations, ArnFormat, Aws, CfnOutput, Duration, RemovalPolicy, Size, Stack, Tags, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct, IConstruct } from 'constructs';
import { addressInCidr } from '../../core/addresses';
import { ValidationError } from '../../core/errors';
import { CacheFleetOptions } from '../../core/fleet-options';
import { FleetPlan, fleetName, planFleet } from '../../core/topology';
import { refuseAuthTokenForMemcached, TokenCheck, ValidatedFleet } from '../../core/validation';
import { Endpoint } from '../endpoint';
import { FleetProps } from '../fleet';
import { NodeSlot } from '../node-slot';
import { NodeType } from '../node-type';
import { fetchScript, METRICS_NAMESPACE } from './boot-scripts';
import { restartFingerprint, writeBundleDirectory } from './bundle';
import { validateFleetProps } from './validate-fleet-props';
import { dataSlots, initialPrimary, sentinelPort, sentinelSlots } from '../../core/render';

/** aws-cdk-lib's tokens, for core's validation. */
export const CDK_TOKENS: TokenCheck = { isUnresolved: (value) => Token.isUnresolved(value) };

/** The defaults of `FleetProps`. */
export const FLEET_DEFAULTS = {
  nodeType: 'cache.t4g.medium',
  dataVolumeGiB: 20,
  sentinelVolumeGiB: 1,
  removalPolicy: RemovalPolicy.SNAPSHOT,
  signalTimeout: Duration.minutes(15),
  zoneSuffix: 'cachefleet.internal',
} as const;

/**
 * Characters a generated AUTH token never holds: those core's rule refuses (AUTH_TOKEN_RULE), plus
 * `\`, `'` and a backtick, so that the generated token pastes into a shell or a URL unquoted.
 */
const AUTH_TOKEN_EXCLUDED = ' "/@\\\'`';

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
  public readonly hostedZone: route53.IPrivateHostedZone;
  public readonly slots: NodeSlot[];
  public readonly nodeType: NodeType;
  public readonly bundle: s3assets.Asset;
  public readonly bundleLocation: ssm.StringParameter;
  public readonly applyConfiguration: ssm.CfnAssociation;
  private readonly scope: Construct;

  constructor(scope: Construct, props: FleetProps & CacheFleetOptions, fleet: ValidatedFleet) {
    this.scope = scope;
    validateFleetProps(props);
    refuseAuthTokenForMemcached('authToken', fleet.engine, props.authToken && 'a secret');
    const stack = Stack.of(scope);
    const redisLike = fleet.engine.supportsReplication;
    this.nodeType = props.nodeType ?? NodeType.of(FLEET_DEFAULTS.nodeType);
    validateNodeType(this.nodeType);
    const subnets = selectSubnets(scope, props);
    const offset = addressOffset(scope, props.nodeAddressOffset);

    const name = fleetName(scope.node.id);
    this.fleetId = `${name}-${hashOf(scope.node.path).slice(0, 6)}`;
    this.plan = planFleet({
      name,
      fleet,
      zoneCount: subnets.length,
      addressOf: (position) => {
        const subnet = subnets[position.zoneIndex];
        if (Token.isUnresolved(subnet.ipv4CidrBlock)) {
          throw new ValidationError('vpcSubnets', subnet.subnetId, 'must select subnets whose CIDR blocks are known at synth time (the nodes take fixed addresses in them)');
        }
        const host = offset + position.indexInZone;
        try {
          return addressInCidr('nodeAddressOffset', subnet.ipv4CidrBlock, host);
        } catch {
          // Name the offset (given or default) and what to do, not only the subnet's size.
          const given = props.nodeAddressOffset !== undefined;
          throw new ValidationError('nodeAddressOffset', given ? props.nodeAddressOffset : `${offset} (the default for this construct path)`,
            `must leave room for host ${host} in subnet ${subnet.ipv4CidrBlock}: ` +
            (given ? 'choose a smaller offset or larger subnets' : 'set nodeAddressOffset (the default assumes /24 or larger subnets)'));
        }
      },
    });
    claimAddresses(scope, this.plan, props.nodeAddressOffset === undefined ? offset : undefined);
    if (this.plan.sentinel) warnFewZones(scope, subnets, sentinelSlots(this.plan).length);
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

    this.role = new iam.Role(scope, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `cachefleet ${this.fleetId}: the nodes`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });

    const userData = ec2.UserData.custom(cloudConfig(fetchScript(this.bundleLocation.parameterName, Aws.STACK_NAME, restartFingerprint(this.plan))));
    this.launchTemplate = new ec2.LaunchTemplate(scope, 'LaunchTemplate', {
      machineImage: props.machineImage ?? ec2.MachineImage.latestAmazonLinux2023({
        cpuType: this.nodeType.instanceType.architecture === ec2.InstanceArchitecture.ARM_64
          ? ec2.AmazonLinuxCpuType.ARM_64
          : ec2.AmazonLinuxCpuType.X86_64,
      }),
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
    // at a time: sentinel-only slots, then the replicas, the primary last. An update thus replaces
    // the replicas first and the primary once they are in sync (its pre-stop hands over first); on
    // creation a replica is ready before its primary exists (the agent's first-boot rule).
    const primary = this.plan.kind === 'memcached' ? undefined : initialPrimary(this.plan);
    const order = [
      ...this.plan.slots.filter((slot) => slot.role === 'sentinel'),
      ...dataSlots(this.plan).filter((slot) => slot !== primary).reverse(),
      ...(primary ? [primary] : []),
    ];
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
          : planned.services.includes('redis') ? props.dataVolumeSize ?? Size.gibibytes(FLEET_DEFAULTS.dataVolumeGiB)
            : Size.gibibytes(FLEET_DEFAULTS.sentinelVolumeGiB),
        removalPolicy: props.removalPolicy ?? FLEET_DEFAULTS.removalPolicy,
        hostedZone: this.hostedZone,
        preStopHook: planned.services.includes('redis'),
        signalTimeout: FLEET_DEFAULTS.signalTimeout,
      });
      if (previous) slot.autoScalingGroup.node.addDependency(previous.autoScalingGroup);
      previous = slot;
      slotsByName.set(planned.name, slot);
    }
    this.slots = this.plan.slots.map((planned) => slotsByName.get(planned.name)!);

    // Group-wide settings the agent reads from the instance's tags.
    const groupTag = (key: string, value: string) => {
      for (const slot of this.slots) Tags.of(slot.autoScalingGroup).add(`cachefleet:${key}`, value, { applyToLaunchedInstances: true });
    };
    if (this.authSecret && this.internalSecret) {
      groupTag('app-secret-id', this.authSecret.secretArn);
      groupTag('internal-secret-id', this.internalSecret.secretArn);
    }
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
    } else if (this.plan.kind === 'memcached') {
      new route53.ARecord(scope, 'ConfigurationRecord', {
        zone: this.hostedZone,
        recordName: 'config',
        target: route53.RecordTarget.fromIpAddresses(...this.plan.slots.map((slot) => slot.address)),
        ttl: Duration.seconds(5),
      });
    }

    const policy = this.grantNodes(stack);
    for (const slot of this.slots) slot.autoScalingGroup.node.addDependency(policy);

    // A new bundle reaches running nodes through SSM, one node at a time, stopping at the first
    // failure: its live parameters by CONFIG SET. The bundle's location is in the command, so the
    // association runs again whenever the bundle changes; after the slots, so never mid-update.
    this.applyConfiguration = new ssm.CfnAssociation(scope, 'ApplyConfiguration', {
      name: 'AWS-RunShellScript',
      targets: [{ key: 'tag:cachefleet:fleet', values: [this.fleetId] }],
      parameters: { commands: [`# bundle ${this.bundle.s3ObjectUrl}`, '/usr/local/sbin/cachefleet-fetch apply'] },
      maxConcurrency: '1',
      maxErrors: '0',
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
    return dataSlots(this.plan).map((slot) => new Endpoint(this.recordName(slot.name), slot.enginePort ?? this.plan.port));
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
      new CfnOutput(this.scope, id, { value, description: `cachefleet ${this.fleetId}: ${id}` });
    }
  }

  /** What the nodes may do: their own volumes, interfaces, secrets and record, nothing else's. */
  private grantNodes(stack: Stack): iam.Policy {
    // cloudformation:SignalResource on the stack: granted by the auto scaling groups' `signals`.
    const redisLike = this.plan.engine.supportsReplication;
    const instances = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
    const ownInstances = { StringEquals: { 'aws:ResourceTag/cachefleet:fleet': this.fleetId } };
    const statements: iam.PolicyStatement[] = [
      new iam.PolicyStatement({
        sid: 'Describe',
        actions: ['ec2:DescribeVolumes', 'ec2:DescribeNetworkInterfaces', 'autoscaling:DescribeAutoScalingInstances'],
        resources: ['*'], // these describe calls have no resource-level permissions
      }),
      new iam.PolicyStatement({
        sid: 'AttachOwnInterfaces',
        actions: ['ec2:AttachNetworkInterface'],
        resources: this.slots.map((slot) => stack.formatArn({ service: 'ec2', resource: 'network-interface', resourceName: slot.networkInterface.ref })),
      }),
      new iam.PolicyStatement({
        sid: 'AttachToOwnInstances',
        actions: redisLike ? ['ec2:AttachNetworkInterface', 'ec2:AttachVolume'] : ['ec2:AttachNetworkInterface'],
        resources: [instances],
        conditions: ownInstances,
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
        sid: 'AttachOwnVolumes',
        actions: ['ec2:AttachVolume'],
        resources: volumes.map((volume) => stack.formatArn({ service: 'ec2', resource: 'volume', resourceName: volume.volumeId })),
      }));
    }
    if (this.plan.slots.some((slot) => slot.services.includes('redis'))) {
      statements.push(new iam.PolicyStatement({
        sid: 'CompletePreStop',
        actions: ['autoscaling:CompleteLifecycleAction'],
        resources: [stack.formatArn({ service: 'autoscaling', resource: 'autoScalingGroup', resourceName: '*:autoScalingGroupName/*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
        conditions: { StringEquals: { 'autoscaling:ResourceTag/cachefleet:fleet': this.fleetId } },
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
    const policy = new iam.Policy(this.scope, 'NodePolicy', { roles: [this.role], statements });
    this.bundle.grantRead(this.role);
    this.bundleLocation.grantRead(this.role);
    if (this.authSecret) this.authSecret.grantRead(this.role);
    if (this.internalSecret) this.internalSecret.grantRead(this.role);
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

function addressOffset(scope: IConstruct, given: number | undefined): number {
  if (given === undefined) return 16 + 4 * (parseInt(hashOf(scope.node.path).slice(0, 8), 16) % 46);
  if (Token.isUnresolved(given) || !Number.isInteger(given) || given < 4) {
    throw new ValidationError('nodeAddressOffset', given, 'must be an integer of at least 4 known at synth time (AWS reserves the first four addresses of a subnet)');
  }
  return given;
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

function claimAddresses(scope: IConstruct, plan: FleetPlan, defaultOffset: number | undefined): void {
  const stack = Stack.of(scope);
  let used = USED_ADDRESSES.get(stack);
  if (!used) {
    used = new Map();
    USED_ADDRESSES.set(stack, used);
  }
  for (const slot of plan.slots) {
    const owner = used.get(slot.address);
    if (owner !== undefined && owner !== scope.node.path) {
      const which = defaultOffset === undefined ? 'another offset' : `an offset (the default for this construct path is ${defaultOffset})`;
      throw new ValidationError('nodeAddressOffset', slot.address, `must give addresses no other fleet of the stack uses (${owner} uses it): choose ${which}`);
    }
    used.set(slot.address, scope.node.path);
  }
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
