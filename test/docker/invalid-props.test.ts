import { Fn, TerraformStack, TerraformVariable, Testing, Token } from 'cdktf';
import { Construct } from 'constructs';
import { containersByName, dockerStack, synthJson } from './synth';
import { CacheEngine, MemcachedEngineVersion, RedisEngineVersion } from '../../src/core/engine';
import { describeValue } from '../../src/core/errors';
import { ClusterMode } from '../../src/core/fleet-options';
import { AuthToken, CacheCluster, ReplicationGroup } from '../../src/docker';
import { InvalidCase, INVALID_CACHE_CLUSTER_PROPS, INVALID_REPLICATION_GROUP_PROPS, NUMBER_TOKEN, STRING_TOKEN } from '../shared/invalid-fleet-props';
import { thrown } from '../shared/thrown';

/**
 * The same invalid props the AWS flavor refuses, with the same messages (the shared table), and
 * the Docker flavor's own props. The Docker flavor has no required props of its own.
 */
const REQUIRED = {};

/** cdktf's own tokens: the shared table's stand-ins are aws-cdk-lib's encodings, which cdktf does not know. */
const CDKTF_NUMBER_TOKEN = Token.asNumber(Fn.lengthOf(Fn.keys({})));
const CDKTF_STRING_TOKEN = Fn.lower('X');

/** A shared case with cdktf tokens in place of the table's token stand-ins, props and message alike. */
function withCdktfTokens([what, props, message]: InvalidCase): InvalidCase {
  const swap = (value: unknown) => (value === NUMBER_TOKEN ? CDKTF_NUMBER_TOKEN : value === STRING_TOKEN ? CDKTF_STRING_TOKEN : value);
  const swapped = Object.fromEntries(Object.entries(props).map(([key, value]) => [key, swap(value)]));
  const text = message
    .replace(describeValue(NUMBER_TOKEN), describeValue(CDKTF_NUMBER_TOKEN))
    .replace(describeValue(STRING_TOKEN), describeValue(CDKTF_STRING_TOKEN));
  return [what, swapped, text];
}

test('cdktf calls its stand-in tokens unresolved', () => {
  expect(Token.isUnresolved(CDKTF_NUMBER_TOKEN)).toBe(true);
  expect(Token.isUnresolved(CDKTF_STRING_TOKEN)).toBe(true);
});


describe('docker flavor: the shared table of invalid fleet props', () => {
  test.each(INVALID_REPLICATION_GROUP_PROPS.map(withCdktfTokens))('ReplicationGroup refuses %s', (_what, props, message) => {
    const stack = dockerStack();
    const error = thrown(() => new ReplicationGroup(stack, 'Group', { ...REQUIRED, ...props } as any));
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe(`${stack.node.path}/Group: ${message}`);
  });

  test.each(INVALID_CACHE_CLUSTER_PROPS.map(withCdktfTokens))('CacheCluster refuses %s', (_what, props, message) => {
    const stack = dockerStack();
    const error = thrown(() => new CacheCluster(stack, 'Cluster', { ...REQUIRED, ...props } as any));
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe(`${stack.node.path}/Cluster: ${message}`);
  });

  test('nothing is declared when props are invalid', () => {
    const stack = dockerStack();
    expect(() => new ReplicationGroup(stack, 'Group', { engine: CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 }), replicasPerShard: 9 })).toThrow();
    expect(stack.node.tryFindChild('Group')?.node.children.length ?? 0).toBe(0);
  });
});

const redis = CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 });
const memcached = CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 });

