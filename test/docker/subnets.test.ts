import { Network } from '@cdktf/provider-docker/lib/network';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { dockerStack, synthJson } from './synth';
import { cidrsOverlap } from '../../src/core/addresses';
import { CacheEngine, MemcachedEngineVersion, RedisEngineVersion } from '../../src/core/engine';
import { CacheCluster, ReplicationGroup } from '../../src/docker';
import { DEFAULT_SUBNET_POOL, defaultSubnetCidr } from '../../src/docker/private/network';
import { thrown } from '../shared/thrown';

const redis = CacheEngine.redis({ version: RedisEngineVersion.VER_7_2 });
const memcached = CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 });

/** The subnet of each fleet's network in a synthesized stack, by the network's name (the fleet's name). */
function subnets(stack: TerraformStack): Record<string, string> {
  const networks = Object.values<any>(synthJson(stack).resource.docker_network);
  return Object.fromEntries(networks.map((network) => [network.name, network.ipam_config[0].subnet]));
}


/** Construct ids in `dockerStack()` whose default subnets are the same block. */
function collidingIds(): [string, string] {
  const seen = new Map<string, string>();
  for (let i = 0; ; i++) {
    const id = `Fleet${i}`;
    const subnet = defaultSubnetCidr(`Test/${id}`);
    const earlier = seen.get(subnet);
    if (earlier !== undefined) return [earlier, id];
    seen.set(subnet, id);
  }
}

describe('docker flavor: default subnets', () => {
  test('GIVEN two fleets with defaults in one stack THEN both synthesize, each on a /24 of 172.16.0.0/16 of its own', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Sessions', { engine: redis });
    new CacheCluster(stack, 'Pages', { engine: memcached, numCacheNodes: 3 });
    const byFleet = subnets(stack);
    expect(Object.keys(byFleet).sort()).toEqual(['pages', 'sessions']);
    expect(byFleet.sessions).not.toBe(byFleet.pages);
    expect(cidrsOverlap(byFleet.sessions, byFleet.pages)).toBe(false);
    for (const subnet of Object.values(byFleet)) {
      expect(subnet).toMatch(/^172\.16\.\d{1,3}\.0\/24$/);
      expect(cidrsOverlap(subnet, DEFAULT_SUBNET_POOL.cidr)).toBe(true);
    }
  });

  test('the pool is outside Docker\'s default address pools (172.17.0.0/16-172.31.0.0/16, 192.168.0.0/16)', () => {
    expect(DEFAULT_SUBNET_POOL.cidr).toBe('172.16.0.0/16');
    for (const pool of ['172.17.0.0/16', '172.20.0.0/14', '172.24.0.0/13', '192.168.0.0/16', '10.0.0.0/8']) {
      expect(cidrsOverlap(DEFAULT_SUBNET_POOL.cidr, pool)).toBe(false);
    }
  });

  test('the default subnet is a pure function of the construct path: the same in two synths', () => {
    const build = () => {
      const stack = dockerStack();
      new ReplicationGroup(new Construct(stack, 'Cache'), 'Sessions', { engine: redis });
      return subnets(stack).sessions;
    };
    expect(build()).toBe(build());
    expect(build()).toBe(defaultSubnetCidr('Test/Cache/Sessions'));
    // Another path, another block (these two differ).
    expect(defaultSubnetCidr('Test/Cache/Sessions')).not.toBe(defaultSubnetCidr('Test/Sessions'));
  });

  test('adding or removing another fleet never moves a fleet\'s default subnet, whatever the order of construction', () => {
    const alone = dockerStack();
    new ReplicationGroup(alone, 'Sessions', { engine: redis });

    const after = dockerStack();
    new ReplicationGroup(after, 'Sessions', { engine: redis });
    new ReplicationGroup(after, 'Orders', { engine: redis, hostPortBase: 7400 });

    const before = dockerStack();
    new CacheCluster(before, 'Pages', { engine: memcached });
    new ReplicationGroup(before, 'Orders', { engine: redis, hostPortBase: 7400 });
    new ReplicationGroup(before, 'Sessions', { engine: redis });

    const expected = defaultSubnetCidr('Test/Sessions');
    expect(subnets(alone).sessions).toBe(expected);
    expect(subnets(after).sessions).toBe(expected);
    expect(subnets(before).sessions).toBe(expected);
    expect(subnets(before).orders).toBe(subnets(after).orders);
  });

  test('a fleet with subnetCidr keeps it', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Sessions', { engine: redis, subnetCidr: '172.28.0.0/24' });
    new ReplicationGroup(stack, 'Orders', { engine: redis, hostPortBase: 7400 });
    expect(subnets(stack).sessions).toBe('172.28.0.0/24');
    expect(subnets(stack).orders).toBe(defaultSubnetCidr('Test/Orders'));
  });

  test('fleets of two stacks may share a path below the stack: the path includes the stack', () => {
    const app = Testing.app();
    const stacks = ['Blue', 'Green'].map((name) => {
      const stack = new TerraformStack(app, name);
      new DockerProvider(stack, 'docker');
      new ReplicationGroup(stack, 'Sessions', { engine: redis });
      return stack;
    });
    expect(subnets(stacks[0]).sessions).toBe(defaultSubnetCidr('Blue/Sessions'));
    expect(subnets(stacks[1]).sessions).toBe(defaultSubnetCidr('Green/Sessions'));
  });
});

