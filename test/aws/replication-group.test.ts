import { App, Duration, Lazy, RemovalPolicy, Size, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { maskedTemplate, readBundleFile, redis, redis62, resourcesOf, testStack, valkey } from './fixtures';
import { NodeType, ReplicationGroup, ReplicationGroupProps } from '../../src/aws';
import { ValidationError } from '../../src/core/errors';
import { ClusterMode } from '../../src/core/fleet-options';
import { ParameterGroup } from '../../src/core/parameters/parameter-group';
import { Persistence } from '../../src/core/persistence';
import { INVALID_REPLICATION_GROUP_PROPS } from '../shared/invalid-fleet-props';

function group(props: Partial<ReplicationGroupProps> = {}, zones?: string[]) {
  const { stack, vpc } = testStack(zones);
  const rg = new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, ...props });
  return {
    stack,
    vpc,
    rg,
    /** Synthesizes on first use: add to the stack before reading it. */
    get template() {
      return Template.fromStack(stack);
    },
  };
}

/** A volume's zone: the subnet's own (GetAtt AvailabilityZone), that subnet's zone name. */
function zoneOf(stack: Stack, zone: any): string {
  expect(zone).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^VpcPrivateSubnet\dSubnet/), 'AvailabilityZone'] });
  return resourcesOf(stack, 'AWS::EC2::Subnet')[zone['Fn::GetAtt'][0]].Properties.AvailabilityZone;
}

function bundleFileOf(rg: ReplicationGroup, name: string): string {
  return readBundleFile(rg, name);
}

describe('ReplicationGroup: topology', () => {
  test('default: a primary and one replica, each a one-instance ASG in its own subnet, plus a sentinel-only slot', () => {
    // WHEN
    const { template } = group();

    // THEN
    template.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 3);
    template.resourceCountIs('AWS::EC2::NetworkInterface', 3);
    template.resourceCountIs('AWS::EC2::Volume', 3);
    template.resourceCountIs('AWS::EC2::LaunchTemplate', 1);
    // The nodes' role and AWS Backup's role for the volumes' daily snapshots.
    template.resourceCountIs('AWS::IAM::Role', 2);
    template.allResourcesProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '1', MaxSize: '1' });
    for (const slot of ['node-0', 'node-1', 'sentinel-0']) {
      template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
        Tags: Match.arrayWith([{ Key: 'cachefleet:slot', PropagateAtLaunch: true, Value: slot }]),
      });
    }
  });

  test('1 + 2 over three zones: one node per subnet, node-k at host offset + k of its subnet', () => {
    // WHEN
    const { template, rg, stack } = group({ replicasPerShard: 2, nodeAddressOffset: 10 });

    // THEN
    template.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 3);
    const interfaces = Object.values(resourcesOf(stack, 'AWS::EC2::NetworkInterface')).map((r) => r.Properties.PrivateIpAddress).sort();
    // Private subnets of the test VPC are 10.0.3.0/24, 10.0.4.0/24, 10.0.5.0/24.
    expect(interfaces).toEqual(['10.0.3.10', '10.0.4.11', '10.0.5.12']);
    const subnets = new Set(Object.values(resourcesOf(stack, 'AWS::AutoScaling::AutoScalingGroup')).map((r) => JSON.stringify(r.Properties.VPCZoneIdentifier)));
    expect(subnets.size).toBe(3);
    expect(rg.sentinelEndpoints.map((endpoint) => endpoint.socketAddress)).toEqual(['10.0.3.10:26379', '10.0.4.11:26379', '10.0.5.12:26379']);
  });

  test('1 + 1: the sentinel-only slot takes host offset + 6, which no data node can take', () => {
    // WHEN
    const { stack } = group({ replicasPerShard: 1, nodeAddressOffset: 10 });

    // THEN
    const bySlot = Object.fromEntries(Object.entries(resourcesOf(stack, 'AWS::EC2::NetworkInterface'))
      .map(([id, r]) => [/Sessions(node\d|sentinel\d)/.exec(id)![1], r.Properties.PrivateIpAddress]));
    expect(bySlot).toEqual({ node0: '10.0.3.10', node1: '10.0.4.11', sentinel0: '10.0.5.16' });
  });

  test('0 replicas: one node, no sentinel, no primary-record permission', () => {
    // WHEN
    const { template, rg } = group({ replicasPerShard: 0 });

    // THEN
    template.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 1);
    expect(rg.sentinelEndpoints).toEqual([]);
    expect(rg.readerEndpoint).toBe(rg.primaryEndpoint);
    const policy = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policy).not.toContain('route53:ChangeResourceRecordSets');
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
  });

  test('5 replicas: six data slots, three of them with a sentinel', () => {
    // WHEN
    const { template, rg } = group({ replicasPerShard: 5 });

    // THEN
    template.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 6);
    expect(rg.nodeEndpoints).toHaveLength(6);
    expect(rg.sentinelEndpoints).toHaveLength(3);
  });

  test('slots are created and updated one at a time, replicas first and the primary last (each waits for the one before)', () => {
    // WHEN
    const { stack } = group({ replicasPerShard: 2 });

    // THEN
    const groups = resourcesOf(stack, 'AWS::AutoScaling::AutoScalingGroup');
    const idOf = (slot: string) => Object.entries(groups).find(([, r]) => JSON.stringify(r.Properties.Tags).includes(`"Value":"${slot}"`))![0];
    const slotDependencies = (slot: string) => (groups[idOf(slot)].DependsOn ?? []).filter((id: string) => id in groups);
    expect(slotDependencies('node-2')).toEqual([]);
    expect(slotDependencies('node-1')).toEqual([idOf('node-2')]);
    expect(slotDependencies('node-0')).toEqual([idOf('node-1')]);
    for (const resource of Object.values(groups)) {
      expect(resource.UpdatePolicy.AutoScalingRollingUpdate).toMatchObject({ MaxBatchSize: 1, MinInstancesInService: 0, WaitOnResourceSignals: true, PauseTime: 'PT15M' });
      expect(resource.CreationPolicy.ResourceSignal).toEqual({ Count: 1, Timeout: 'PT15M' });
    }
  });

  test('a termination lifecycle hook on every data slot holds the instance for pre-stop', () => {
    const { template } = group({ replicasPerShard: 2 });
    template.allResourcesProperties('AWS::AutoScaling::AutoScalingGroup', {
      LifecycleHookSpecificationList: [{
        LifecycleHookName: 'cachefleet-pre-stop',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        HeartbeatTimeout: 120,
        DefaultResult: 'CONTINUE',
      }],
    });
  });

  test('fewer than three zones: a warning', () => {
    // WHEN
    const { stack } = group({}, ['eu-west-1a', 'eu-west-1b']);

    // THEN
    Annotations.fromStack(stack).hasWarning('/Test/Sessions', Match.stringLikeRegexp('spread over 2 availability zone\\(s\\).*\\[ack: cachefleet:fewerThanThreeZones\\]'));
  });

  test('without Sentinel (no replica) one zone draws no warning: there is no majority to lose', () => {
    const { stack } = group({ replicasPerShard: 0 }, ['eu-west-1a']);
    Annotations.fromStack(stack).hasNoWarning('/Test/Sessions', Match.anyValue());
  });

  test('three zones: no warning', () => {
    const { stack } = group();
    Annotations.fromStack(stack).hasNoWarning('/Test/Sessions', Match.anyValue());
  });
});

