import { App, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { memcached, redis62, resourcesOf, testStack, valkey, ZONES } from './fixtures';
import { CacheCluster, NodeType, ReplicationGroup, ReplicationGroupProps } from '../../src/aws';
import { CacheEngine, RedisEngineVersion } from '../../src/core/engine';
import { ValidationError } from '../../src/core/errors';
import { ClusterMode } from '../../src/core/fleet-options';
import { ParameterGroup } from '../../src/core/parameters/parameter-group';

function group(props: Partial<ReplicationGroupProps> = {}) {
  const { stack, vpc } = testStack();
  const rg = new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, ...props });
  return { stack, vpc, rg, template: () => Template.fromStack(stack) };
}

/** The data volumes' sizes (GiB), by slot. */
function volumeSizes(stack: Stack): Record<string, number> {
  return Object.fromEntries(Object.entries(resourcesOf(stack, 'AWS::EC2::Volume'))
    .map(([id, volume]) => [/Sessions(node\d|sentinel\d)/.exec(id)![1], volume.Properties.Size]));
}

/** The node policy's statements by Sid. */
function nodeStatements(stack: Stack, fleet = 'Sessions'): Record<string, any> {
  const policy = Object.entries(resourcesOf(stack, 'AWS::IAM::Policy')).find(([id]) => id.startsWith(`${fleet}NodePolicy`))![1];
  return Object.fromEntries(policy.Properties.PolicyDocument.Statement.map((s: any) => [s.Sid, s]));
}

describe('dataVolumeSize: the default follows the node\'s maxmemory', () => {
  // maxmemory = memory × (100 − 25) / 100 with the Valkey catalog's default reserved-memory-percent
  // (25, ElastiCache's); the default volume is 2.5 × that, at least 20 GiB, rounded up.
  test.each([
    ['cache.t4g.medium', 20], // 4 GiB: 7.5 GiB, raised to the 20 GiB minimum
    ['cache.m7g.large', 20], // 8 GiB: 15 GiB -> 20
    ['cache.m7g.xlarge', 30], // 16 GiB: 30 GiB exactly
    ['cache.r7g.large', 30], // 16 GiB
    ['cache.r6g.xlarge', 60], // 32 GiB
    ['cache.m5.2xlarge', 60], // 32 GiB
    ['cache.c7g.large', 20], // 4 GiB
    ['cache.c7g.2xlarge', 30], // 16 GiB
    ['cache.r7g.4xlarge', 240], // 128 GiB
    ['cache.t3.micro', 20], // 1 GiB
    ['cache.x2gd.large', 60], // 32 GiB
    ['cache.r5.12xlarge', 720], // 384 GiB
    ['cache.m7i-flex.4xlarge', 120], // 64 GiB
  ])('%s: %i GiB', (nodeType, gib) => {
    const { stack } = group({ replicasPerShard: 1, nodeType: NodeType.of(nodeType) });
    // The sentinel-only slot keeps its 1 GiB.
    expect(volumeSizes(stack)).toEqual({ node0: gib, node1: gib, sentinel0: 1 });
  });

  test('a larger reserved-memory-percent gives less maxmemory, so a smaller default', () => {
    const { stack, vpc } = testStack();
    const parameterGroup = new ParameterGroup(stack, 'Params', { engine: valkey, parameters: { 'reserved-memory-percent': '50' } });
    new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, replicasPerShard: 0, nodeType: NodeType.of('cache.r7g.xlarge'), parameterGroup });
    // 32 GiB × 50 % × 2.5 = 40 GiB.
    expect(volumeSizes(stack)).toEqual({ node0: 40 });
  });

  test('a given size wins over the default', () => {
    const { stack } = group({ replicasPerShard: 0, nodeType: NodeType.of('cache.r7g.4xlarge'), dataVolumeSize: Size.gibibytes(50) });
    expect(volumeSizes(stack)).toEqual({ node0: 50 });
  });

  test('a node type whose memory is unknown needs an explicit size', () => {
    const { stack, vpc } = testStack();
    expect(() => new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, nodeType: NodeType.of('cache.r7g.metal') }))
      .toThrow(new ValidationError('dataVolumeSize', undefined,
        "must be given for node type cache.r7g.metal, whose memory cachefleet does not know (the default is 2.5 times the node's maxmemory): set it to at least 2.5 times the node's memory, such as Size.gibibytes(100)", false, 'Test/Sessions'));
    new ReplicationGroup(stack, 'Given', { vpc, engine: valkey, nodeType: NodeType.of('cache.r7g.metal'), dataVolumeSize: Size.gibibytes(1000), nodeAddressOffset: 100 });
  });

  test('Memcached nodes have no data volume whatever the node type', () => {
    const { stack, vpc } = testStack();
    new CacheCluster(stack, 'Pages', { vpc, engine: memcached, numCacheNodes: 2, nodeType: NodeType.of('cache.r7g.metal') });
    Template.fromStack(stack).resourceCountIs('AWS::EC2::Volume', 0);
  });
});