const INVALID_DOCKER_PROPS: Array<[string, Record<string, unknown>, string]> = [
  ['a bad subnet', { subnetCidr: '172.28.0.0' }, '`subnetCidr` must be an IPv4 CIDR block with a prefix of at most /30, such as "172.28.0.0/24", got: "172.28.0.0"'],
  ['a misaligned subnet', { subnetCidr: '172.28.0.5/24' }, '`subnetCidr` must start on its block\'s first address (172.28.0.0/24), got: "172.28.0.5/24"'],
  ['a subnet too small', { subnetCidr: '172.28.0.0/29' },
    '`subnetCidr` must hold hosts 10 to 18: the fleet reserves 9 fixed addresses, one for each slot it can have (a /26 or larger for Memcached, a /27 for Redis and Valkey), got: "172.28.0.0/29"'],
  ['a numeric subnet', { subnetCidr: 24 }, '`subnetCidr` must be an IPv4 CIDR block with a prefix of at most /30, such as "172.28.0.0/24", got: 24'],
  ['16 MiB', { memoryLimitMiB: 16 }, '`memoryLimitMiB` must be an integer number of MiB between 32 and 1048576, got: 16'],
  ['1.5 MiB', { memoryLimitMiB: 100.5 }, '`memoryLimitMiB` must be an integer number of MiB between 32 and 1048576, got: 100.5'],
  ['a token memory', { memoryLimitMiB: CDKTF_NUMBER_TOKEN }, `\`memoryLimitMiB\` must be a concrete value known at synth time (it sizes the fleet or is written into its configuration), not a token, got: ${describeValue(CDKTF_NUMBER_TOKEN)}`],
  ['a token subnet', { subnetCidr: CDKTF_STRING_TOKEN }, `\`subnetCidr\` must be a concrete value known at synth time (it sizes the fleet or is written into its configuration), not a token, got: ${describeValue(CDKTF_STRING_TOKEN)}`],
  ['0 CPUs', { cpus: 0 }, '`cpus` must be a number of CPUs greater than 0 and at most 1024, such as 0.5 or 2, got: 0'],
  ['a host name', { hostAddress: 'localhost' }, '`hostAddress` must be an IPv4 address of the Docker host, such as "127.0.0.1" (or "0.0.0.0" for every address), got: "localhost"'],
  ['a bad address', { hostAddress: '127.0.0.256' }, '`hostAddress` must be an IPv4 address of the Docker host, such as "127.0.0.1" (or "0.0.0.0" for every address), got: "127.0.0.256"'],
  ['port base 0', { hostPortBase: 0 }, '`hostPortBase` must be an integer between 1 and 65527 (the fleet reserves 9 consecutive ports, one for each slot it can have), got: 0'],
  ['port base too high', { hostPortBase: 65535 }, '`hostPortBase` must be an integer between 1 and 65527 (the fleet reserves 9 consecutive ports, one for each slot it can have), got: 65535'],
  ['a port base without publishing', { hostPortBase: 16379, publishPorts: false }, '`hostPortBase` must be unset when `publishPorts` is false, got: 16379'],
  ['a string publishPorts', { publishPorts: 'yes' }, '`publishPorts` must be true or false, got: "yes"'],
  ['a restart policy string', { restartPolicy: 'sometimes' }, '`restartPolicy` must be a RestartPolicy (no, on-failure, always, unless-stopped), got: "sometimes"'],
  ['a removal policy string', { removalPolicy: 'keep' }, '`removalPolicy` must be a RemovalPolicy (retain, destroy), got: "keep"'],
  ['a literal token', { authToken: 'my-secret-token-123' }, '`authToken` must be an AuthToken (AuthToken.fromVariable() or AuthToken.fromFile()), never a literal, got: "my-secret-token-123"'],
  ['a literal internal token', { internalAuthToken: 'my-secret-token-123' }, '`internalAuthToken` must be an AuthToken (AuthToken.fromVariable() or AuthToken.fromFile()), never a literal, got: "my-secret-token-123"'],
  ['a literal admin token', { adminAuthToken: 'my-admin-token-123' }, '`adminAuthToken` must be an AuthToken (AuthToken.fromVariable() or AuthToken.fromFile()), never a literal, got: "my-admin-token-123"'],
  ...['secrets', '/', '/etc/cachefleet/../shadow', '/srv/a:b', '/srv/a,b'].map((secretsHostPath): [string, Record<string, unknown>, string] => [
    `the secrets directory ${JSON.stringify(secretsHostPath)}`, { secretsHostPath },
    `\`secretsHostPath\` must be an absolute directory path of the Docker host other than "/", without "..", commas, colons or control characters, such as "/etc/cachefleet/sessions", got: ${JSON.stringify(secretsHostPath)}`,
  ]),
  ['a token beside the secrets directory', { secretsHostPath: '/etc/cachefleet/group', adminAuthToken: AuthToken.fromFile('/secrets/admin') },
    '`adminAuthToken` must be unset when secretsHostPath is set: the passwords then come from that directory of the Docker host, and none is a Terraform value, got: "an AuthToken"'],
  ['a token secrets directory', { secretsHostPath: CDKTF_STRING_TOKEN }, `\`secretsHostPath\` must be a concrete value known at synth time (it sizes the fleet or is written into its configuration), not a token, got: ${describeValue(CDKTF_STRING_TOKEN)}`],
];

