import { App, ArnFormat, Aws, CfnOutput, Duration, RemovalPolicy, Size, Stack, Tags } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { addressOffset, GROUPS_PER_STACK, importedVpc, NODES_PER_GROUP, PRIVATE_SUBNETS, stackCount } from './fleet-layout';

/**
 * The resources of cachefleet's ReplicationGroups written by hand with aws-cdk-lib alone, the
 * baseline of the synth-time overhead: the same resources with the same properties, without
 * validation, planning, rendering or the engine catalog. The bundle's files are taken as given (a
 * hand-written stack keeps them as files of its own) and the user data is a short script of its own.
 */

const ENGINE_PORT = 6379;
const SENTINEL_PORT = 26379;
const SENTINEL_NODES = 3;
const METRICS_NAMESPACE = 'CacheFleet';
const PRE_STOP_HOOK = 'cachefleet-pre-stop';
const SIGNAL_TIMEOUT = Duration.minutes(15);

/** `nodes` nodes laid out as fleet-layout.ts says, group g of each stack shipping `bundleDirectories[g]`. */
export function handWrittenApp(nodes: number, outdir: string, bundleDirectories: readonly string[]): App {
  const app = new App({ outdir });
  for (let s = 0; s < stackCount(nodes); s++) {
    const stack = new Stack(app, `Fleets${s}`);
    const vpc = importedVpc(stack);
    for (let g = 0; g < GROUPS_PER_STACK; g++) {
      new HandWrittenGroup(stack, `Group${g}`, { vpc, groupName: `group${g}-${s}`, offset: addressOffset(g), bundleDirectory: bundleDirectories[g] });
    }
  }
  return app;
}

interface HandWrittenGroupProps {
  readonly vpc: ec2.IVpc;
  readonly groupName: string;
  /** Where the group's addresses start in each subnet. */
  readonly offset: number;
  readonly bundleDirectory: string;
}