describe('ReplicationGroup: launch template and node', () => {
  test('IMDSv2, instance metadata tags, no public IP, no SSH key, encrypted gp3 root, detailed monitoring', () => {
    const { template } = group();
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        MetadataOptions: { HttpTokens: 'required', InstanceMetadataTags: 'enabled' },
        Monitoring: { Enabled: true },
        NetworkInterfaces: [Match.objectLike({ AssociatePublicIpAddress: false, DeviceIndex: 0 })],
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { DeleteOnTermination: true, Encrypted: true, VolumeSize: 20, VolumeType: 'gp3' } }],
        KeyName: Match.absent(),
      }),
    });
  });

  test('nodeType: default cache.t4g.medium on Amazon Linux 2023 arm64, resolved at launch', () => {
    const { template } = group();
    const lt = Object.values(template.findResources('AWS::EC2::LaunchTemplate'))[0];
    expect(lt.Properties.LaunchTemplateData.InstanceType).toBe('t4g.medium');
    expect(lt.Properties.LaunchTemplateData.ImageId).toBe('resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64');
  });

  test('nodeType: NodeType.of and NodeType.fromInstanceType; x86 types get the x86 image', () => {
    const of = group({ nodeType: NodeType.of('cache.r7g.large') }).template;
    of.hasResourceProperties('AWS::EC2::LaunchTemplate', { LaunchTemplateData: Match.objectLike({ InstanceType: 'r7g.large' }) });
    const fromType = group({ nodeType: NodeType.fromInstanceType(ec2.InstanceType.of(ec2.InstanceClass.M7I, ec2.InstanceSize.XLARGE)) }).template;
    const lt = Object.values(fromType.findResources('AWS::EC2::LaunchTemplate'))[0];
    expect(lt.Properties.LaunchTemplateData.InstanceType).toBe('m7i.xlarge');
    expect(lt.Properties.LaunchTemplateData.ImageId).toBe('resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64');
  });

  test('machineImage: override', () => {
    const { template } = group({ machineImage: ec2.MachineImage.genericLinux({ 'eu-west-1': 'ami-12345678' }) });
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', { LaunchTemplateData: Match.objectLike({ ImageId: Match.anyValue() }) });
    expect(JSON.stringify(template.toJSON().Mappings)).toContain('"ami":"ami-12345678"');
  });

  test('user data: a cloud-config that fetches the bundle named by the group SSM parameter; small and slot-independent', () => {
    const { template } = group({ replicasPerShard: 2 });
    const lt = Object.values(template.findResources('AWS::EC2::LaunchTemplate'))[0];
    const parts = lt.Properties.LaunchTemplateData.UserData['Fn::Base64']['Fn::Join'][1];
    const text = parts.filter((part: unknown) => typeof part === 'string').join('');
    expect(text.startsWith('#cloud-config\n')).toBe(true);
    expect(text).toContain('aws ssm get-parameter --name');
    expect(text.length).toBeLessThan(16 * 1024);
    expect(text).not.toMatch(/node-\d|10\.0\./);
    const refs = parts.filter((part: unknown) => typeof part !== 'string').map((part: any) => part.Ref);
    expect(refs).toEqual([expect.stringMatching(/^SessionsBundleLocation/), 'AWS::StackName']);
  });

  test('data volume: encrypted gp3, 20 GiB by default, in the slot subnet zone, snapshot on removal', () => {
    const { stack } = group({ replicasPerShard: 2 });
    const volumes = Object.values(resourcesOf(stack, 'AWS::EC2::Volume'));
    expect(volumes).toHaveLength(3);
    for (const volume of volumes) {
      expect(volume.Properties).toMatchObject({ Encrypted: true, Size: 20, VolumeType: 'gp3' });
      expect(volume.DeletionPolicy).toBe('Snapshot');
      expect(volume.UpdateReplacePolicy).toBe('Snapshot');
    }
    expect(volumes.map((volume) => zoneOf(stack, volume.Properties.AvailabilityZone)).sort()).toEqual(['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
  });

  test('dataVolumeSize and removalPolicy: overrides', () => {
    const { stack } = group({ replicasPerShard: 2, dataVolumeSize: Size.gibibytes(100), removalPolicy: RemovalPolicy.RETAIN });
    for (const volume of Object.values(resourcesOf(stack, 'AWS::EC2::Volume'))) {
      expect(volume.Properties.Size).toBe(100);
      expect(volume.DeletionPolicy).toBe('Retain');
    }
  });

  test('a sentinel-only slot has a 1 GiB volume for the sentinel state', () => {
    const { stack } = group({ dataVolumeSize: Size.gibibytes(50) });
    expect(Object.values(resourcesOf(stack, 'AWS::EC2::Volume')).map((volume) => volume.Properties.Size).sort()).toEqual([1, 50, 50]);
  });

  test('each slot ASG tells the agent its slot, volume, interface, secrets, zone, record and CloudFormation resource', () => {
    const { stack } = group({ replicasPerShard: 2 });
    const groups = resourcesOf(stack, 'AWS::AutoScaling::AutoScalingGroup');
    for (const [logicalId, resource] of Object.entries(groups)) {
      const tags = Object.fromEntries(resource.Properties.Tags.map((tag: any) => [tag.Key, tag.Value]));
      expect(resource.Properties.Tags.every((tag: any) => tag.PropagateAtLaunch)).toBe(true);
      expect(tags['cachefleet:cfn-resource']).toBe(logicalId);
      expect(tags['cachefleet:volume-id'].Ref).toMatch(/DataVolume/);
      expect(tags['cachefleet:interface-id'].Ref).toMatch(/Interface/);
      expect(tags['cachefleet:app-secret-id'].Ref).toMatch(/^SessionsAuthToken/);
      expect(tags['cachefleet:internal-secret-id'].Ref).toMatch(/^SessionsInternalPassword/);
      expect(tags['cachefleet:hosted-zone-id'].Ref).toMatch(/^SessionsHostedZone/);
      expect(tags['cachefleet:primary-record']).toMatch(/^primary\.sessions-[0-9a-f]{6}\.cachefleet\.internal$/);
    }
  });

  test('the bundle is an S3 asset whose URL the BundleLocation parameter holds', () => {
    const { template } = group();
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Type: 'String',
      Value: { 'Fn::Sub': Match.stringLikeRegexp('^s3://cdk-hnb659fds-assets-\\$\\{AWS::AccountId\\}-\\$\\{AWS::Region\\}/[0-9a-f]{64}\\.zip$') },
    });
  });

  test('the bundle carries the agent, the boot scripts and core-rendered configuration', () => {
    const { rg } = group({ replicasPerShard: 2, persistence: Persistence.rdb() });
    expect(bundleFileOf(rg, 'cachefleet-node')).toContain('cachefleet-node: the node agent');
    expect(bundleFileOf(rg, 'aws/boot.sh')).toContain('"$agent" signal success');
    expect(bundleFileOf(rg, 'lib/common.sh')).toContain('retry()');
    expect(bundleFileOf(rg, 'config/fleet.env')).toContain("CF_ENGINE='valkey'");
    expect(bundleFileOf(rg, 'config/slots/node-2.env')).toContain("CF_ROLE='replica'");
    expect(bundleFileOf(rg, 'config/redis.conf')).toMatch(/^save 3600 1\nsave 300 100\nsave 60 10000$/m);
    expect(bundleFileOf(rg, 'config/sentinel.conf')).toContain('sentinel monitor sessions');
  });
});