describe('docker flavor: subnet clashes are refused, naming subnetCidr', () => {
  test('two default subnets that a hash puts on the same block: the fleet declared last is refused, and told to set subnetCidr', () => {
    const [first, second] = collidingIds();
    const stack = dockerStack();
    new ReplicationGroup(stack, first, { engine: redis });
    const error = thrown(() => new ReplicationGroup(stack, second, { engine: redis, hostPortBase: 7400 }));
    const subnet = defaultSubnetCidr(`Test/${first}`);
    expect(error.name).toBe('ValidationError');
    expect(error.propPath).toBe('subnetCidr');
    expect(error.value).toBe(subnet);
    expect(error.message).toContain(
      `\`subnetCidr\` must be set: the default subnet of Test/${second} (the /24 of 172.16.0.0/16 a hash of its construct path picks) overlaps the subnet ${subnet} of the Docker network Test/${first}/Network. `
      + 'Set subnetCidr on one of the two fleets, the one not deployed yet',
    );
    // Setting it on the new fleet resolves the clash; the other keeps its default.
    const fixed = dockerStack();
    new ReplicationGroup(fixed, first, { engine: redis });
    new ReplicationGroup(fixed, second, { engine: redis, hostPortBase: 7400, subnetCidr: '10.77.0.0/24' });
    expect(Object.values(subnets(fixed)).sort()).toEqual(['10.77.0.0/24', subnet]);
  });

  test('the same two fleets are refused in either order', () => {
    const [first, second] = collidingIds();
    const stack = dockerStack();
    new ReplicationGroup(stack, second, { engine: redis });
    expect(thrown(() => new ReplicationGroup(stack, first, { engine: redis, hostPortBase: 7400 })).propPath).toBe('subnetCidr');
  });

  test('a default subnet that overlaps another fleet\'s explicit subnet', () => {
    const stack = dockerStack();
    const taken = defaultSubnetCidr('Test/Sessions');
    new CacheCluster(stack, 'Pages', { engine: memcached, subnetCidr: taken });
    const error = thrown(() => new ReplicationGroup(stack, 'Sessions', { engine: redis }));
    expect(error.propPath).toBe('subnetCidr');
    expect(error.message).toContain(`\`subnetCidr\` must be set: the default subnet of Test/Sessions (the /24 of 172.16.0.0/16 a hash of its construct path picks) overlaps the subnet ${taken} of the Docker network Test/Pages/Network`);
  });

  test('an explicit subnet that overlaps another fleet\'s default subnet', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Sessions', { engine: redis });
    const taken = defaultSubnetCidr('Test/Sessions');
    const error = thrown(() => new CacheCluster(stack, 'Pages', { engine: memcached, subnetCidr: taken }));
    expect(error.propPath).toBe('subnetCidr');
    expect(error.message).toContain(`\`subnetCidr\` must not overlap the subnet ${taken} of the Docker network Test/Sessions/Network: give each fleet a subnet of its own, got: "${taken}"`);
  });

  test('a subnet that overlaps a Docker network of the stack that is no fleet\'s', () => {
    const stack = dockerStack();
    new Network(stack, 'Apps', { name: 'apps', ipamConfig: [{ subnet: '10.60.0.0/16' }] });
    const error = thrown(() => new ReplicationGroup(stack, 'Sessions', { engine: redis, subnetCidr: '10.60.4.0/24' }));
    expect(error.message).toContain('`subnetCidr` must not overlap the subnet 10.60.0.0/16 of the Docker network Test/Apps: give each fleet a subnet of its own, got: "10.60.4.0/24"');
  });

  const NOT_A_HOST_NETWORK = 'which no bridge network can use: take a private range such as 172.16.0.0/12, 10.0.0.0/8 or 192.168.0.0/16';
  test.each<[string, string, string]>([
    ['loopback', '127.0.0.0/24', 'loopback (127.0.0.0/8)'],
    ['loopback, a large block', '126.0.0.0/7', 'loopback (127.0.0.0/8)'],
    ['link-local', '169.254.1.0/24', 'link-local (169.254.0.0/16)'],
    ['multicast', '224.1.0.0/24', 'multicast (224.0.0.0/4)'],
    ['multicast, its last block', '239.255.255.0/24', 'multicast (224.0.0.0/4)'],
    ['reserved', '240.0.0.0/24', 'reserved (240.0.0.0/4, with the broadcast address)'],
    ['the last block', '255.255.255.0/24', 'reserved (240.0.0.0/4, with the broadcast address)'],
    ['"this network"', '0.0.0.0/24', '"this network" (0.0.0.0/8)'],
  ])('refuses a %s subnet', (_what, subnetCidr, range) => {
    const error = thrown(() => new ReplicationGroup(dockerStack(), 'Sessions', { engine: redis, subnetCidr }));
    expect(error.name).toBe('ValidationError');
    expect(error.propPath).toBe('subnetCidr');
    expect(error.message).toContain(`\`subnetCidr\` must not overlap the ${range} range, ${NOT_A_HOST_NETWORK}, got: "${subnetCidr}"`);
  });

  test.each(['1.0.0.0/24', '126.255.255.0/24', '169.253.0.0/24', '223.255.255.0/24', '100.64.0.0/24', '172.16.0.0/24'])('accepts %s, next to a special range', (subnetCidr) => {
    expect(() => new ReplicationGroup(dockerStack(), 'Sessions', { engine: redis, subnetCidr })).not.toThrow();
  });

  test.each<[string, () => unknown, string]>([
    ['a replication group in a /28', () => new ReplicationGroup(dockerStack(), 'Sessions', { engine: redis, subnetCidr: '10.1.0.0/28' }), 'must hold hosts 10 to 18'],
    ['Memcached in a /27', () => new CacheCluster(dockerStack(), 'Pages', { engine: memcached, subnetCidr: '10.1.0.0/27' }), 'must hold hosts 10 to 49'],
  ])('refuses a block too small for the fleet\'s reserved addresses: %s', (_what, build, allowed) => {
    const error = thrown(build);
    expect(error.propPath).toBe('subnetCidr');
    expect(error.message).toContain(`\`subnetCidr\` ${allowed}`);
  });

  test('a refused fleet declares nothing, and the stack still synthesizes', () => {
    const [first, second] = collidingIds();
    const stack = dockerStack();
    new ReplicationGroup(stack, first, { engine: redis });
    expect(() => new ReplicationGroup(stack, second, { engine: redis, hostPortBase: 7400 })).toThrow();
    expect(stack.node.findChild(second).node.children).toHaveLength(0);
    expect(Object.values(subnets(stack))).toEqual([defaultSubnetCidr(`Test/${first}`)]);
  });
});