/** One replication group of NODES_PER_GROUP nodes, node i in zone i % 3. */
class HandWrittenGroup extends Construct {
  constructor(scope: Construct, id: string, props: HandWrittenGroupProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { vpc, groupName } = props;
    const subnets = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnets;
    const addresses = Array.from({ length: NODES_PER_GROUP }, (_, i) => addressIn(PRIVATE_SUBNETS[i % 3].cidr, props.offset + Math.floor(i / 3)));
    Tags.of(this).add('cachefleet:fleet', groupName);

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', { vpc, description: `${groupName}: the nodes`, allowAllOutbound: true });
    securityGroup.addIngressRule(securityGroup, ec2.Port.tcp(ENGINE_PORT), 'node to node: the engine (replication)');
    securityGroup.addIngressRule(securityGroup, ec2.Port.tcp(SENTINEL_PORT), 'node to node: Sentinel');

    const authSecret = new secretsmanager.Secret(this, 'AuthToken', {
      description: `${groupName}: the AUTH token of user app`,
      generateSecretString: { passwordLength: 32, excludeCharacters: ' "/@\\\'`' },
    });
    const internalSecret = new secretsmanager.Secret(this, 'InternalPassword', {
      description: `${groupName}: the password of the sentinel and replication users`,
      generateSecretString: { passwordLength: 40, excludePunctuation: true },
    });
    const adminSecret = new secretsmanager.Secret(this, 'AdminToken', {
      description: `${groupName}: the password of the admin user`,
      generateSecretString: { passwordLength: 40, excludePunctuation: true },
    });
    const zone = new route53.PrivateHostedZone(this, 'HostedZone', { zoneName: `${groupName}.cachefleet.internal`, vpc, comment: `${groupName}: endpoints` });

    const bundle = new s3assets.Asset(this, 'Bundle', { path: props.bundleDirectory });
    const bundleLocation = new ssm.StringParameter(this, 'BundleLocation', { description: `${groupName}: where the nodes fetch their bundle`, stringValue: bundle.s3ObjectUrl });
    // Redis 7.0's image is named by tag: the nodes pin the digest the first of them pulled.
    const pinnedImage = new ssm.StringParameter(this, 'PinnedImage', { description: `${groupName}: the image's tag, then its pinned digest`, stringValue: 'public.ecr.aws/docker/library/redis:7.0.15' });

    const role = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `${groupName}: the nodes`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    const instanceType = new ec2.InstanceType('t4g.medium');
    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
      instanceType,
      role,
      securityGroup,
      userData: ec2.UserData.custom(userData(bundleLocation.parameterName)),
      requireImdsv2: true,
      instanceMetadataTags: true,
      detailedMonitoring: true,
      associatePublicIpAddress: false,
      blockDevices: [{
        deviceName: '/dev/xvda',
        volume: ec2.BlockDeviceVolume.ebs(20, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3, deleteOnTermination: true }),
      }],
    });

    // Created and updated one at a time: the replicas from the last, the primary (node-0) last.
    const nodes: HandWrittenNode[] = [];
    for (let i = NODES_PER_GROUP - 1; i >= 0; i--) {
      const node = new HandWrittenNode(this, `node-${i}`, {
        vpc, subnet: subnets[i % 3], address: addresses[i], launchTemplate, securityGroup, zone,
      });
      if (nodes.length > 0) node.group.node.addDependency(nodes[0].group);
      for (const [key, value] of Object.entries({
        'app-secret-id': authSecret.secretArn,
        'internal-secret-id': internalSecret.secretArn,
        'admin-secret-id': adminSecret.secretArn,
        'image-parameter': pinnedImage.parameterName,
        'hosted-zone-id': zone.hostedZoneId,
        'primary-record': `primary.${zone.zoneName}`,
        'reader-record': `replicas.${zone.zoneName}`,
      })) {
        Tags.of(node.group).add(`cachefleet:${key}`, value, { applyToLaunchedInstances: true });
      }
      nodes.unshift(node);
    }

    new route53.ARecord(this, 'PrimaryRecord', { zone, recordName: 'primary', target: route53.RecordTarget.fromIpAddresses(addresses[0]), ttl: Duration.seconds(5) });
    new route53.ARecord(this, 'ReaderRecord', { zone, recordName: 'replicas', target: route53.RecordTarget.fromIpAddresses(...addresses.slice(1)), ttl: Duration.seconds(5) });

    const zoneArn = stack.formatArn({ service: 'route53', region: '', account: '', resource: 'hostedzone', resourceName: zone.hostedZoneId });
    const policy = new iam.Policy(this, 'NodePolicy', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          sid: 'Describe',
          actions: ['ec2:DescribeVolumes', 'ec2:DescribeNetworkInterfaces', 'autoscaling:DescribeAutoScalingInstances'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'AttachOwnInterfaces',
          actions: ['ec2:AttachNetworkInterface'],
          resources: nodes.map((node) => stack.formatArn({ service: 'ec2', resource: 'network-interface', resourceName: node.networkInterface.ref })),
        }),
        new iam.PolicyStatement({
          sid: 'AttachToOwnInstances',
          actions: ['ec2:AttachNetworkInterface', 'ec2:AttachVolume'],
          resources: [stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' })],
          conditions: { StringEquals: { 'aws:ResourceTag/cachefleet:fleet': groupName } },
        }),
        new iam.PolicyStatement({
          sid: 'PublishMetrics',
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          conditions: { StringEquals: { 'cloudwatch:namespace': METRICS_NAMESPACE } },
        }),
        new iam.PolicyStatement({
          sid: 'AttachOwnVolumes',
          actions: ['ec2:AttachVolume'],
          resources: nodes.map((node) => stack.formatArn({ service: 'ec2', resource: 'volume', resourceName: node.dataVolume.volumeId })),
        }),
        new iam.PolicyStatement({
          sid: 'CompletePreStop',
          actions: ['autoscaling:CompleteLifecycleAction'],
          resources: [stack.formatArn({ service: 'autoscaling', resource: 'autoScalingGroup', resourceName: '*:autoScalingGroupName/*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
          conditions: { StringEquals: { 'autoscaling:ResourceTag/cachefleet:fleet': groupName } },
        }),
        new iam.PolicyStatement({
          sid: 'MoveEndpointRecords',
          actions: ['route53:ChangeResourceRecordSets'],
          resources: [zoneArn],
          conditions: {
            'ForAllValues:StringEquals': {
              'route53:ChangeResourceRecordSetsNormalizedRecordNames': [`primary.${groupName}.cachefleet.internal`, `replicas.${groupName}.cachefleet.internal`],
              'route53:ChangeResourceRecordSetsRecordTypes': ['A'],
            },
          },
        }),
        new iam.PolicyStatement({ sid: 'ReadEndpointRecords', actions: ['route53:ListResourceRecordSets'], resources: [zoneArn] }),
      ],
    });
    bundle.grantRead(role);
    bundleLocation.grantRead(role);
    pinnedImage.grantRead(role);
    pinnedImage.grantWrite(role);
    authSecret.grantRead(role);
    internalSecret.grantRead(role);
    adminSecret.grantRead(role);
    for (const node of nodes) node.group.node.addDependency(policy);

    // A new bundle reaches running nodes through SSM, one node at a time, after the nodes exist.
    const applyConfiguration = new ssm.CfnAssociation(this, 'ApplyConfiguration', {
      name: 'AWS-RunShellScript',
      targets: [{ key: 'tag:cachefleet:fleet', values: [groupName] }],
      parameters: { commands: [`# bundle ${bundle.s3ObjectUrl}`, '/usr/local/sbin/fetch-bundle apply'] },
      maxConcurrency: '1',
      maxErrors: '0',
    });
    for (const node of nodes) applyConfiguration.node.addDependency(node.group);

    const socket = (host: string, port = ENGINE_PORT) => `${host}:${port}`;
    new CfnOutput(this, 'PrimaryEndpoint', { value: socket(`primary.${zone.zoneName}`) });
    new CfnOutput(this, 'ReaderEndpoint', { value: socket(`replicas.${zone.zoneName}`) });
    new CfnOutput(this, 'NodeEndpoints', { value: nodes.map((node) => socket(`${node.node.id}.${zone.zoneName}`)).join(',') });
    new CfnOutput(this, 'SentinelEndpoints', { value: addresses.slice(0, SENTINEL_NODES).map((address) => socket(address, SENTINEL_PORT)).join(',') });
    new CfnOutput(this, 'AuthSecretArn', { value: authSecret.secretArn });
  }
}