describe('the machine image is resolved at launch, not at deploy', () => {
  /**
   * The launch template as CloudFormation deploys it under a given AL2023 release: every value
   * CloudFormation resolves at deploy time from SSM (a parameter of an SSM type, a `{{resolve:ssm:}}`
   * dynamic reference) or that synth read from context takes that release's AMI id.
   */
  function deployedLaunchTemplate(ami: string, context: Record<string, string> = {}, props: Partial<ReplicationGroupProps> = {}): unknown {
    const app = new App({ context });
    const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0a0',
      availabilityZones: ZONES,
      privateSubnetIds: ['subnet-0a', 'subnet-0b', 'subnet-0c'],
      privateSubnetIpv4CidrBlocks: ['10.0.3.0/24', '10.0.4.0/24', '10.0.5.0/24'],
    });
    new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, ...props });
    const template = Template.fromStack(stack).toJSON();
    const ssmParameters = new Set(Object.entries<any>(template.Parameters ?? {})
      .filter(([, parameter]) => String(parameter.Type).startsWith('AWS::SSM::Parameter::Value<') && !String(parameter.Default).startsWith('/cdk-bootstrap/'))
      .map(([name]) => name));
    const resolve = (value: any): any => {
      if (Array.isArray(value)) return value.map(resolve);
      if (value && typeof value === 'object') {
        if (typeof value.Ref === 'string' && ssmParameters.has(value.Ref)) return ami;
        return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, resolve(inner)]));
      }
      return typeof value === 'string' ? value.replace(/\{\{resolve:ssm:[^}]+\}\}/g, ami) : value;
    };
    const [launchTemplate] = Object.values<any>(template.Resources).filter((resource) => resource.Type === 'AWS::EC2::LaunchTemplate');
    return resolve(launchTemplate);
  }

  test('two AL2023 releases, as SSM values or as context lookups, deploy the same launch template', () => {
    const contextOf = (ami: string) => Object.fromEntries(['x86_64', 'arm64'].flatMap((arch) => [
      `ssm:account=123456789012:parameterName=/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${arch}:region=eu-west-1`,
      `ssm:account=123456789012:parameterName=/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-${arch}:region=eu-west-1`,
    ].map((key) => [key, ami])));
    const before = deployedLaunchTemplate('ami-0aaaaaaaaaaaaaaaa', contextOf('ami-0aaaaaaaaaaaaaaaa'));
    const after = deployedLaunchTemplate('ami-0bbbbbbbbbbbbbbbb', contextOf('ami-0bbbbbbbbbbbbbbbb'));
    expect(after).toEqual(before);
    expect((before as any).Properties.LaunchTemplateData.ImageId).toBe('resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64');
  });

  test('the template carries no AMI parameter of its own', () => {
    const { template } = group();
    const parameters = Object.values<any>(template().toJSON().Parameters ?? {});
    expect(parameters.filter((parameter) => String(parameter.Type).includes('AWS::EC2::Image::Id'))).toEqual([]);
  });

  test('a given machine image is used as it is', () => {
    const pinned = deployedLaunchTemplate('ami-0aaaaaaaaaaaaaaaa', {}, { machineImage: ec2.MachineImage.genericLinux({ 'eu-west-1': 'ami-0123456789abcdef0' }) });
    expect((pinned as any).Properties.LaunchTemplateData.ImageId).toBe('ami-0123456789abcdef0');
    // One resolved at deploy time follows the release: the user's choice, kept.
    const followed = (ami: string) => deployedLaunchTemplate(ami, {}, { machineImage: ec2.MachineImage.latestAmazonLinux2023() });
    expect((followed('ami-0aaaaaaaaaaaaaaaa') as any).Properties.LaunchTemplateData.ImageId).toBe('ami-0aaaaaaaaaaaaaaaa');
  });
});

