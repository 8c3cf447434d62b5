import { Fn, TerraformVariable, Token } from 'cdktf';
import { dockerStack } from './synth';
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
