import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { memcached, testStack, valkey } from './fixtures';
import { CacheCluster, ReplicationGroup, ReplicationGroupProps } from '../../src/aws';
import { ParameterGroup } from '../../src/core/parameters/parameter-group';

/** The template of a stack with one replication group. */
function synth(props: Partial<ReplicationGroupProps>, parameters: Record<string, string> = {}): Record<string, any> {
  const { stack, vpc } = testStack();
  const parameterGroup = new ParameterGroup(stack, 'Params', { engine: valkey, parameters });
  new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, parameterGroup, ...props });
  return Template.fromStack(stack).toJSON().Resources;
}

function ofType(resources: Record<string, any>, type: string): Record<string, any> {
  return Object.fromEntries(Object.entries(resources).filter(([, r]) => r.Type === type));
}

/** Every resource of a type kept with the same logical id and the same properties (so never replaced). */
function expectKept(before: Record<string, any>, after: Record<string, any>, type: string, count: number): void {
  const old = ofType(before, type);
  expect(Object.keys(old)).toHaveLength(count);
  for (const [id, resource] of Object.entries(old)) {
    expect({ id, resource: after[id] }).toEqual({ id, resource });
  }
}

describe('changes', () => {
  test('a parameter change changes the bundle, not the launch template, the volumes, the interfaces or the records', () => {
    // GIVEN / WHEN
    const before = synth({ replicasPerShard: 2 }, { 'maxmemory-policy': 'allkeys-lru' });
    const after = synth({ replicasPerShard: 2 }, { 'maxmemory-policy': 'volatile-ttl' });

    // THEN
    expectKept(before, after, 'AWS::EC2::LaunchTemplate', 1);
    expectKept(before, after, 'AWS::EC2::Volume', 3);
    expectKept(before, after, 'AWS::EC2::NetworkInterface', 3);
    expectKept(before, after, 'AWS::AutoScaling::AutoScalingGroup', 3);
    expectKept(before, after, 'AWS::Route53::RecordSet', 5);
    const location = (resources: Record<string, any>) => JSON.stringify(Object.values(ofType(resources, 'AWS::SSM::Parameter'))[0].Properties.Value);
    expect(location(after)).not.toBe(location(before));
    // The association carries the new bundle to the running nodes (CONFIG SET), one at a time.
    const association = (resources: Record<string, any>) => Object.values(ofType(resources, 'AWS::SSM::Association'))[0].Properties;
    expect(association(after)).toMatchObject({ Name: 'AWS-RunShellScript', MaxConcurrency: '1', MaxErrors: '0' });
    expect(association(after).Parameters.commands).toEqual([expect.anything(), '/usr/local/sbin/cachefleet-fetch apply']);
    expect(JSON.stringify(association(after).Parameters.commands[0])).toContain('# bundle ');
    expect(association(after).Targets).toEqual([{ Key: 'tag:cachefleet:fleet', Values: [expect.stringMatching(/^sessions-/)] }]);
    expect(JSON.stringify(association(after).Parameters)).not.toBe(JSON.stringify(association(before).Parameters));
  });

  test('a parameter that needs a restart changes the user data (a new launch template version: the slots are replaced one at a time); volumes, interfaces and records are kept', () => {
    // GIVEN / WHEN: `databases` applies only at a restart
    const before = synth({ replicasPerShard: 2 }, { databases: '16' });
    const after = synth({ replicasPerShard: 2 }, { databases: '32' });

    // THEN
    const [[ltId, lt]] = Object.entries(ofType(before, 'AWS::EC2::LaunchTemplate'));
    expect(after[ltId].Properties.LaunchTemplateData.UserData).not.toEqual(lt.Properties.LaunchTemplateData.UserData);
    const withoutUserData = (data: Record<string, unknown>) => ({ ...data, UserData: undefined });
    expect(withoutUserData(after[ltId].Properties.LaunchTemplateData)).toEqual(withoutUserData(lt.Properties.LaunchTemplateData));
    expectKept(before, after, 'AWS::EC2::Volume', 3);
    expectKept(before, after, 'AWS::EC2::NetworkInterface', 3);
    expectKept(before, after, 'AWS::Route53::RecordSet', 5);
  });

  test('a replica-count change adds slots; no data volume, launch template or primary record is replaced', () => {
    // GIVEN / WHEN: 1 + 1 (with a sentinel-only slot) -> 1 + 2 -> 1 + 5
    const one = synth({ replicasPerShard: 1 });
    const two = synth({ replicasPerShard: 2 });
    const five = synth({ replicasPerShard: 5 });

    // THEN
    expectKept(one, two, 'AWS::EC2::LaunchTemplate', 1);
    expectKept(two, five, 'AWS::EC2::LaunchTemplate', 1);
    const dataVolumes = (resources: Record<string, any>) => Object.fromEntries(Object.entries(ofType(resources, 'AWS::EC2::Volume')).filter(([id]) => /node\d/.test(id)));
    expectKept(dataVolumes(one), dataVolumes(two), 'AWS::EC2::Volume', 2);
    expectKept(dataVolumes(two), dataVolumes(five), 'AWS::EC2::Volume', 3);
    const primary = (resources: Record<string, any>) => Object.entries(ofType(resources, 'AWS::Route53::RecordSet')).filter(([id]) => id.startsWith('SessionsPrimaryRecord'));
    expect(primary(two)).toEqual(primary(one));
    expect(primary(five)).toEqual(primary(two));
    expect(Object.keys(ofType(five, 'AWS::AutoScaling::AutoScalingGroup'))).toHaveLength(6);
  });
});

describe('CloudFormation limits', () => {
  test.each([
    ['Memcached, 40 nodes', (stack: Stack, vpc: any) => new CacheCluster(stack, 'Pages', { vpc, engine: memcached, numCacheNodes: 40 })],
    ['ReplicationGroup 1 + 5', (stack: Stack, vpc: any) => new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, replicasPerShard: 5 })],
  ])('the largest accepted fleet (%s) stays within 500 resources and 1 MB', (_name, build) => {
    const { stack, vpc } = testStack();
    build(stack, vpc);
    const template = Template.fromStack(stack).toJSON();
    const resources = Object.keys(template.Resources).length;
    const bytes = Buffer.byteLength(JSON.stringify(template));
    expect(resources).toBeLessThanOrEqual(500);
    expect(bytes).toBeLessThanOrEqual(1024 * 1024);
    // For the report: the figures.
    console.log(`${_name}: ${resources} resources, ${bytes} bytes (with the test VPC)`);
  });

  test('larger fleets are refused by validation before any resource', () => {
    const { stack, vpc } = testStack();
    expect(() => new CacheCluster(stack, 'Pages', { vpc, engine: memcached, numCacheNodes: 41 })).toThrow('`numCacheNodes` must be an integer between 1 and 40, got: 41');
    expect(() => new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, replicasPerShard: 6 })).toThrow('`replicasPerShard` must be an integer between 0 and 5, got: 6');
  });
});