describe('ReplicationGroup: engines, parameters, persistence, port', () => {
  test.each([
    ['Valkey 8.0', valkey],
    ['Redis 7.0 (image)', redis],
    ['Redis 6.2 (AL2023 package)', redis62],
  ])('%s deploys on EC2', (_name, engine) => {
    const { stack, vpc } = testStack();
    const rg = new ReplicationGroup(stack, 'Sessions', { vpc, engine });
    expect(Template.fromStack(stack).findResources('AWS::AutoScaling::AutoScalingGroup')).not.toEqual({});
    const env = bundleFileOf(rg, 'config/fleet.env');
    expect(env).toContain(`CF_ENGINE_VERSION='${engine.engineVersion}'`);
    expect(env).toContain(`CF_PACKAGE='${engine.installation.amazonLinuxPackage ?? ''}'`);
  });

  test('port: default 6379 for node-to-node rules and connections; override', () => {
    const defaults = group();
    defaults.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 6379, ToPort: 6379, IpProtocol: 'tcp' });
    defaults.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 26379, ToPort: 26379, IpProtocol: 'tcp' });
    expect(defaults.rg.connections.defaultPort?.toString()).toBe('6379');
    const custom = group({ port: 6380 });
    custom.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 6380, ToPort: 6380 });
    expect(custom.rg.primaryEndpoint.port).toBe(6380);
    expect(bundleFileOf(custom.rg, 'config/fleet.env')).toContain("CF_PORT='6380'");
  });

  test('persistence: default AOF every second; overrides none, RDB, AOF always', () => {
    expect(bundleFileOf(group().rg, 'config/redis.conf')).toMatch(/^appendfsync everysec$/m);
    expect(bundleFileOf(group({ persistence: Persistence.aofAlways() }).rg, 'config/redis.conf')).toMatch(/^appendfsync always$/m);
    expect(bundleFileOf(group({ persistence: Persistence.none() }).rg, 'config/redis.conf')).toMatch(/^appendonly no$/m);
    expect(bundleFileOf(group({ persistence: Persistence.rdb({ saveRules: '900 1' }) }).rg, 'config/redis.conf')).toMatch(/^save 900 1$/m);
  });

  test('parameterGroup: its parameters reach the bundle, not the launch template', () => {
    const { stack, vpc } = testStack();
    const params = new ParameterGroup(stack, 'Params', { engine: valkey, parameters: { 'maxmemory-policy': 'allkeys-lru' } });
    const rg = new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, parameterGroup: params });
    expect(bundleFileOf(rg, 'config/redis.conf')).toMatch(/^maxmemory-policy allkeys-lru$/m);
    expect(JSON.stringify(Template.fromStack(stack).findResources('AWS::EC2::LaunchTemplate'))).not.toContain('allkeys-lru');
  });

  test('authUsername: default app; override', () => {
    expect(bundleFileOf(group().rg, 'config/fleet.env')).toContain("CF_APP_USER='app'");
    expect(bundleFileOf(group({ authUsername: 'orders' }).rg, 'config/fleet.env')).toContain("CF_APP_USER='orders'");
  });
});

