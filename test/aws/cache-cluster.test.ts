import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { maskedTemplate, memcached, readBundleFile, resourcesOf, testStack, valkey } from './fixtures';
import { CacheCluster, CacheClusterProps } from '../../src/aws';
import { ValidationError } from '../../src/core/errors';
import { ParameterGroup } from '../../src/core/parameters/parameter-group';
import { INVALID_CACHE_CLUSTER_PROPS } from '../shared/invalid-fleet-props';

function cluster(props: Partial<CacheClusterProps> = {}) {
  const { stack, vpc } = testStack();
  const cc = new CacheCluster(stack, 'Pages', { vpc, engine: memcached, ...props });
  return {
    stack,
    vpc,
    cc,
    get template() {
      return Template.fromStack(stack);
    },
  };
}

describe('CacheCluster: Memcached', () => {
  test('default: one node, no data volume, no secret, no node-to-node ingress', () => {
    const { template, cc } = cluster();
    template.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 1);
    template.resourceCountIs('AWS::EC2::Volume', 0);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    expect(cc.authSecret).toBeUndefined();
    expect(cc.adminSecret).toBeUndefined();
    expect(cc.connections.defaultPort?.toString()).toBe('11211');
  });

  test('numCacheNodes: 3 nodes over 3 zones, a configuration endpoint over all of them', () => {
    const { template, cc, stack } = cluster({ numCacheNodes: 3, nodeAddressOffset: 20 });
    template.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 3);
    const zone = cc.hostedZone.zoneName;
    expect(cc.configurationEndpoint!.socketAddress).toBe(`config.${zone}:11211`);
    expect(cc.endpoint).toBe(cc.configurationEndpoint);
    expect(cc.nodeEndpoints.map((endpoint) => endpoint.hostname)).toEqual([`node-0.${zone}`, `node-1.${zone}`, `node-2.${zone}`]);
    // node-k takes host offset + k of its subnet.
    template.hasResourceProperties('AWS::Route53::RecordSet', { Name: `config.${zone}.`, TTL: '5', ResourceRecords: ['10.0.3.20', '10.0.4.21', '10.0.5.22'] });
    expect(Object.values(resourcesOf(stack, 'AWS::EC2::NetworkInterface')).map((r) => r.Properties.PrivateIpAddress).sort()).toEqual(['10.0.3.20', '10.0.4.21', '10.0.5.22']);
  });

  test('40 nodes: the largest Memcached cluster, node-k at host offset + k in its zone\'s subnet', () => {
    const { stack } = cluster({ numCacheNodes: 40, nodeAddressOffset: 100 });
    const addresses = Object.values(resourcesOf(stack, 'AWS::EC2::NetworkInterface')).map((r) => r.Properties.PrivateIpAddress);
    expect(new Set(addresses).size).toBe(40);
    // node-13 is in zone 13 % 3 = 1 (10.0.4.0/24), node-39 in zone 0.
    expect(addresses).toContain('10.0.4.113');
    expect(addresses).toContain('10.0.3.139');
  });

  test('a Memcached cluster reserves 40 hosts whatever its size: the whole block must fit in each subnet', () => {
    // 216 + 39 = 255 is the broadcast address of a /24, though one node needs only host 216.
    const { stack, vpc } = testStack();
    expect(() => new CacheCluster(stack, 'Pages', { vpc, engine: memcached, nodeAddressOffset: 216 }))
      .toThrow('`nodeAddressOffset` must leave room for hosts 216 to 255 (the 40 addresses the fleet reserves) in subnet 10.0.3.0/24: choose a smaller offset or larger subnets, got: 216');
    new CacheCluster(stack, 'Fits', { vpc, engine: memcached, nodeAddressOffset: 215 });
  });

  test('default offsets: a Memcached cluster\'s block starts on 16 + 45 × n and stays within a /24', () => {
    const offsets = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'].map((id) => {
      const { stack, vpc } = testStack();
      new CacheCluster(stack, id, { vpc, engine: memcached });
      const address: string = Object.values(resourcesOf(stack, 'AWS::EC2::NetworkInterface'))[0].Properties.PrivateIpAddress;
      return Number(address.split('.')[3]);
    });
    for (const offset of offsets) {
      expect({ offset, onGrid: (offset - 16) % 45 === 0, fits: offset + 39 <= 254 }).toEqual({ offset, onGrid: true, fits: true });
    }
    expect(new Set(offsets).size).toBeGreaterThan(1);
  });

  test('no lifecycle hook (no primary to hand over), no record permissions', () => {
    const { template } = cluster({ numCacheNodes: 2 });
    template.allResourcesProperties('AWS::AutoScaling::AutoScalingGroup', { LifecycleHookSpecificationList: Match.absent() });
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).not.toContain('route53:');
    expect(policies).not.toContain('ec2:AttachVolume"');
    expect(policies).not.toContain('autoscaling:CompleteLifecycleAction');
  });

  test('the bundle holds the memcached arguments, not Redis files', () => {
    const { cc } = cluster({ numCacheNodes: 2 });
    expect(readBundleFile(cc, 'config/memcached.args')).toContain('11211');
    expect(() => readBundleFile(cc, 'config/redis.conf')).toThrow(/ENOENT/);
  });

  test('parameterGroup: memcached parameters reach the bundle', () => {
    const { stack, vpc } = testStack();
    const params = new ParameterGroup(stack, 'Params', { engine: memcached, parameters: { max_item_size: '2097152' } });
    const cc = new CacheCluster(stack, 'Pages', { vpc, engine: memcached, parameterGroup: params });
    expect(readBundleFile(cc, 'config/memcached.args')).toMatch(/2097152|2m/);
  });

  test('port: override', () => {
    const { template, cc } = cluster({ port: 11212 });
    expect(cc.endpoint.port).toBe(11212);
    expect(cc.connections.defaultPort?.toString()).toBe('11212');
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  test('grantConnect: nothing to grant without AUTH', () => {
    const { stack, cc } = cluster();
    const role = new iam.Role(stack, 'Client', { assumedBy: new iam.AccountRootPrincipal() });
    const grant = cc.grantConnect(role);
    expect(grant.success).toBe(false);
    expect(Object.keys(Template.fromStack(stack).findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^Client') }] } }))).toEqual([]);
  });

  test('no stack outputs unless asked; addOutputs: endpoint and node endpoints', () => {
    expect(cluster({ numCacheNodes: 2 }).template.toJSON().Outputs ?? {}).toEqual({});
    const { cc, stack } = cluster({ numCacheNodes: 2 });
    cc.addOutputs();
    cc.addOutputs();
    const outputs = Template.fromStack(stack).toJSON().Outputs;
    expect(Object.keys(outputs).filter((id) => id.startsWith('Pages')).sort()).toEqual([expect.stringMatching(/^PagesEndpoint/), expect.stringMatching(/^PagesNodeEndpoints/)]);
    const value = (prefix: string) => stack.resolve(Object.entries<any>(outputs).find(([id]) => id.startsWith(prefix))![1].Value);
    expect(value('PagesEndpoint')).toEqual(stack.resolve(cc.endpoint.socketAddress));
    expect(value('PagesNodeEndpoints')).toEqual(stack.resolve(cc.nodeEndpoints.map((endpoint) => endpoint.socketAddress).join(',')));
    expect(cc.nodeEndpoints).toHaveLength(2);
  });

  test('metrics: CPU, connections, memory', () => {
    const { cc } = cluster();
    expect([cc.metricCPUUtilization(), cc.metricCurrConnections(), cc.metricDatabaseMemoryUsagePercentage()].map((m) => m.metricName))
      .toEqual(['CPUUtilization', 'CurrConnections', 'DatabaseMemoryUsagePercentage']);
    expect(cc.metricCurrConnections().dimensions).toEqual({ Fleet: cc.cacheClusterId });
  });
});

describe('CacheCluster: one Redis or Valkey node', () => {
  test('a single Valkey node: data volume, AUTH secret, the node endpoint', () => {
    const { template, cc } = cluster({ engine: valkey });
    template.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 1);
    template.resourceCountIs('AWS::EC2::Volume', 1);
    // The AUTH token, the internal users' password and the admin user's.
    template.resourceCountIs('AWS::SecretsManager::Secret', 3);
    expect(cc.adminSecret).toBeDefined();
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
    expect(cc.endpoint.hostname).toBe(`node-0.${cc.hostedZone.zoneName}`);
    expect(cc.configurationEndpoint).toBeUndefined();
    expect(readBundleFile(cc, 'config/fleet.env')).toContain("CF_KIND='standalone'");
  });
});

describe('CacheCluster: import', () => {
  test('fromCacheClusterAttributes', () => {
    const stack = new Stack();
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-12345');
    const imported = CacheCluster.fromCacheClusterAttributes(stack, 'Imported', { cacheClusterId: 'pages-abc123', endpointAddress: 'config.example', port: 11211, securityGroups: [sg] });
    expect(imported.endpoint.socketAddress).toBe('config.example:11211');
    expect(imported.cacheClusterId).toBe('pages-abc123');
  });

  test('fromCacheClusterAttributes: a missing attribute is named', () => {
    const stack = new Stack();
    expect(() => CacheCluster.fromCacheClusterAttributes(stack, 'Imported', { cacheClusterId: 'x', endpointAddress: 'y', securityGroups: [] } as any))
      .toThrow('`port` is required to import a fleet, got: undefined');
  });
});

describe('CacheCluster: invalid props', () => {
  test.each(INVALID_CACHE_CLUSTER_PROPS)('%s', (_what, props, message) => {
    const { stack, vpc } = testStack();
    let error: unknown;
    try {
      new CacheCluster(stack, 'Pages', { vpc, ...props } as unknown as CacheClusterProps);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe(`${stack.node.path}/Pages: ${message}`);
    expect(Template.fromStack(stack).findResources('AWS::AutoScaling::AutoScalingGroup')).toEqual({});
  });

  test('AWS: an AUTH token for Memcached, which has no AUTH, before any resource', () => {
    const { stack, vpc } = testStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Token', 'pages-token');
    expect(() => new CacheCluster(stack, 'Pages', { vpc, engine: memcached, authToken: secret }))
      .toThrow('`authToken` must be unset for Memcached, which has no AUTH (keep its network private), got: "a secret"');
    expect(Object.keys(Template.fromStack(stack).toJSON().Resources ?? {}).filter((id) => id.startsWith('Pages'))).toEqual([]);
  });

  test('AWS: isolated subnets', () => {
    const { stack, vpc } = testStack();
    expect(() => new CacheCluster(stack, 'Pages', { vpc, engine: memcached, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }))
      .toThrow(/^Test\/Pages: `vpcSubnets` must select private subnets with egress \(NAT\)/);
  });
});

describe('CacheCluster: snapshots', () => {
  test('3 Memcached nodes', () => {
    const { stack } = cluster({ numCacheNodes: 3 });
    expect(maskedTemplate(stack, 'Pages')).toMatchSnapshot();
  });
});