describe('deploys that fail loudly and in order', () => {
  test('the configuration association makes CloudFormation wait for its success: 120 s a node, at least 600 s', () => {
    group({ replicasPerShard: 2 }).template().hasResourceProperties('AWS::SSM::Association', { WaitForSuccessTimeoutSeconds: 600, MaxErrors: '0' });
    const { stack, vpc } = testStack();
    new CacheCluster(stack, 'Pages', { vpc, engine: memcached, numCacheNodes: 40, nodeAddressOffset: 100 });
    Template.fromStack(stack).hasResourceProperties('AWS::SSM::Association', { WaitForSuccessTimeoutSeconds: 4800 });
  });

  test('in cluster mode the association also has the resharding budget (an hour): its command runs that long, and CloudFormation waits that much more', () => {
    const { stack, vpc } = testStack();
    new ReplicationGroup(stack, 'Orders', { vpc, engine: valkey, clusterMode: ClusterMode.ENABLED, shards: 3, replicasPerShard: 1 });
    Template.fromStack(stack).hasResourceProperties('AWS::SSM::Association', {
      // 6 nodes: 720 s, plus 3,600 s; each node's command may take the budget and 2 minutes more.
      WaitForSuccessTimeoutSeconds: 720 + 3600,
      Parameters: { commands: Match.anyValue(), executionTimeout: ['3720'] },
    });
    // Without cluster mode there is no resharding: the command keeps SSM's default timeout.
    const { stack: other, vpc: otherVpc } = testStack();
    new ReplicationGroup(other, 'Sessions', { vpc: otherVpc, engine: valkey, replicasPerShard: 1 });
    expect(Object.values<any>(Template.fromStack(other).findResources('AWS::SSM::Association'))[0].Properties.Parameters.executionTimeout).toBeUndefined();
  });

  test('with the VPC in the stack, each node group waits for its own subnet\'s route out (NAT)', () => {
    const { stack } = group({ replicasPerShard: 2 });
    const resources = Template.fromStack(stack).toJSON().Resources;
    const groups = Object.values<any>(resources).filter((r) => r.Type === 'AWS::AutoScaling::AutoScalingGroup');
    expect(groups).toHaveLength(3);
    for (const asg of groups) {
      // VpcPrivateSubnet1Subnet<hash> -> VpcPrivateSubnet1DefaultRoute<hash>, its route to the NAT gateway.
      const subnet: string = asg.Properties.VPCZoneIdentifier[0].Ref;
      const route = Object.keys(resources).find((id) => id.startsWith(`${subnet.replace(/Subnet[0-9A-F]{8}$/, '')}DefaultRoute`))!;
      expect(resources[route].Properties.NatGatewayId).toBeDefined();
      expect(asg.DependsOn).toContain(route);
    }
  });

  test('with an imported VPC, nothing to wait for', () => {
    const stack = new Stack(new App(), 'Test');
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0a0',
      availabilityZones: ZONES,
      privateSubnetIds: ['subnet-0a', 'subnet-0b', 'subnet-0c'],
      privateSubnetIpv4CidrBlocks: ['10.0.3.0/24', '10.0.4.0/24', '10.0.5.0/24'],
    });
    new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey });
    Template.fromStack(stack).resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 3);
  });
});

