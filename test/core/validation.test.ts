import { CacheEngine, MemcachedEngineVersion, RedisEngineVersion, ValkeyEngineVersion } from '../../src/core/engine';
import { ValidationError } from '../../src/core/errors';
import { CacheClusterOptions, ReplicationGroupOptions } from '../../src/core/fleet-options';
import {
  AUTH_TOKEN_RULE,
  followsAuthTokenRule,
  requireAuthTokenRule,
  TokenCheck,
  validateCacheClusterOptions,
  validateReplicationGroupOptions,
} from '../../src/core/validation';
import { INVALID_CACHE_CLUSTER_PROPS, INVALID_REPLICATION_GROUP_PROPS, NUMBER_TOKEN, STRING_TOKEN } from '../shared/invalid-fleet-props';

const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });
const redis = CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 });
const memcached = CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 });

/** Stands in for a flavor's token check: strings and numbers marked as tokens. */
const FAKE_TOKENS: TokenCheck = { isUnresolved: (value) => value === STRING_TOKEN || value === NUMBER_TOKEN };

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

  test.each(INVALID_REPLICATION_GROUP_PROPS)('refuses %s', (_name, props, message) => {
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

  test.each(INVALID_CACHE_CLUSTER_PROPS)('refuses %s', (_name, props, message) => {
    expect(messageOf(() => validateCacheClusterOptions(props as unknown as CacheClusterOptions))).toBe(message);
  });
});

describe('AUTH_TOKEN_RULE', () => {
  const accepts = (token: string) =>
    token.length >= AUTH_TOKEN_RULE.minLength && token.length <= AUTH_TOKEN_RULE.maxLength && new RegExp(AUTH_TOKEN_RULE.pattern).test(token);

  test('ElastiCache\'s limits, in words too', () => {
    expect(AUTH_TOKEN_RULE).toMatchObject({ minLength: 16, maxLength: 128 });
    expect(AUTH_TOKEN_RULE.allowed).toBe('16 to 128 printable ASCII characters other than space, ", / and @');
  });

  test.each(['a'.repeat(16), 'x'.repeat(128), 'Str0ng!#$%&*+,-.:;<=>?[]^_`{|}~\\'])('accepts %s', (token) => {
    expect(accepts(token)).toBe(true);
  });

  test.each<[string, string]>([
    ['15 characters', 'a'.repeat(15)],
    ['129 characters', 'a'.repeat(129)],
    ['a space', 'abcdefgh ijklmnopq'],
    ['an @', 'abcdefgh@ijklmnopq'],
    ['a slash', 'abcdefgh/ijklmnopq'],
    ['a double quote', 'abcdefgh"ijklmnopq'],
    ['a non-ASCII letter', 'abcdefghéijklmnopq'],
    ['a newline', 'abcdefgh\nijklmnopq'],
  ])('refuses %s', (_name, token) => {
    expect(accepts(token)).toBe(false);
  });

  test('the pattern admits exactly the printable ASCII characters other than space, ", / and @', () => {
    const admitted = Array.from({ length: 128 }, (_, code) => String.fromCharCode(code)).filter((c) => new RegExp(AUTH_TOKEN_RULE.pattern).test(c));
    const printable = Array.from({ length: 0x7f - 0x21 }, (_, i) => String.fromCharCode(0x21 + i));
    expect(admitted).toEqual(printable.filter((c) => !'"/@'.includes(c)));
  });

  test('one statement: the pattern admits exactly the printable ASCII characters but refusedCharacters, the words say the same', () => {
    expect(AUTH_TOKEN_RULE.refusedCharacters).toBe(' "/@');
    const admitted = Array.from({ length: 128 }, (_, code) => String.fromCharCode(code)).filter((c) => new RegExp(AUTH_TOKEN_RULE.pattern).test(c));
    const printable = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));
    expect(admitted).toEqual(printable.filter((c) => !AUTH_TOKEN_RULE.refusedCharacters.includes(c)));
    for (const c of AUTH_TOKEN_RULE.refusedCharacters) expect(AUTH_TOKEN_RULE.allowed).toContain(c === ' ' ? 'space' : c);
  });

  test.each(['a'.repeat(16), 'x'.repeat(128), 'a'.repeat(15), 'a'.repeat(129), 'abcdefgh@ijklmnopq', 'abcdefgh ijklmnopq', 'abcdefghéijklmnopq'])(
    'followsAuthTokenRule agrees with the pattern and lengths: %s', (token) => {
      expect(followsAuthTokenRule(token)).toBe(accepts(token));
    });

  test('requireAuthTokenRule names the prop and never shows the token', () => {
    expect(() => requireAuthTokenRule('authToken', 'Str0ng-and-long-enough')).not.toThrow();
    const error = (() => {
      try {
        requireAuthTokenRule('authToken', 'short@token');
      } catch (e) {
        return e as Error;
      }
      throw new Error('nothing was thrown');
    })();
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe('`authToken` must be 16 to 128 printable ASCII characters other than space, ", / and @, got: a 11-character string');
    expect(error.message).not.toContain('short@token');
  });
});