describe('ReplicationGroup: endpoints and outputs', () => {
  test('primary record (TTL 5 s, starts at node-0), reader over replicas, node records', () => {
    const { template, rg, stack } = group({ replicasPerShard: 2, nodeAddressOffset: 10 });
    const zone = rg.hostedZone.zoneName;
    expect(zone).toMatch(/^sessions-[0-9a-f]{6}\.cachefleet\.internal$/);
    expect(stack.resolve(rg.primaryEndpoint.hostname)).toBe(`primary.${zone}`);
    expect(rg.endpoint).toBe(rg.primaryEndpoint);
    expect(rg.readerEndpoint.hostname).toBe(`replicas.${zone}`);
    expect(rg.nodeEndpoints.map((endpoint) => endpoint.hostname)).toEqual([`node-0.${zone}`, `node-1.${zone}`, `node-2.${zone}`]);
    template.hasResourceProperties('AWS::Route53::RecordSet', { Name: `primary.${zone}.`, Type: 'A', TTL: '5', ResourceRecords: ['10.0.3.10'] });
    template.hasResourceProperties('AWS::Route53::RecordSet', { Name: `replicas.${zone}.`, Type: 'A', TTL: '5', ResourceRecords: ['10.0.4.11', '10.0.5.12'] });
    template.hasResourceProperties('AWS::Route53::RecordSet', { Name: `node-2.${zone}.`, ResourceRecords: ['10.0.5.12'] });
    template.hasResourceProperties('AWS::Route53::HostedZone', { Name: `${zone}.`, VPCs: [Match.objectLike({ VPCId: Match.anyValue() })] });
  });

  test('hostedZone: override', () => {
    const { stack, vpc } = testStack();
    const zone = new route53.PrivateHostedZone(stack, 'Zone', { zoneName: 'cache.example.internal', vpc });
    const rg = new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, hostedZone: zone });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Route53::HostedZone', 1);
    expect(rg.primaryEndpoint.hostname).toBe('primary.cache.example.internal');
  });

  test('hostedZone: two fleets cannot share one zone (their record names are the same)', () => {
    const { stack, vpc } = testStack();
    const zone = new route53.PrivateHostedZone(stack, 'Zone', { zoneName: 'cache.example.internal', vpc });
    new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, hostedZone: zone, nodeAddressOffset: 10 });
    expect(() => new ReplicationGroup(stack, 'Carts', { vpc, engine: valkey, hostedZone: zone, nodeAddressOffset: 20 })).toThrow(
      "`hostedZone` must not hold another fleet's endpoints (Test/Sessions uses it; the record names are the same in every fleet): give each fleet its own zone or leave hostedZone unset, got: \"cache.example.internal\"");
  });

  test('the default address offset names itself when the subnets are too small for it', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 28 },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 28 },
      ],
    });
    expect(() => new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey }))
      .toThrow(/^Test\/Sessions: `nodeAddressOffset` must leave room for hosts \d+ to \d+ \(the 9 addresses the fleet reserves\) in subnet 10\.0\.0\.\d+\/28: set nodeAddressOffset \(the default assumes \/24 or larger subnets\), got: "\d+ \(the default for this construct path\)"$/);
  });

  test('no stack outputs unless asked, as in aws-cdk-lib', () => {
    const { template } = group({ replicasPerShard: 2, nodeAddressOffset: 10 });
    expect(template.toJSON().Outputs ?? {}).toEqual({});
  });

  test('addOutputs: primary, reader, nodes, sentinels, secret; a second call adds nothing', () => {
    const built = group({ replicasPerShard: 2, nodeAddressOffset: 10 });
    built.rg.addOutputs();
    built.rg.addOutputs();
    const template = built.template;
    const outputs = template.toJSON().Outputs;
    const byId = (suffix: string) => Object.entries<any>(outputs).find(([id]) => id.startsWith(`Sessions${suffix}`))![1];
    expect(byId('PrimaryEndpoint').Value).toMatch(/^primary\.sessions-[0-9a-f]{6}\.cachefleet\.internal:6379$/);
    expect(byId('ReaderEndpoint').Value).toMatch(/^replicas\..*:6379$/);
    expect(byId('NodeEndpoints').Value.split(',')).toHaveLength(3);
    expect(byId('SentinelEndpoints').Value).toBe('10.0.3.10:26379,10.0.4.11:26379,10.0.5.12:26379');
    expect(byId('AuthSecretArn').Value).toEqual({ Ref: expect.stringMatching(/^SessionsAuthToken/) });
    expect(Object.keys(outputs)).toHaveLength(5);
  });
});