const CLUSTER_ROOM = '6 fixed addresses per shard (hosts 10 to %s), below the last quarter of the subnet, which other containers of the network take';

/** Cluster mode enabled, the block grows with the shards: the subnet and the host ports must hold it. */
const INVALID_CLUSTER_DOCKER_PROPS: Array<[string, Record<string, unknown>, string]> = [
  ['31 shards in the default /24', { shards: 31 },
    `\`shards\` must be at most 30 with the default subnet (a /24): the group reserves ${CLUSTER_ROOM.replace('%s', '195 for 31')}; set subnetCidr to a /23 or larger for more, got: 31`],
  ['7 shards in a /26', { shards: 7, subnetCidr: '10.9.0.0/26' },
    `\`subnetCidr\` must hold 7 shards: the group reserves ${CLUSTER_ROOM.replace('%s', '51 for 7')} (a /25 or larger; this one holds 6), got: "10.9.0.0/26"`],
  ['3 shards in a /27', { subnetCidr: '10.9.0.0/27' },
    `\`subnetCidr\` must hold 3 shards: the group reserves ${CLUSTER_ROOM.replace('%s', '27 for 3')} (a /26 or larger; this one holds 2), got: "10.9.0.0/27"`],
  ['host ports past 65535 for 5 shards', { shards: 5, hostPortBase: 65510 },
    '`hostPortBase` must be an integer between 1 and 65506 (the fleet reserves 30 consecutive ports, one for each slot it can have), got: 65510'],
  ['a port whose bus port is past 65535', { port: 55536 },
    '`port` must be at most 55535 with cluster mode enabled: the cluster bus listens on the port plus 10000, got: 55536'],
];

describe('docker flavor: cluster mode', () => {
  test.each(INVALID_CLUSTER_DOCKER_PROPS)('ReplicationGroup refuses %s', (_what, props, message) => {
    const stack = dockerStack();
    const error = thrown(() => new ReplicationGroup(stack, 'Group', { engine: redis, clusterMode: ClusterMode.ENABLED, ...props } as any));
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe(`Test/Group: ${message}`);
    expect(stack.node.tryFindChild('Group')?.node.children.length ?? 0).toBe(0);
  });
});

describe('docker flavor: its own props', () => {
  test.each(INVALID_DOCKER_PROPS)('ReplicationGroup refuses %s', (_what, props, message) => {
    const error = thrown(() => new ReplicationGroup(dockerStack(), 'Group', { engine: redis, ...props } as any));
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe(`Test/Group: ${message}`);
  });

  test('Memcached is published beyond loopback only when asked: it has no AUTH', () => {
    const message = '`hostAddress` must be a loopback address (127.0.0.0/8) for Memcached, which has no AUTH: anyone reaching the host would read and write the cache; '
      + 'set allowUnauthenticatedHostAccess to publish it there anyway, got: ';
    for (const hostAddress of ['0.0.0.0', '192.168.1.20']) {
      expect(thrown(() => new CacheCluster(dockerStack(), 'Pages', { engine: memcached, hostAddress })).message).toBe(`Test/Pages: ${message}"${hostAddress}"`);
      expect(() => new CacheCluster(dockerStack(), 'Pages', { engine: memcached, hostAddress, allowUnauthenticatedHostAccess: true })).not.toThrow();
      expect(() => new CacheCluster(dockerStack(), 'Pages', { engine: memcached, hostAddress, publishPorts: false })).not.toThrow();
      expect(() => new ReplicationGroup(dockerStack(), 'Sessions', { engine: redis, hostAddress })).not.toThrow();
    }
    expect(() => new CacheCluster(dockerStack(), 'Pages', { engine: memcached, hostAddress: '127.0.0.2' })).not.toThrow();
    expect(thrown(() => new CacheCluster(dockerStack(), 'Pages', { engine: memcached, allowUnauthenticatedHostAccess: 'yes' as any })).message)
      .toBe('Test/Pages: `allowUnauthenticatedHostAccess` must be true or false, got: "yes"');
  });

  test('Memcached takes no secrets directory: it has no AUTH', () => {
    const error = thrown(() => new CacheCluster(dockerStack(), 'Pages', { engine: memcached, secretsHostPath: '/etc/cachefleet/pages' }));
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe('Test/Pages: `secretsHostPath` must be unset for Memcached, which has no AUTH (keep its network private), got: "/etc/cachefleet/pages"');
  });

  test('Memcached takes no AUTH token', () => {
    const stack = dockerStack();
    const variable = new TerraformVariable(stack, 'token', { type: 'string', sensitive: true });
    const error = thrown(() => new CacheCluster(stack, 'Pages', { engine: memcached, authToken: AuthToken.fromVariable(variable) }));
    expect(error.message).toBe('Test/Pages: `authToken` must be unset for Memcached, which has no AUTH (keep its network private), got: "an AuthToken"');
  });

  test('AuthToken.fromFile refuses an empty path', () => {
    expect(() => AuthToken.fromFile(' ')).toThrow('`AuthToken.fromFile(path)` must be a non-empty file path, got: " "');
  });
});

