import { CacheEngine, MemcachedEngineVersion, RedisEngineVersion, ValkeyEngineVersion } from '../../src/core/engine';
import { ValidationError } from '../../src/core/errors';
import { CacheClusterOptions, ReplicationGroupOptions } from '../../src/core/fleet-options';
import { Persistence } from '../../src/core/persistence';
import {
  TokenCheck,
  validateAuthToken,
  validateCacheClusterOptions,
  validateReplicationGroupOptions,
} from '../../src/core/validation';

const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });
const redis = CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 });
const memcached = CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 });

/** Stands in for a flavor's token check: strings and numbers marked as tokens. */
const FAKE_TOKENS: TokenCheck = { isUnresolved: (value) => value === '${Token[X]}' || value === -1.8881545897087626e289 };

function messageOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as Error).message;
  }
  throw new Error('expected a ValidationError');
}

describe('validateReplicationGroupOptions', () => {
  test('defaults: one replica, failover on, the engine port, the app user', () => {
    // WHEN
    const fleet = validateReplicationGroupOptions({ engine: valkey });

    // THEN
    expect(fleet).toMatchObject({ dataNodes: 2, failover: true, port: 6379, authUsername: 'app', construct: 'ReplicationGroup' });
  });

  test('overrides', () => {
    // WHEN
    const fleet = validateReplicationGroupOptions({ engine: redis, replicasPerShard: 0, port: 6380, authUsername: 'orders' });

    // THEN
    expect(fleet).toMatchObject({ dataNodes: 1, failover: false, port: 6380, authUsername: 'orders' });
  });

  test.each<[string, Record<string, unknown>, string]>([
    ['no engine', {}, '`engine` must be a CacheEngine (CacheEngine.redis(), CacheEngine.valkey() or CacheEngine.memcached()), got: undefined'],
    ['a string engine', { engine: 'redis' }, '`engine` must be a CacheEngine (CacheEngine.redis(), CacheEngine.valkey() or CacheEngine.memcached()), got: "redis"'],
    ['memcached', { engine: memcached }, '`engine` must be Redis or Valkey for a ReplicationGroup (Memcached does not replicate: use a CacheCluster), got: "memcached"'],
    ['7 replicas', { engine: valkey, replicasPerShard: 7 }, '`replicasPerShard` must be an integer between 0 and 5, got: 7'],
    ['-1 replicas', { engine: valkey, replicasPerShard: -1 }, '`replicasPerShard` must be an integer between 0 and 5, got: -1'],
    ['1.5 replicas', { engine: valkey, replicasPerShard: 1.5 }, '`replicasPerShard` must be an integer between 0 and 5, got: 1.5'],
    ['a string of replicas', { engine: valkey, replicasPerShard: '2' }, '`replicasPerShard` must be an integer between 0 and 5, got: "2"'],
    ['a token of replicas', { engine: valkey, replicasPerShard: -1.8881545897087626e289 }, '`replicasPerShard` must be a concrete value known at synth time (it sizes the fleet or is written into its configuration), not a token, got: -1.8881545897087626e+289'],
    ['shards', { engine: valkey, shards: 3 }, '`shards` is not supported yet: cluster mode (Redis Cluster) is planned; leave `shards` unset for one primary with `replicasPerShard` replicas, got: 3'],
    ['port 0', { engine: valkey, port: 0 }, '`port` must be an integer between 1 and 65535, got: 0'],
    ['port 70000', { engine: valkey, port: 70000 }, '`port` must be an integer between 1 and 65535, got: 70000'],
    ['the sentinel port', { engine: valkey, port: 26379 }, '`port` must not be 26379: Sentinel listens there on the same nodes, got: 26379'],
    ['the default user', { engine: valkey, authUsername: 'default' }, '`authUsername` must not be `default` (the default user is switched off), got: "default"'],
    ['an internal user', { engine: valkey, authUsername: 'cachefleet-sentinel' }, "`authUsername` must not be one of cachefleet's own users (cachefleet-sentinel, cachefleet-replication), got: \"cachefleet-sentinel\""],
    ['a user with a space', { engine: valkey, authUsername: 'my app' }, '`authUsername` must be 1 to 64 letters, digits, `_` or `-`, got: "my app"'],
    ['a token user', { engine: valkey, authUsername: '${Token[X]}' }, '`authUsername` must be a concrete value known at synth time (it sizes the fleet or is written into its configuration), not a token, got: "${Token[X]}"'],
    ['a persistence string', { engine: valkey, persistence: 'aof' }, '`persistence` must be a Persistence (Persistence.none(), .rdb(), .aofEverySecond() or .aofAlways()), got: "aof"'],
  ])('refuses %s', (_name, props, message) => {
    expect(messageOf(() => validateReplicationGroupOptions(props as unknown as ReplicationGroupOptions, FAKE_TOKENS))).toBe(message);
  });

  test('a port of 26379 is fine without failover', () => {
    expect(validateReplicationGroupOptions({ engine: valkey, replicasPerShard: 0, port: 26379 }).port).toBe(26379);
  });
});