describe('ReplicationGroup: security', () => {
  test('node-to-node rules only: engine and Sentinel ports, from the group itself', () => {
    const { template } = group();
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'));
    expect(ingress).toHaveLength(2);
    for (const rule of ingress) expect(rule.Properties.SourceSecurityGroupId).toEqual(rule.Properties.GroupId);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { SecurityGroupIngress: Match.absent() });
  });

  test('allowDefaultPortFrom opens the engine port to a client', () => {
    const { rg, stack } = group();
    // WHEN
    const fn = new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_20_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {}'),
      vpc: stack.node.findChild('Vpc') as ec2.Vpc,
    });
    rg.connections.allowDefaultPortFrom(fn);
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 6379, ToPort: 6379, SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FnSecurityGroup'), 'GroupId'] },
    });
  });

  test('AUTH: a generated secret without characters ElastiCache or the agent refuse; the internal password is alphanumeric', () => {
    const { template } = group();
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 32, ExcludeCharacters: ' "/@\\\'`' },
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', { GenerateSecretString: { PasswordLength: 40, ExcludePunctuation: true } });
  });

  test("authToken: the user's secret replaces the generated one", () => {
    const { stack, vpc } = testStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Token', 'my-token');
    const rg = new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, authToken: secret });
    expect(rg.authSecret).toBe(secret);
    // The internal password and the admin user's remain generated.
    Template.fromStack(stack).resourceCountIs('AWS::SecretsManager::Secret', 2);
  });

  test('grantConnect grants read of the AUTH secret only', () => {
    const { stack, rg } = group();
    const role = new iam.Role(stack, 'Client', { assumedBy: new iam.AccountRootPrincipal() });
    rg.grantConnect(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Client') }],
      PolicyDocument: { Statement: [{ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Effect: 'Allow', Resource: { Ref: Match.stringLikeRegexp('^SessionsAuthToken') } }] },
    });
  });

  test('the node role: SSM core, its own volumes, interfaces, secrets and record by ARN', () => {
    const { template, stack } = group({ replicasPerShard: 2 });
    template.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonSSMManagedInstanceCore']] }],
    });
    const policy = Object.entries(resourcesOf(stack, 'AWS::IAM::Policy')).find(([id]) => id.startsWith('SessionsNodePolicy'))![1];
    const statements = Object.fromEntries(policy.Properties.PolicyDocument.Statement.map((s: any) => [s.Sid, s]));
    expect(statements.OwnVolumes.Action).toEqual(['ec2:AttachVolume', 'ec2:DetachVolume']);
    expect(statements.OwnVolumes.Resource).toHaveLength(3);
    expect(JSON.stringify(statements.OwnVolumes.Resource)).toMatch(/:volume\//);
    expect(statements.OwnInterfaces.Action).toEqual(['ec2:AttachNetworkInterface', 'ec2:DetachNetworkInterface']);
    expect(statements.OwnInterfaces.Resource).toHaveLength(3);
    expect(JSON.stringify(statements.OwnInterfaces.Resource)).toMatch(/:network-interface\//);
    expect(statements.OwnInstances.Action).toEqual(['ec2:AttachNetworkInterface', 'ec2:DetachNetworkInterface', 'ec2:AttachVolume', 'ec2:DetachVolume']);
    expect(JSON.stringify(statements.OwnInstances.Resource)).toMatch(/:instance\/\*"/);
    expect(statements.OwnInstances.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/cachefleet:fleet': expect.stringMatching(/^sessions-/) } });
    // A failed boot marks its own instance Unhealthy; the holder's state decides a force-detach.
    expect(statements.ReportOwnHealth.Action).toBe('autoscaling:SetInstanceHealth');
    expect(statements.ReportOwnHealth.Condition).toEqual({ StringEquals: { 'autoscaling:ResourceTag/cachefleet:fleet': expect.stringMatching(/^sessions-/) } });
    expect(JSON.stringify(statements.ReportOwnHealth.Resource)).toMatch(/:autoScalingGroup:\*:autoScalingGroupName\/\*"/);
    expect(statements.CompletePreStop.Condition).toEqual(statements.ReportOwnHealth.Condition);
    expect(statements.Describe.Action).toContain('ec2:DescribeInstances');
    expect(statements.MoveEndpointRecords.Condition['ForAllValues:StringEquals']['route53:ChangeResourceRecordSetsNormalizedRecordNames'])
      .toEqual([expect.stringMatching(/^primary\.sessions-[0-9a-f]{6}\.cachefleet\.internal$/), expect.stringMatching(/^replicas\.sessions-[0-9a-f]{6}\.cachefleet\.internal$/)]);
    expect(statements.PublishMetrics.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'CacheFleet' } });
    const defaultPolicy = Object.entries(resourcesOf(stack, 'AWS::IAM::Policy')).find(([id]) => id.startsWith('SessionsInstanceRoleDefaultPolicy'))![1];
    expect(defaultPolicy.Properties.PolicyDocument.Statement).toContainEqual({ Action: 'cloudformation:SignalResource', Effect: 'Allow', Resource: { Ref: 'AWS::StackId' } });
    // '*' only where the action has no resource-level permission (describe calls, PutMetricData).
    const star = policy.Properties.PolicyDocument.Statement.filter((s: any) => s.Resource === '*').map((s: any) => s.Sid);
    expect(star.sort()).toEqual(['Describe', 'PublishMetrics']);
  });

  test('tags on every taggable resource of the group', () => {
    const { stack } = group();
    const template = Template.fromStack(stack).toJSON();
    for (const [id, resource] of Object.entries<any>(template.Resources)) {
      if (!id.startsWith('Sessions')) continue;
      // These types take no tags.
      if (['AWS::EC2::SecurityGroupIngress', 'AWS::IAM::Policy', 'AWS::IAM::InstanceProfile', 'AWS::Route53::RecordSet', 'AWS::SSM::Association', 'AWS::Backup::BackupSelection'].includes(resource.Type)) continue;
      const props = resource.Properties;
      const tags = props.Tags ?? props.HostedZoneTags ?? props.BackupVaultTags ?? props.BackupPlanTags
        ?? props.LaunchTemplateData?.TagSpecifications?.[0]?.Tags ?? props.TagSpecifications?.[0]?.Tags;
      const list = Array.isArray(tags) ? tags : Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
      expect({ id, fleet: list.find((tag: any) => tag.Key === 'cachefleet:fleet')?.Value }).toEqual({ id, fleet: expect.stringMatching(/^sessions-/) });
    }
  });
});

