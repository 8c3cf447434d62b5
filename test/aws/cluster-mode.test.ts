import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { maskedTemplate, readBundleFile, redis, redis62, resourcesOf, testStack, valkey } from './fixtures';
import { ReplicationGroup, ReplicationGroupProps } from '../../src/aws';
import { ValidationError } from '../../src/core/errors';
import { ClusterMode } from '../../src/core/fleet-options';

/** A cluster-mode group `Orders`: 3 shards of 1 + 1 unless the props say otherwise. */
function cluster(props: Partial<ReplicationGroupProps> = {}, zones?: string[]) {
  const { stack, vpc } = testStack(zones);
  const rg = new ReplicationGroup(stack, 'Orders', { vpc, engine: valkey, clusterMode: ClusterMode.ENABLED, replicasPerShard: 1, ...props });
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

/** The slot each auto scaling group is, by logical id. */
function slotsByGroup(stack: Stack): Record<string, string> {
  return Object.fromEntries(Object.entries(resourcesOf(stack, 'AWS::AutoScaling::AutoScalingGroup'))
    .map(([id, r]) => [id, r.Properties.Tags.find((tag: any) => tag.Key === 'cachefleet:slot').Value]));
}

/** Each slot's interface address. */
function addressesBySlot(stack: Stack): Record<string, string> {
  const groups = resourcesOf(stack, 'AWS::AutoScaling::AutoScalingGroup');
  const interfaces = resourcesOf(stack, 'AWS::EC2::NetworkInterface');
  return Object.fromEntries(Object.values(groups).map((r) => {
    const tags = Object.fromEntries(r.Properties.Tags.map((tag: any) => [tag.Key, tag.Value]));
    return [tags['cachefleet:slot'], interfaces[tags['cachefleet:interface-id'].Ref].Properties.PrivateIpAddress];
  }));
}

/** The node policy's statements by Sid. */
function nodeStatements(stack: Stack): Record<string, any> {
  const policy = Object.entries(resourcesOf(stack, 'AWS::IAM::Policy')).find(([id]) => id.startsWith('OrdersNodePolicy'))![1];
  return Object.fromEntries(policy.Properties.PolicyDocument.Statement.map((s: any) => [s.Sid, s]));
}

function thrown(build: () => unknown): Error | undefined {
  try {
    build();
  } catch (error) {
    return error as Error;
  }
  return undefined;
}

describe('cluster mode: the slots', () => {
  test('3 shards of 1 + 1 by default: six node slots, each a one-instance group with an interface, a volume and a record; no sentinel', () => {
    const { template, stack, rg } = cluster({ replicasPerShard: undefined });
    template.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 6);
    template.resourceCountIs('AWS::EC2::NetworkInterface', 6);
    template.resourceCountIs('AWS::EC2::Volume', 6);
    template.resourceCountIs('AWS::EC2::LaunchTemplate', 1);
    expect(Object.values(slotsByGroup(stack)).sort()).toEqual(['node-0', 'node-1', 'node-6', 'node-7', 'node-12', 'node-13'].sort());
    expect(rg.sentinelEndpoints).toEqual([]);
    expect(readBundleFile(rg, 'config/fleet.env')).toContain("CF_KIND='cluster'");
    expect(readBundleFile(rg, 'config/redis.conf')).toMatch(/^cluster-enabled yes$/m);
    expect(() => readBundleFile(rg, 'config/sentinel.conf')).toThrow(/ENOENT/);
  });

  test('node r of shard s, node-<6s + r>, takes host 16 + 6s + r of the subnet of zone (s + r) mod 3: primaries spread, each shard over distinct zones', () => {
    const { stack } = cluster();
    // Private subnets: 10.0.3.0/24 (zone a), 10.0.4.0/24 (b), 10.0.5.0/24 (c).
    expect(addressesBySlot(stack)).toEqual({
      'node-0': '10.0.3.16',
      'node-1': '10.0.4.17',
      'node-6': '10.0.4.22',
      'node-7': '10.0.5.23',
      'node-12': '10.0.5.28',
      'node-13': '10.0.3.29',
    });
  });

  test('the default offset is 16 whatever the shards and the construct path: a change of shards moves no address', () => {
    const three = addressesBySlot(cluster({ shards: 3 }).stack);
    const four = addressesBySlot(cluster({ shards: 4 }).stack);
    for (const [slot, address] of Object.entries(three)) expect(four[slot]).toBe(address);
    expect(four['node-18']).toBe('10.0.3.34');
    const { stack, vpc } = testStack();
    new ReplicationGroup(stack, 'AnotherName', { vpc, engine: valkey, clusterMode: ClusterMode.ENABLED });
    expect(addressesBySlot(stack)['node-0']).toBe('10.0.3.16');
  });

  test('nodeAddressOffset: override', () => {
    const { stack } = cluster({ nodeAddressOffset: 100 });
    expect(addressesBySlot(stack)['node-13']).toBe('10.0.3.113');
  });

  test('slots are created and updated one at a time: every shard\'s replicas, then the primaries, the former (shard 0\'s) last', () => {
    const { stack } = cluster({ replicasPerShard: 2 });
    const slots = slotsByGroup(stack);
    const groups = resourcesOf(stack, 'AWS::AutoScaling::AutoScalingGroup');
    const idOf = (slot: string) => Object.keys(slots).find((id) => slots[id] === slot)!;
    const before = (slot: string) => (groups[idOf(slot)].DependsOn ?? []).filter((id: string) => id in groups).map((id: string) => slots[id]);
    const chain = ['node-1', 'node-2', 'node-7', 'node-8', 'node-13', 'node-14', 'node-12', 'node-6', 'node-0'];
    expect(before(chain[0])).toEqual([]);
    for (let i = 1; i < chain.length; i++) expect({ slot: chain[i], after: before(chain[i]) }).toEqual({ slot: chain[i], after: [chain[i - 1]] });
    for (const resource of Object.values(groups)) {
      expect(resource.UpdatePolicy.AutoScalingRollingUpdate).toMatchObject({ MaxBatchSize: 1, WaitOnResourceSignals: true });
    }
  });

  test('a termination lifecycle hook on every slot; the nodes may extend it with heartbeats while their hash slots move away', () => {
    const { template, stack } = cluster();
    template.allResourcesProperties('AWS::AutoScaling::AutoScalingGroup', {
      LifecycleHookSpecificationList: [Match.objectLike({ LifecycleHookName: 'cachefleet-pre-stop', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING' })],
    });
    expect(nodeStatements(stack).CompletePreStop.Action).toEqual(['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat']);
  });

  test.each([
    ['Valkey 8.0', valkey],
    ['Redis 7.0 (image)', redis],
    ['Redis 6.2 (AL2023 package)', redis62],
  ])('%s deploys in cluster mode', (_name, engine) => {
    const { template, rg } = cluster({ engine });
    template.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 6);
    expect(readBundleFile(rg, 'config/fleet.env')).toContain(`CF_ENGINE_VERSION='${engine.engineVersion}'`);
  });
});

describe('cluster mode: network', () => {
  test('node to node: the engine\'s port and the cluster bus (port + 10000), from the group itself; no Sentinel port', () => {
    const { template } = cluster();
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'));
    expect(ingress.map((rule) => [rule.Properties.FromPort, rule.Properties.ToPort, rule.Properties.Description]).sort())
      .toEqual([[16379, 16379, 'node to node: the cluster bus'], [6379, 6379, 'node to node: the engine (replication)']]);
    for (const rule of ingress) expect(rule.Properties.SourceSecurityGroupId).toEqual(rule.Properties.GroupId);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { SecurityGroupIngress: Match.absent() });
  });

  test('port: the bus follows it', () => {
    const { template, rg } = cluster({ port: 7000 });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 17000, ToPort: 17000 });
    expect(rg.configurationEndpoint!.port).toBe(7000);
  });

  test('clients get the engine\'s port only', () => {
    const { stack, vpc, rg } = cluster();
    const clients = new ec2.SecurityGroup(stack, 'Clients', { vpc });
    rg.connections.allowDefaultPortFrom(clients);
    const fromClients = Object.values<any>(Template.fromStack(stack).findResources('AWS::EC2::SecurityGroupIngress'))
      .filter((rule) => JSON.stringify(rule.Properties.SourceSecurityGroupId).includes('Clients'))
      .map((rule) => [rule.Properties.FromPort, rule.Properties.ToPort]);
    expect(fromClients).toEqual([[6379, 6379]]);
  });

  test('allowSentinelFrom is refused: there are no sentinels', () => {
    const { stack, vpc, rg } = cluster();
    expect(thrown(() => rg.allowSentinelFrom(new ec2.SecurityGroup(stack, 'Clients', { vpc }))))
      .toEqual(new ValidationError('clusterMode', 'ClusterMode.ENABLED',
        'must be ClusterMode.DISABLED for allowSentinelFrom: a cluster-mode group runs no sentinels (cluster-aware clients need only the engine\'s port: connections.allowDefaultPortFrom)',
        false, 'Test/Orders'));
  });
});

