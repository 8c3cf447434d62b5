import { Fn, TerraformStack, TerraformVariable, Testing, Token } from 'cdktf';
import { Construct } from 'constructs';
import { containersByName, dockerStack, synthJson } from './synth';
import { CacheEngine, MemcachedEngineVersion, RedisEngineVersion } from '../../src/core/engine';
import { describeValue } from '../../src/core/errors';
import { AuthToken, CacheCluster, ReplicationGroup } from '../../src/docker';
import { InvalidCase, INVALID_CACHE_CLUSTER_PROPS, INVALID_REPLICATION_GROUP_PROPS, NUMBER_TOKEN, STRING_TOKEN } from '../shared/invalid-fleet-props';

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

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('nothing was thrown');
}

describe('docker flavor: the shared table of invalid fleet props', () => {
  test.each(INVALID_REPLICATION_GROUP_PROPS.map(withCdktfTokens))('ReplicationGroup refuses %s', (_what, props, message) => {
    const error = thrown(() => new ReplicationGroup(dockerStack(), 'Group', { ...REQUIRED, ...props } as any));
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe(message);
  });

  test.each(INVALID_CACHE_CLUSTER_PROPS.map(withCdktfTokens))('CacheCluster refuses %s', (_what, props, message) => {
    const error = thrown(() => new CacheCluster(dockerStack(), 'Cluster', { ...REQUIRED, ...props } as any));
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe(message);
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
  ['a subnet too small', { subnetCidr: '172.28.0.0/29' }, '`subnetCidr` must have room for host 10 (6 usable addresses), got: "172.28.0.0/29"'],
  ['a numeric subnet', { subnetCidr: 24 }, '`subnetCidr` must be an IPv4 CIDR block with a prefix of at most /30, such as "172.28.0.0/24", got: 24'],
  ['16 MiB', { memoryLimitMiB: 16 }, '`memoryLimitMiB` must be an integer number of MiB between 32 and 1048576, got: 16'],
  ['1.5 MiB', { memoryLimitMiB: 100.5 }, '`memoryLimitMiB` must be an integer number of MiB between 32 and 1048576, got: 100.5'],
  ['a token memory', { memoryLimitMiB: CDKTF_NUMBER_TOKEN }, `\`memoryLimitMiB\` must be a concrete value known at synth time, not a token, got: ${describeValue(CDKTF_NUMBER_TOKEN)}`],
  ['a token subnet', { subnetCidr: CDKTF_STRING_TOKEN }, `\`subnetCidr\` must be a concrete value known at synth time, not a token, got: ${describeValue(CDKTF_STRING_TOKEN)}`],
  ['0 CPUs', { cpus: 0 }, '`cpus` must be a number of CPUs greater than 0 and at most 1024, such as 0.5 or 2, got: 0'],
  ['a host name', { hostAddress: 'localhost' }, '`hostAddress` must be an IPv4 address of the Docker host, such as "127.0.0.1" (or "0.0.0.0" for every address), got: "localhost"'],
  ['a bad address', { hostAddress: '127.0.0.256' }, '`hostAddress` must be an IPv4 address of the Docker host, such as "127.0.0.1" (or "0.0.0.0" for every address), got: "127.0.0.256"'],
  ['port base 0', { hostPortBase: 0 }, "`hostPortBase` must be an integer between 1 and 65531 (the fleet's 5 containers publish on consecutive ports), got: 0"],
  ['port base too high', { hostPortBase: 65535 }, "`hostPortBase` must be an integer between 1 and 65531 (the fleet's 5 containers publish on consecutive ports), got: 65535"],
  ['a port base without publishing', { hostPortBase: 16379, publishPorts: false }, '`hostPortBase` must be unset when `publishPorts` is false, got: 16379'],
  ['a string publishPorts', { publishPorts: 'yes' }, '`publishPorts` must be true or false, got: "yes"'],
  ['a restart policy string', { restartPolicy: 'sometimes' }, '`restartPolicy` must be a RestartPolicy (no, on-failure, always, unless-stopped), got: "sometimes"'],
  ['a literal token', { authToken: 'my-secret-token-123' }, '`authToken` must be an AuthToken (AuthToken.fromVariable() or AuthToken.fromFile()), never a literal, got: "my-secret-token-123"'],
  ['a literal internal token', { internalAuthToken: 'my-secret-token-123' }, '`internalAuthToken` must be an AuthToken (AuthToken.fromVariable() or AuthToken.fromFile()), never a literal, got: "my-secret-token-123"'],
  ['a literal admin token', { adminAuthToken: 'my-admin-token-123' }, '`adminAuthToken` must be an AuthToken (AuthToken.fromVariable() or AuthToken.fromFile()), never a literal, got: "my-admin-token-123"'],
];

describe('docker flavor: its own props', () => {
  test.each(INVALID_DOCKER_PROPS)('ReplicationGroup refuses %s', (_what, props, message) => {
    const error = thrown(() => new ReplicationGroup(dockerStack(), 'Group', { engine: redis, ...props } as any));
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe(message);
  });

  test('Memcached takes no AUTH token', () => {
    const stack = dockerStack();
    const variable = new TerraformVariable(stack, 'token', { type: 'string', sensitive: true });
    const error = thrown(() => new CacheCluster(stack, 'Pages', { engine: memcached, authToken: AuthToken.fromVariable(variable) }));
    expect(error.message).toBe('`authToken` must be unset for Memcached, which has no AUTH (keep its network private), got: "an AuthToken"');
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
    expect(error.message).toBe('`id` must give a fleet name no other fleet of the stack has (Test/A/Sessions is sessions), got: "Sessions"');
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
    expect(() => new ReplicationGroup(new Construct(stack, 'Other'), 'Sessions', { engine: redis, subnetCidr: '172.28.1.0/24' })).toThrow(/^`id` /);
    const json = synthJson(stack);
    expect(Object.keys(containersByName(json))).toHaveLength(5);
    expect(Object.keys(json.variable).sort()).toEqual(['sessions_admin_token', 'sessions_auth_token']);
    expect(Object.keys(json.resource.docker_network)).toHaveLength(1);
  });

  test('distinct names in one stack, and the same name in two stacks, are fine', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Sessions', { engine: redis });
    expect(() => new ReplicationGroup(stack, 'Sessions2', { engine: redis, subnetCidr: '172.28.1.0/24' })).not.toThrow();
    const app = Testing.app();
    new ReplicationGroup(new TerraformStack(app, 'One'), 'Sessions', { engine: redis });
    expect(() => new ReplicationGroup(new TerraformStack(app, 'Two'), 'Sessions', { engine: redis })).not.toThrow();
  });

  test('a fleet refused for its props leaves its name free', () => {
    const stack = dockerStack();
    expect(() => new ReplicationGroup(new Construct(stack, 'A'), 'Sessions', { engine: redis, hostPortBase: 65535 })).toThrow(/^`hostPortBase` /);
    expect(() => new ReplicationGroup(new Construct(stack, 'B'), 'Sessions', { engine: redis })).not.toThrow();
  });

  test('a fleet refused for an overlapping subnet leaves its name free', () => {
    const stack = dockerStack();
    new CacheCluster(stack, 'Pages', { engine: memcached });
    expect(() => new ReplicationGroup(new Construct(stack, 'A'), 'Sessions', { engine: redis })).toThrow(/^`subnetCidr` must not overlap/);
    expect(() => new ReplicationGroup(new Construct(stack, 'B'), 'Sessions', { engine: redis, subnetCidr: '172.28.1.0/24' })).not.toThrow();
  });
});

describe('docker flavor: hostPortBase is bounded by the planned containers', () => {
  test.each<[string, Record<string, unknown>, number]>([
    ['no replicas: 1 container', { replicasPerShard: 0 }, 1],
    ['1 replica: 2 nodes and 3 sentinels', {}, 5],
    ['5 replicas: 6 nodes and 3 sentinels', { replicasPerShard: 5 }, 9],
  ])('%s', (_what, props, containers) => {
    const highest = 65_536 - containers;
    expect(() => new ReplicationGroup(dockerStack(), 'Group', { engine: redis, ...props, hostPortBase: highest })).not.toThrow();
    const error = thrown(() => new ReplicationGroup(dockerStack(), 'Group', { engine: redis, ...props, hostPortBase: highest + 1 }));
    expect(error.message).toBe(
      `\`hostPortBase\` must be an integer between 1 and ${highest} (the fleet's ${containers} containers publish on consecutive ports), got: ${highest + 1}`,
    );
  });

  test('40 Memcached nodes: 40 containers', () => {
    const error = thrown(() => new CacheCluster(dockerStack(), 'Pages', { engine: memcached, numCacheNodes: 40, subnetCidr: '10.1.0.0/26', hostPortBase: 65500 }));
    expect(error.message).toBe("`hostPortBase` must be an integer between 1 and 65496 (the fleet's 40 containers publish on consecutive ports), got: 65500");
  });
});