describe('docker flavor: one fleet name per stack', () => {
  test('the same id under another parent is refused, naming the fleet that has the name', () => {
    const stack = dockerStack();
    new ReplicationGroup(new Construct(stack, 'A'), 'Sessions', { engine: redis });
    const parent = new Construct(stack, 'B');
    const error = thrown(() => new ReplicationGroup(parent, 'Sessions', { engine: redis, subnetCidr: '172.28.1.0/24' }));
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe('Test/B/Sessions: `id` must give a fleet name no other fleet of the stack has (Test/A/Sessions is sessions), got: "Sessions"');
    expect(parent.node.findChild('Sessions').node.children).toHaveLength(0);
  });

  test('ids that normalize to the same name are refused, across constructs', () => {
    const stack = dockerStack();
    new CacheCluster(stack, 'SessionCache', { engine: memcached });
    expect(() => new ReplicationGroup(stack, 'session-cache', { engine: redis, subnetCidr: '172.28.1.0/24' })).toThrow(
      '`id` must give a fleet name no other fleet of the stack has (Test/SessionCache is session-cache), got: "session-cache"',
    );
    expect(() => new CacheCluster(stack, 'Session_Cache', { engine: memcached, subnetCidr: '172.28.2.0/24' })).toThrow(
      '`id` must give a fleet name no other fleet of the stack has (Test/SessionCache is session-cache), got: "Session_Cache"',
    );
  });

  test('the stack keeps one of each: containers, outputs and the AUTH variable of the fleet that has the name', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Sessions', { engine: redis });
    expect(() => new ReplicationGroup(new Construct(stack, 'Other'), 'Sessions', { engine: redis, subnetCidr: '172.28.1.0/24' })).toThrow(/^Test\/Other\/Sessions: `id` /);
    const json = synthJson(stack);
    // Five slots and the fleet's bundle container.
    expect(Object.keys(containersByName(json)).sort()).toEqual(['sessions-bundle', 'sessions-node-0', 'sessions-node-1', 'sessions-sentinel-0', 'sessions-sentinel-1', 'sessions-sentinel-2']);
    expect(Object.keys(json.variable).sort()).toEqual(['sessions_admin_token', 'sessions_auth_token']);
    expect(Object.keys(json.resource.docker_network)).toHaveLength(1);
  });

  test('distinct names in one stack, and the same name in two stacks, are fine', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Sessions', { engine: redis });
    expect(() => new ReplicationGroup(stack, 'Sessions2', { engine: redis, subnetCidr: '172.28.1.0/24', hostPortBase: 6410 })).not.toThrow();
    const app = Testing.app();
    new ReplicationGroup(new TerraformStack(app, 'One'), 'Sessions', { engine: redis });
    expect(() => new ReplicationGroup(new TerraformStack(app, 'Two'), 'Sessions', { engine: redis })).not.toThrow();
  });

  test('a fleet refused for its props leaves its name free', () => {
    const stack = dockerStack();
    expect(() => new ReplicationGroup(new Construct(stack, 'A'), 'Sessions', { engine: redis, hostPortBase: 65535 })).toThrow(/^Test\/A\/Sessions: `hostPortBase` /);
    expect(() => new ReplicationGroup(new Construct(stack, 'B'), 'Sessions', { engine: redis })).not.toThrow();
  });

  test('a fleet refused for an overlapping subnet leaves its name free', () => {
    const stack = dockerStack();
    new CacheCluster(stack, 'Pages', { engine: memcached, subnetCidr: '10.20.0.0/24' });
    expect(() => new ReplicationGroup(new Construct(stack, 'A'), 'Sessions', { engine: redis, subnetCidr: '10.20.0.0/25' })).toThrow(/^Test\/A\/Sessions: `subnetCidr` must not overlap/);
    expect(() => new ReplicationGroup(new Construct(stack, 'B'), 'Sessions', { engine: redis })).not.toThrow();
  });
});