describe('cluster mode: endpoints', () => {
  test('the configuration endpoint: config.<zone>, a record (TTL 5 s) over every node; it is the group\'s endpoint', () => {
    const { rg, stack } = cluster();
    const zone = rg.hostedZone.zoneName;
    expect(rg.configurationEndpoint!.hostname).toBe(`config.${zone}`);
    expect(rg.configurationEndpoint!.socketAddress).toBe(`config.${zone}:6379`);
    expect(rg.endpoint).toBe(rg.configurationEndpoint);
    const config = Object.values<any>(resourcesOf(stack, 'AWS::Route53::RecordSet')).find((r) => r.Properties.Name === `config.${zone}.`)!;
    expect(config.Properties).toMatchObject({ Type: 'A', TTL: '5' });
    expect([...config.Properties.ResourceRecords].sort()).toEqual(Object.values(addressesBySlot(stack)).sort());
  });

  test('node endpoints per shard, with their hash slots; every node\'s record', () => {
    const { template, rg } = cluster();
    const zone = rg.hostedZone.zoneName;
    expect(rg.shardEndpoints.map((shard) => ({ ...shard, nodeEndpoints: shard.nodeEndpoints.map((endpoint) => endpoint.socketAddress) }))).toEqual([
      { shard: 0, firstHashSlot: 0, lastHashSlot: 5460, nodeEndpoints: [`node-0.${zone}:6379`, `node-1.${zone}:6379`] },
      { shard: 1, firstHashSlot: 5461, lastHashSlot: 10921, nodeEndpoints: [`node-6.${zone}:6379`, `node-7.${zone}:6379`] },
      { shard: 2, firstHashSlot: 10922, lastHashSlot: 16383, nodeEndpoints: [`node-12.${zone}:6379`, `node-13.${zone}:6379`] },
    ]);
    const hostnames = (endpoints: Array<{ hostname: string }>) => endpoints.map((endpoint) => endpoint.hostname);
    expect(hostnames(rg.nodeEndpoints)).toEqual(rg.shardEndpoints.flatMap((shard) => hostnames(shard.nodeEndpoints)));
    template.hasResourceProperties('AWS::Route53::RecordSet', { Name: `node-13.${zone}.`, TTL: '5', ResourceRecords: ['10.0.3.29'] });
  });

  test('no primary or reader record: reading primaryEndpoint or readerEndpoint is refused, naming configurationEndpoint', () => {
    const { stack, rg } = cluster();
    const names = Object.values<any>(resourcesOf(stack, 'AWS::Route53::RecordSet')).map((r) => r.Properties.Name.split('.')[0]);
    expect(names.filter((name) => !/^node-\d+$/.test(name))).toEqual(['config']);
    for (const name of ['primaryEndpoint', 'readerEndpoint']) {
      expect(thrown(() => (rg as any)[name])).toEqual(new ValidationError('clusterMode', 'ClusterMode.ENABLED',
        `must be ClusterMode.DISABLED to read ${name}: each shard of a cluster-mode group has its own primary, which the engine fails over; cluster-aware clients connect to configurationEndpoint`,
        false, 'Test/Orders'));
    }
  });

  test('with cluster mode disabled: no configuration endpoint, no shards; the primary endpoint is the endpoint', () => {
    const { stack, vpc } = testStack();
    const rg = new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey });
    expect(rg.configurationEndpoint).toBeUndefined();
    expect(rg.shardEndpoints).toEqual([]);
    expect(rg.endpoint).toBe(rg.primaryEndpoint);
  });

  test('addOutputs: the configuration endpoint, every node, each shard\'s nodes and the secret', () => {
    const built = cluster();
    built.rg.addOutputs();
    built.rg.addOutputs();
    const outputs = built.template.toJSON().Outputs;
    const byId = (name: string) => Object.entries<any>(outputs).find(([id]) => id.startsWith(`Orders${name}`))?.[1].Value;
    const zone = built.rg.hostedZone.zoneName;
    expect(Object.keys(outputs).map((id) => id.replace(/^Orders/, '').replace(/[0-9A-F]{8}$/, '')).sort())
      .toEqual(['AuthSecretArn', 'ConfigurationEndpoint', 'NodeEndpoints', 'Shard0NodeEndpoints', 'Shard1NodeEndpoints', 'Shard2NodeEndpoints']);
    expect(byId('ConfigurationEndpoint')).toBe(`config.${zone}:6379`);
    expect(byId('Shard1NodeEndpoints')).toBe(`node-6.${zone}:6379,node-7.${zone}:6379`);
    expect(byId('NodeEndpoints').split(',')).toHaveLength(6);
  });
});