interface HandWrittenNodeProps {
  readonly vpc: ec2.IVpc;
  readonly subnet: ec2.ISubnet;
  readonly address: string;
  readonly launchTemplate: ec2.ILaunchTemplate;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly zone: route53.IHostedZone;
}

/** One node: an auto scaling group of one instance, a data volume, a fixed-address interface, a record. */
class HandWrittenNode extends Construct {
  public readonly group: autoscaling.AutoScalingGroup;
  public readonly dataVolume: ec2.Volume;
  public readonly networkInterface: ec2.CfnNetworkInterface;

  constructor(scope: Construct, id: string, props: HandWrittenNodeProps) {
    super(scope, id);
    this.dataVolume = new ec2.Volume(this, 'DataVolume', {
      availabilityZone: props.subnet.availabilityZone,
      size: Size.gibibytes(20),
      volumeType: ec2.EbsDeviceVolumeType.GP3,
      encrypted: true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
    });
    this.networkInterface = new ec2.CfnNetworkInterface(this, 'Interface', {
      subnetId: props.subnet.subnetId,
      privateIpAddress: props.address,
      groupSet: [props.securityGroup.securityGroupId],
      description: `${id}: the node's fixed address`,
    });
    this.group = new autoscaling.AutoScalingGroup(this, 'Group', {
      vpc: props.vpc,
      vpcSubnets: { subnets: [props.subnet] },
      launchTemplate: props.launchTemplate,
      minCapacity: 1,
      maxCapacity: 1,
      signals: autoscaling.Signals.waitForCount(1, { timeout: SIGNAL_TIMEOUT }),
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({
        maxBatchSize: 1,
        minInstancesInService: 0,
        waitOnResourceSignals: true,
        pauseTime: SIGNAL_TIMEOUT,
      }),
    });
    const cfnGroup = this.group.node.defaultChild as autoscaling.CfnAutoScalingGroup;
    cfnGroup.lifecycleHookSpecificationList = [{
      lifecycleHookName: PRE_STOP_HOOK,
      lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      heartbeatTimeout: 120,
      defaultResult: 'CONTINUE',
    }];
    for (const [key, value] of Object.entries({
      'slot': id,
      'cfn-resource': Stack.of(this).getLogicalId(cfnGroup),
      'interface-id': this.networkInterface.ref,
      'volume-id': this.dataVolume.volumeId,
    })) {
      Tags.of(this.group).add(`cachefleet:${key}`, value, { applyToLaunchedInstances: true });
    }
    new route53.ARecord(this, 'Record', { zone: props.zone, recordName: id, target: route53.RecordTarget.fromIpAddresses(props.address), ttl: Duration.seconds(5) });
  }
}

/** A cloud-config that fetches the bundle the SSM parameter points at and runs its boot script. */
function userData(bundleParameterName: string): string {
  return [
    '#cloud-config',
    'write_files:',
    '  - path: /usr/local/sbin/fetch-bundle',
    "    permissions: '0755'",
    '    content: |',
    '      #!/bin/bash',
    '      set -euo pipefail',
    '      token=$(curl -fsS -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" http://169.254.169.254/latest/api/token)',
    '      export AWS_DEFAULT_REGION=$(curl -fsS -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/placement/region)',
    `      url=$(aws ssm get-parameter --name '${bundleParameterName}' --query Parameter.Value --output text)`,
    '      rm -rf /opt/bundle && mkdir -p /opt/bundle',
    '      aws s3 cp "$url" /tmp/bundle.zip && unzip -q /tmp/bundle.zip -d /opt/bundle',
    `      CACHEFLEET_STACK='${Aws.STACK_NAME}' exec /opt/bundle/boot.sh`,
    'runcmd:',
    '  - [/usr/local/sbin/fetch-bundle]',
    '',
  ].join('\n');
}

/** The `offset`-th address of an IPv4 CIDR block. */
function addressIn(cidr: string, offset: number): string {
  const [base] = cidr.split('/');
  const value = base.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0) + offset;
  return [3, 2, 1, 0].map((power) => Math.floor(value / 256 ** power) % 256).join('.');
}