describe('the nodes read only their own bundle, parameter and secrets', () => {
  test('the bundle: s3:GetObject on its one object, nothing on the bucket', () => {
    const { stack, rg } = group();
    const statements = nodeStatements(stack);
    expect(statements.ReadOwnBundle.Action).toBe('s3:GetObject');
    const arn = JSON.stringify(stack.resolve(statements.ReadOwnBundle.Resource));
    expect(arn).toContain(':s3:::');
    expect(arn).toContain('cdk-hnb659fds-assets-');
    expect(arn).toMatch(/"\/[0-9a-f]{64}\.zip"\]\]\}$/);
    expect(arn).not.toContain('*');
    const all = JSON.stringify(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
    expect(all).not.toMatch(/s3:(GetBucket|List)/);
    expect(all).not.toContain('s3:GetObject*');
    expect(rg.role).toBeDefined();
  });

  test('SSM: the bundle-location parameter read; the image parameter read and written; secrets: the AUTH token, the internal and the admin password', () => {
    const { stack } = group();
    const defaultPolicy = Object.entries(resourcesOf(stack, 'AWS::IAM::Policy')).find(([id]) => id.startsWith('SessionsInstanceRoleDefaultPolicy'))![1];
    const statements: any[] = defaultPolicy.Properties.PolicyDocument.Statement;
    const ssm = statements.filter((s) => [s.Action].flat().some((action: string) => action.startsWith('ssm:')));
    const byParameter = (name: string) => ssm.filter((s) => JSON.stringify(s.Resource).includes(name)).flatMap((s) => [s.Action].flat()).sort();
    expect(ssm.every((s) => JSON.stringify(s.Resource).includes('parameter/') && !JSON.stringify(s.Resource).includes('*'))).toBe(true);
    expect(byParameter('SessionsBundleLocation')).toEqual(['ssm:DescribeParameters', 'ssm:GetParameter', 'ssm:GetParameterHistory', 'ssm:GetParameters']);
    expect(byParameter('SessionsPinnedImage')).toEqual(['ssm:DescribeParameters', 'ssm:GetParameter', 'ssm:GetParameterHistory', 'ssm:GetParameters', 'ssm:PutParameter']);
    expect(ssm.length).toBe(ssm.filter((s) => /SessionsBundleLocation|SessionsPinnedImage/.test(JSON.stringify(s.Resource))).length);
    const secrets = statements.filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue')).map((s) => s.Resource.Ref.replace(/[0-9A-F]{8}$/, ''));
    expect(secrets.sort()).toEqual(['SessionsAdminToken', 'SessionsAuthToken', 'SessionsInternalPassword']);
  });
});