describe('cluster mode: what the nodes may do and are told', () => {
  test('no Sentinel tags, no record permissions: the engine fails over, no record moves', () => {
    const { stack, template } = cluster();
    const tags = Object.values<any>(template.findResources('AWS::AutoScaling::AutoScalingGroup')).flatMap((r) => r.Properties.Tags.map((tag: any) => tag.Key));
    expect(tags.filter((key) => /record|hosted-zone/.test(key))).toEqual([]);
    expect(tags).toEqual(expect.arrayContaining(['cachefleet:slot', 'cachefleet:volume-id', 'cachefleet:interface-id', 'cachefleet:app-secret-id', 'cachefleet:admin-secret-id']));
    const statements = nodeStatements(stack);
    expect(Object.keys(statements).sort()).toEqual(['CompletePreStop', 'Describe', 'OwnInstances', 'OwnInterfaces', 'OwnVolumes', 'PublishMetrics', 'ReadOwnBundle', 'ReportOwnHealth']);
    expect(statements.OwnVolumes.Resource).toHaveLength(6);
    expect(statements.OwnInterfaces.Resource).toHaveLength(6);
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('route53:');
  });

  test('with cluster mode disabled, the lifecycle action is only completed (no heartbeat)', () => {
    const { stack, vpc } = testStack();
    new ReplicationGroup(stack, 'Orders', { vpc, engine: valkey });
    expect(nodeStatements(stack).CompletePreStop.Action).toBe('autoscaling:CompleteLifecycleAction');
  });
});