describe('ReplicationGroup: subnets', () => {
  test('isolated subnets are refused at synth', () => {
    const { stack, vpc } = testStack();
    expect(() => new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }))
      .toThrow(/^Test\/Sessions: `vpcSubnets` must select private subnets with egress \(NAT\): the nodes call EC2, Secrets Manager, Route 53, SSM, S3, CloudWatch and CloudFormation, and fetch their engine from the Amazon Linux repositories or a container registry, got: "an isolated subnet in eu-west-1a \(Test\/Sessions\)"$/);
  });

  test('public subnets are refused at synth', () => {
    const { stack, vpc } = testStack();
    expect(() => new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } }))
      .toThrow('got: "a public subnet (the nodes get no public IP) in eu-west-1a (Test/Sessions)"');
  });

  test('vpcSubnets: a selection of two private subnets', () => {
    const { stack, vpc } = testStack();
    new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, replicasPerShard: 2, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, availabilityZones: ['eu-west-1a', 'eu-west-1b'] } });
    const azs = Object.values(resourcesOf(stack, 'AWS::EC2::Volume')).map((volume) => zoneOf(stack, volume.Properties.AvailabilityZone)).sort();
    expect(azs).toEqual(['eu-west-1a', 'eu-west-1a', 'eu-west-1b']);
  });

  test('two groups in one stack get distinct addresses; a clash is refused', () => {
    const { stack, vpc } = testStack();
    new ReplicationGroup(stack, 'A', { vpc, engine: valkey, nodeAddressOffset: 10 });
    expect(() => new ReplicationGroup(stack, 'B', { vpc, engine: valkey, nodeAddressOffset: 10 }))
      .toThrow('`nodeAddressOffset` must give addresses no other fleet of the stack reserves (Test/A reserves it; this fleet reserves 9 from the offset): choose another offset, got: "10.0.3.10"');
    // A reserves hosts 10 to 18 in every subnet, whether or not its slots take them now: 18 is refused, 19 is free.
    expect(() => new ReplicationGroup(stack, 'D', { vpc, engine: valkey, nodeAddressOffset: 18 }))
      .toThrow('`nodeAddressOffset` must give addresses no other fleet of the stack reserves (Test/A reserves it; this fleet reserves 9 from the offset): choose another offset, got: "10.0.3.18"');
    new ReplicationGroup(stack, 'C', { vpc, engine: valkey, nodeAddressOffset: 19 });
  });
});