describe('an image named by tag only is pinned by the fleet', () => {
  test('a parameter holds the tag (CloudFormation writes it), tagged to the instances for the agent to add the digest', () => {
    const { stack, rg } = group();
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SSM::Parameter', { Type: 'String', Value: valkey.installation.containerImage });
    expect(valkey.installation.containerImage).not.toContain('@sha256:');
    const parameter = Object.keys(resourcesOf(stack, 'AWS::SSM::Parameter')).find((id) => id.startsWith('SessionsPinnedImage'))!;
    template.allResourcesProperties('AWS::AutoScaling::AutoScalingGroup', {
      Tags: Match.arrayWith([{ Key: 'cachefleet:image-parameter', PropagateAtLaunch: true, Value: { Ref: parameter } }]),
    });
    expect(rg.role).toBeDefined();
  });

  test.each([
    ['Redis 6.2 (an AL2023 package)', redis62],
    ['Memcached (an AL2023 package)', memcached],
    ['Redis 7.2 (an image pinned by digest)', CacheEngine.redis({ version: RedisEngineVersion.VER_7_2 })],
  ])('%s: no parameter, no tag', (_name, engine) => {
    const { stack, vpc } = testStack();
    if (engine === memcached) new CacheCluster(stack, 'Sessions', { vpc, engine });
    else new ReplicationGroup(stack, 'Sessions', { vpc, engine });
    expect(Object.keys(resourcesOf(stack, 'AWS::SSM::Parameter')).filter((id) => id.startsWith('SessionsPinnedImage'))).toEqual([]);
    expect(JSON.stringify(Template.fromStack(stack).toJSON())).not.toContain('image-parameter');
  });

  test('a mirror keeps the tag: the parameter holds the mirror\'s reference', () => {
    const { stack } = group({ containerRegistry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecr-public' });
    Template.fromStack(stack).hasResourceProperties('AWS::SSM::Parameter', {
      Value: valkey.installation.containerImage.replace('public.ecr.aws', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecr-public'),
    });
  });
});

describe('the admin user\'s secret', () => {
  test('generated for Redis and Valkey, tagged to the instances, exposed as adminSecret', () => {
    const { stack, rg } = group();
    expect(rg.adminSecret).toBeDefined();
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Description: Match.stringLikeRegexp('the password of the admin user'),
      GenerateSecretString: { PasswordLength: 32, ExcludeCharacters: ' "/@\\\'`' },
    });
    const adminRef = { Ref: stack.getLogicalId(rg.adminSecret!.node.defaultChild as any) };
    template.allResourcesProperties('AWS::AutoScaling::AutoScalingGroup', {
      Tags: Match.arrayWith([{ Key: 'cachefleet:admin-secret-id', PropagateAtLaunch: true, Value: adminRef }]),
    });
    // Not the AUTH token: grantConnect gives only the application's.
    expect(rg.adminSecret).not.toBe(rg.authSecret);
  });

  test('none for Memcached', () => {
    const { stack, vpc } = testStack();
    const cc = new CacheCluster(stack, 'Pages', { vpc, engine: memcached });
    expect(cc.adminSecret).toBeUndefined();
    expect(JSON.stringify(Template.fromStack(stack).toJSON())).not.toContain('admin-secret-id');
  });
});

describe('allowSentinelFrom', () => {
  test('opens the Sentinel port (26379) to the peer, beside connections for the engine port', () => {
    const { stack, vpc, rg } = group({ replicasPerShard: 2 });
    const clients = new ec2.SecurityGroup(stack, 'Clients', { vpc });
    rg.allowSentinelFrom(clients);
    rg.connections.allowDefaultPortFrom(clients);
    const ingress = Object.values<any>(Template.fromStack(stack).findResources('AWS::EC2::SecurityGroupIngress'))
      .filter((r) => JSON.stringify(r.Properties.SourceSecurityGroupId).includes('Clients'))
      .map((r) => [r.Properties.FromPort, r.Properties.ToPort, r.Properties.Description]);
    expect(ingress.sort()).toEqual([[26379, 26379, 'clients: Sentinel'], [6379, 6379, expect.stringMatching(/^from TestClients[0-9A-F]{8}:6379$/)]]);
  });

  test('a CIDR peer', () => {
    const { stack, rg } = group();
    rg.allowSentinelFrom(ec2.Peer.ipv4('10.1.0.0/16'), 'the app VPC');
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: Match.arrayWith([{ CidrIp: '10.1.0.0/16', Description: 'the app VPC', FromPort: 26379, IpProtocol: 'tcp', ToPort: 26379 }]),
    });
  });

  test('refused on a group without sentinels', () => {
    const { stack, vpc, rg } = group({ replicasPerShard: 0 });
    expect(() => rg.allowSentinelFrom(new ec2.SecurityGroup(stack, 'Clients', { vpc })))
      .toThrow(new ValidationError('replicasPerShard', 0, 'must be at least 1 for allowSentinelFrom: a group without replicas runs no sentinels', false, 'Test/Sessions'));
  });
});