describe('cluster mode: metrics per shard', () => {
  test('metricForShard reads the Fleet and Shard dimensions, Average over 1 minute by default', () => {
    const { rg } = cluster();
    const metric = rg.metricForShard(2, 'CurrConnections');
    expect(metric.namespace).toBe('CacheFleet');
    expect(metric.metricName).toBe('CurrConnections');
    expect(metric.dimensions).toEqual({ Fleet: rg.fleetId, Shard: '2' });
    expect(metric.statistic).toBe('Average');
    expect(metric.period.toSeconds()).toBe(60);
    const lag = rg.metricForShard(0, 'ReplicationLag', { statistic: 'Maximum', period: Duration.minutes(5) });
    expect([lag.statistic, lag.period.toSeconds()]).toEqual(['Maximum', 300]);
    // The group's own metrics keep the fleet dimension alone.
    expect(rg.metricCPUUtilization().dimensions).toEqual({ Fleet: rg.fleetId });
  });

  test.each([
    [3, '`shard` must be a shard\'s index, an integer from 0 to 2, got: 3'],
    [-1, '`shard` must be a shard\'s index, an integer from 0 to 2, got: -1'],
    [1.5, '`shard` must be a shard\'s index, an integer from 0 to 2, got: 1.5'],
  ])('shard %p is refused', (shard, message) => {
    const { rg } = cluster();
    expect(() => rg.metricForShard(shard, 'CurrConnections')).toThrow(`Test/Orders: ${message}`);
  });

  test('refused with cluster mode disabled', () => {
    const { stack, vpc } = testStack();
    const rg = new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey });
    expect(() => rg.metricForShard(0, 'CurrConnections'))
      .toThrow('Test/Sessions: `clusterMode` must be ClusterMode.ENABLED for metricForShard: a group without cluster mode is one shard (use metric), got: "ClusterMode.DISABLED"');
  });
});