describe('ReplicationGroup: metrics', () => {
  test.each([
    ['metricCPUUtilization', 'CPUUtilization', 'Average'],
    ['metricCurrConnections', 'CurrConnections', 'Average'],
    ['metricDatabaseMemoryUsagePercentage', 'DatabaseMemoryUsagePercentage', 'Average'],
    ['metricReplicationLag', 'ReplicationLag', 'Maximum'],
    ['metricBackupFailed', 'BackupFailed', 'Maximum'],
  ])('%s reads %s (%s over 1 minute) from the fleet dimension', (method, name, statistic) => {
    const { rg } = group();
    const metric = (rg as any)[method]();
    expect(metric.namespace).toBe('CacheFleet');
    expect(metric.metricName).toBe(name);
    expect(metric.statistic).toBe(statistic);
    expect(metric.period.toSeconds()).toBe(60);
    expect(metric.dimensions).toEqual({ Fleet: rg.fleetId });
  });

  test('metric(name, props) overrides', () => {
    const { rg } = group();
    const metric = rg.metric('Evictions', { statistic: 'Sum', period: Duration.minutes(5) });
    expect(metric.metricName).toBe('Evictions');
    expect(metric.statistic).toBe('Sum');
  });
});

describe('ReplicationGroup: import', () => {
  test('fromReplicationGroupAttributes', () => {
    const stack = new Stack();
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-12345');
    const imported = ReplicationGroup.fromReplicationGroupAttributes(stack, 'Imported', {
      replicationGroupId: 'sessions-abc123', primaryEndpointAddress: 'primary.example', port: 6380, securityGroups: [sg],
    });
    expect(imported.endpoint.socketAddress).toBe('primary.example:6380');
    expect(imported.readerEndpoint.hostname).toBe('primary.example');
    expect(imported.connections.defaultPort?.toString()).toBe('6380');
    expect(imported.metric('CurrConnections').dimensions).toEqual({ Fleet: 'sessions-abc123' });
  });

  test('fromReplicationGroupAttributes: a missing attribute is named', () => {
    const stack = new Stack();
    expect(() => ReplicationGroup.fromReplicationGroupAttributes(stack, 'Imported', { replicationGroupId: 'x', port: 6379, securityGroups: [] } as any))
      .toThrow('`primaryEndpointAddress` is required to import a fleet, got: undefined');
  });
});