describe('docker flavor: hostPortBase reserves a port for every slot the fleet can have', () => {
  test.each<[string, Record<string, unknown>]>([
    ['no replicas', { replicasPerShard: 0 }],
    ['1 replica', {}],
    ['5 replicas', { replicasPerShard: 5 }],
  ])('a replication group, %s: 9 ports (6 data nodes, 3 sentinels), whatever the replica count', (_what, props) => {
    const highest = 65_535 - 8;
    expect(() => new ReplicationGroup(dockerStack(), 'Group', { engine: redis, ...props, hostPortBase: highest })).not.toThrow();
    const error = thrown(() => new ReplicationGroup(dockerStack(), 'Group', { engine: redis, ...props, hostPortBase: highest + 1 }));
    expect(error.message).toBe(
      `Test/Group: \`hostPortBase\` must be an integer between 1 and ${highest} (the fleet reserves 9 consecutive ports, one for each slot it can have), got: ${highest + 1}`,
    );
  });

  test('Memcached: 40 ports, however many nodes', () => {
    const error = thrown(() => new CacheCluster(dockerStack(), 'Pages', { engine: memcached, numCacheNodes: 3, subnetCidr: '10.1.0.0/26', hostPortBase: 65500 }));
    expect(error.message).toBe('Test/Pages: `hostPortBase` must be an integer between 1 and 65496 (the fleet reserves 40 consecutive ports, one for each slot it can have), got: 65500');
  });

  test('two published fleets of a stack on overlapping ports: refused, naming the other fleet; another base or another host address is fine', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Sessions', { engine: redis });
    const error = thrown(() => new ReplicationGroup(stack, 'Carts', { engine: redis, subnetCidr: '172.28.1.0/24', hostPortBase: 6405 }));
    expect(error.message).toBe('Test/Carts: `hostPortBase` must leave host ports 6400-6408 to fleet "sessions" (Test/Sessions): fleet "carts" reserves 6405-6413; give one of them another hostPortBase, got: 6405');
    expect(() => new ReplicationGroup(stack, 'Orders', { engine: redis, subnetCidr: '172.28.2.0/24', hostPortBase: 6409 })).not.toThrow();
    expect(() => new ReplicationGroup(stack, 'Queues', { engine: redis, subnetCidr: '172.28.3.0/24', hostAddress: '127.0.0.2' })).not.toThrow();
    expect(() => new ReplicationGroup(stack, 'Unpublished', { engine: redis, subnetCidr: '172.28.4.0/24', publishPorts: false })).not.toThrow();
  });
});

describe('docker flavor: the subnet holds every address the fleet can have', () => {
  test.each<[string, () => void, string]>([
    ['a replication group needs hosts 10-18', () => new ReplicationGroup(dockerStack(), 'Group', { engine: redis, replicasPerShard: 0, subnetCidr: '10.1.0.0/28' }),
      'Test/Group: `subnetCidr` must hold hosts 10 to 18: the fleet reserves 9 fixed addresses, one for each slot it can have (a /26 or larger for Memcached, a /27 for Redis and Valkey), got: "10.1.0.0/28"'],
    ['a Memcached cluster needs hosts 10-49', () => new CacheCluster(dockerStack(), 'Pages', { engine: memcached, numCacheNodes: 1, subnetCidr: '10.1.0.0/27' }),
      'Test/Pages: `subnetCidr` must hold hosts 10 to 49: the fleet reserves 40 fixed addresses, one for each slot it can have (a /26 or larger for Memcached, a /27 for Redis and Valkey), got: "10.1.0.0/27"'],
  ])('%s', (_what, build, message) => {
    expect(thrown(build).message).toBe(message);
  });

  test('a /27 holds a replication group, a /26 a Memcached cluster', () => {
    expect(() => new ReplicationGroup(dockerStack(), 'Group', { engine: redis, replicasPerShard: 5, subnetCidr: '10.1.0.0/27' })).not.toThrow();
    expect(() => new CacheCluster(dockerStack(), 'Pages', { engine: memcached, numCacheNodes: 40, subnetCidr: '10.1.0.0/26' })).not.toThrow();
  });
});