describe('cluster mode: zones', () => {
  test('fewer zones than nodes in a shard: a warning', () => {
    const { stack } = cluster({ replicasPerShard: 2 }, ['eu-west-1a', 'eu-west-1b']);
    Annotations.fromStack(stack).hasWarning('/Test/Orders', Match.stringLikeRegexp(
      'each shard has 3 nodes but the subnets span 2 availability zone\\(s\\).*select subnets in 3 zones \\[ack: cachefleet:shardNodesShareZone\\]'));
  });

  test('as many zones as nodes in a shard: no warning', () => {
    Annotations.fromStack(cluster({ replicasPerShard: 1 }, ['eu-west-1a', 'eu-west-1b']).stack).hasNoWarning('/Test/Orders', Match.anyValue());
    Annotations.fromStack(cluster({ replicasPerShard: 2 }).stack).hasNoWarning('/Test/Orders', Match.anyValue());
  });
});

describe('cluster mode: addresses', () => {
  test('the block is 6 hosts per shard: it must fit the subnets; the default says what to set', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 27 },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 27 },
      ],
    });
    expect(thrown(() => new ReplicationGroup(stack, 'Orders', { vpc, engine: valkey, clusterMode: ClusterMode.ENABLED })))
      .toEqual(new ValidationError('nodeAddressOffset', '16 (the default for a cluster-mode group)',
        'must leave room for hosts 16 to 33 (the 18 addresses the fleet reserves) in subnet 10.0.0.96/27: select larger subnets, fewer shards, or set nodeAddressOffset (a cluster-mode group reserves 6 addresses per shard from host 16 by default)',
        false, 'Test/Orders'));
    // From host 4, 3 shards' 18 hosts fit a /27 (hosts 1 to 30).
    new ReplicationGroup(stack, 'Fits', { vpc, engine: valkey, clusterMode: ClusterMode.ENABLED, nodeAddressOffset: 4 });
  });

  test('two cluster-mode groups sharing subnets: the second must set its offset, and is told so', () => {
    const { stack, vpc } = testStack();
    new ReplicationGroup(stack, 'Orders', { vpc, engine: valkey, clusterMode: ClusterMode.ENABLED });
    expect(() => new ReplicationGroup(stack, 'Carts', { vpc, engine: valkey, clusterMode: ClusterMode.ENABLED }))
      .toThrow('Test/Carts: `nodeAddressOffset` must give addresses no other fleet of the stack reserves (Test/Orders reserves it; this fleet reserves 18 from the offset): choose an offset (the default of every cluster-mode group is 16: set nodeAddressOffset on all but one of them), got: "10.0.3.16"');
    new ReplicationGroup(stack, 'Carts2', { vpc, engine: valkey, clusterMode: ClusterMode.ENABLED, nodeAddressOffset: 100 });
  });
});

describe('cluster mode: snapshots', () => {
  test('3 shards of 1 + 1, Valkey', () => {
    const { stack } = cluster();
    expect(maskedTemplate(stack, 'Orders')).toMatchSnapshot();
  });
});