describe('ReplicationGroup: invalid props', () => {
  test.each(INVALID_REPLICATION_GROUP_PROPS)('%s', (_what, props, message) => {
    const { stack, vpc } = testStack();
    let error: unknown;
    try {
      new ReplicationGroup(stack, 'Sessions', { vpc, ...props } as unknown as ReplicationGroupProps);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe(`${stack.node.path}/Sessions: ${message}`);
    expect(Template.fromStack(stack).findResources('AWS::AutoScaling::AutoScalingGroup')).toEqual({});
  });

  test.each([
    ['a string node type', () => ({ nodeType: 'cache.r7g.large' }), "`nodeType` must be a NodeType (NodeType.of('cache.r7g.large') or NodeType.fromInstanceType(...)), got: \"cache.r7g.large\""],
    ['an address offset below 4', () => ({ nodeAddressOffset: 2 }), '`nodeAddressOffset` must be an integer of at least 4 known at synth time (AWS reserves the first four addresses of a subnet), got: 2'],
    ['an address offset past the subnet', () => ({ nodeAddressOffset: 255 }), '`nodeAddressOffset` must leave room for hosts 255 to 263 (the 9 addresses the fleet reserves) in subnet 10.0.3.0/24: choose a smaller offset or larger subnets, got: 255'],
    ['no VPC', () => ({ vpc: undefined }), '`vpc` is required: the VPC the nodes run in (an ec2.IVpc), got: undefined'],
    ['a VPC id', () => ({ vpc: 'vpc-1' }), '`vpc` must be an ec2.IVpc (new ec2.Vpc(...), ec2.Vpc.fromVpcAttributes(...)), got: "vpc-1"'],
    ['a string subnet selection', () => ({ vpcSubnets: 'private' }), '`vpcSubnets` must be an ec2.SubnetSelection ({ subnetType: ... }, { subnetGroupName: ... } or { subnets: [...] }), got: "private"'],
    ['an unknown subnet group', () => ({ vpcSubnets: { subnetGroupName: 'Nope' } }), /^`vpcSubnets` must select subnets of the VPC \(There are no subnet groups with name 'Nope' in this VPC\. .*\), got: \{"subnetGroupName":"Nope"\}$/],
    ['a number of GiB', () => ({ dataVolumeSize: 20 }), '`dataVolumeSize` must be a Size of whole gibibytes between 1 and 16384 (gp3), such as Size.gibibytes(50), got: 20'],
    ['0 GiB', () => ({ dataVolumeSize: Size.gibibytes(0) }), '`dataVolumeSize` must be a Size of whole gibibytes between 1 and 16384 (gp3), such as Size.gibibytes(50), got: "0 GiB"'],
    ['16 TiB + 1 GiB', () => ({ dataVolumeSize: Size.gibibytes(16_385) }), '`dataVolumeSize` must be a Size of whole gibibytes between 1 and 16384 (gp3), such as Size.gibibytes(50), got: "16385 GiB"'],
    ['1500 MiB', () => ({ dataVolumeSize: Size.mebibytes(1500) }), '`dataVolumeSize` must be a Size of whole gibibytes between 1 and 16384 (gp3), such as Size.gibibytes(50), got: "1500 MiB"'],
    ['an unknown removal policy', () => ({ removalPolicy: 'keep' }), '`removalPolicy` must be a RemovalPolicy (RemovalPolicy.DESTROY, RemovalPolicy.RETAIN, RemovalPolicy.SNAPSHOT, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE), got: "keep"'],
    ['an AMI id', () => ({ machineImage: 'ami-0123' }), '`machineImage` must be an ec2.IMachineImage (ec2.MachineImage.latestAmazonLinux2023(), …), got: "ami-0123"'],
    ['a literal token', () => ({ authToken: 'literal-token-0123456789' }), '`authToken` must be a secretsmanager.ISecret whose value is the AUTH token, got: "literal-token-0123456789"'],
    ['a zone name', () => ({ hostedZone: 'cache.internal' }), '`hostedZone` must be a route53.IPrivateHostedZone associated with the VPC, got: "cache.internal"'],
    ['a token size', () => ({ dataVolumeSize: Size.gibibytes(Token.asNumber(Lazy.number({ produce: () => 50 }))) }), '`dataVolumeSize` must be a Size of whole gibibytes between 1 and 16384 (gp3), such as Size.gibibytes(50), known at synth time, got: "a token"'],
    ['an image whose getImage is not a function', () => ({ machineImage: { getImage: 5 } }), '`machineImage` must be an ec2.IMachineImage (ec2.MachineImage.latestAmazonLinux2023(), …), got: {"getImage":5}'],
    ['an unknown subnet type', () => ({ vpcSubnets: { subnetType: 'Nope' } }), /^`vpcSubnets.subnetType` must be an ec2.SubnetType \(SubnetType.PRIVATE_ISOLATED, .*\), got: "Nope"$/],
    ['cluster mode: more shards than one stack holds', () => ({ clusterMode: ClusterMode.ENABLED, shards: 20, replicasPerShard: 1 }),
      '`shards` must be at most 19 with 1 replica(s) per shard on EC2: a larger group does not fit one CloudFormation stack (at most 500 resources, of which each node takes 4, ' +
      'and the nodes\' role\'s policies at most 10,240 characters, of which each node takes its volume\'s and its interface\'s ARN), got: 20'],
    ['cluster mode: an offset that leaves no room for the shards', () => ({ clusterMode: ClusterMode.ENABLED, nodeAddressOffset: 240 }),
      '`nodeAddressOffset` must leave room for hosts 240 to 257 (the 18 addresses the fleet reserves) in subnet 10.0.3.0/24: choose a smaller offset or larger subnets, got: 240'],
  ])('AWS: %s', (_what, props, message) => {
    const { stack, vpc } = testStack();
    let error: unknown;
    try {
      new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, ...(props() as any) });
    } catch (caught) {
      error = caught;
    }
    expect((error as Error)?.name).toBe('ValidationError');
    const located = `${stack.node.path}/Sessions: `;
    expect((error as Error).message.startsWith(located)).toBe(true);
    const unlocated = (error as Error).message.slice(located.length);
    if (typeof message === 'string') expect(unlocated).toBe(message);
    else expect(unlocated).toMatch(message);
    // Refused before any resource of the group exists.
    expect(Object.keys(Template.fromStack(stack).toJSON().Resources ?? {}).filter((id) => id.startsWith('Sessions'))).toEqual([]);
  });
});

test('NodeType.of refuses a node type without cache. (before any construct: its message names no construct)', () => {
  expect(() => NodeType.of('r7g.large'))
    .toThrow(new ValidationError('nodeType', 'r7g.large', 'must be an ElastiCache node type such as "cache.r7g.large" (`cache.` then an EC2 instance type)'));
  expect(() => NodeType.of('r7g.large'))
    .toThrow('`nodeType` must be an ElastiCache node type such as "cache.r7g.large" (`cache.` then an EC2 instance type), got: "r7g.large"');
});

describe('ReplicationGroup: snapshots', () => {
  // One readable snapshot of the flavor's replication group; the assertions above carry the proof.
  test('1 + 2 Valkey', () => {
    const { stack } = group({ replicasPerShard: 2 });
    expect(maskedTemplate(stack, 'Sessions')).toMatchSnapshot();
  });
});