describe('validateCacheClusterOptions', () => {
  test('defaults: one node, no failover', () => {
    expect(validateCacheClusterOptions({ engine: memcached })).toMatchObject({ dataNodes: 1, failover: false, port: 11211, construct: 'CacheCluster' });
  });

  test('40 Memcached nodes', () => {
    expect(validateCacheClusterOptions({ engine: memcached, numCacheNodes: 40 }).dataNodes).toBe(40);
  });

  test.each<[string, Record<string, unknown>, string]>([
    ['41 nodes', { engine: memcached, numCacheNodes: 41 }, '`numCacheNodes` must be an integer between 1 and 40, got: 41'],
    ['0 nodes', { engine: memcached, numCacheNodes: 0 }, '`numCacheNodes` must be an integer between 1 and 40, got: 0'],
    ['2 Redis nodes', { engine: redis, numCacheNodes: 2 }, '`numCacheNodes` must be 1 for Redis and Valkey (use a ReplicationGroup for replicas), got: 2'],
    ['Memcached with AOF', { engine: memcached, persistence: Persistence.aofEverySecond() }, '`persistence` must be unset or Persistence.none() for Memcached, which keeps no data on disk, got: "aof"'],
  ])('refuses %s', (_name, props, message) => {
    expect(messageOf(() => validateCacheClusterOptions(props as unknown as CacheClusterOptions))).toBe(message);
  });
});

describe('validateAuthToken', () => {
  test.each(['a'.repeat(16), 'x'.repeat(128), 'Str0ng!#$%&*+,-.:;<=>?[]^_`{|}~\\'])('accepts %s', (token) => {
    expect(() => validateAuthToken('authToken', token)).not.toThrow();
  });

  test.each<[string, string, string]>([
    ['15 characters', 'a'.repeat(15), 'a 15-character string'],
    ['129 characters', 'a'.repeat(129), 'a 129-character string'],
    ['a space', 'abcdefgh ijklmnopq', 'a 18-character string'],
    ['an @', 'abcdefgh@ijklmnopq', 'a 18-character string'],
    ['a slash', 'abcdefgh/ijklmnopq', 'a 18-character string'],
    ['a double quote', 'abcdefgh"ijklmnopq', 'a 18-character string'],
    ['a non-ASCII letter', 'abcdefghéijklmnopq', 'a 18-character string'],
  ])('refuses %s without echoing the secret', (_name, token, got) => {
    const message = messageOf(() => validateAuthToken('authToken', token));
    expect(message).toBe(`\`authToken\` must be 16 to 128 printable ASCII characters other than space, \`"\`, \`/\` and \`@\`, got: ${got}`);
    expect(message).not.toContain(token);
  });

  test('leaves an unresolved token to the flavor', () => {
    expect(() => validateAuthToken('authToken', '${Token[X]}', FAKE_TOKENS)).not.toThrow();
  });
});
