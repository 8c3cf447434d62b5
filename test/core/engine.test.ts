import {
  CacheEngine,
  EngineType,
  MemcachedEngineVersion,
  RedisEngineVersion,
  ValkeyEngineVersion,
} from '../../src/core/engine';

describe('CacheEngine', () => {
  test.each([
    ['Redis 6.2', CacheEngine.redis({ version: RedisEngineVersion.VER_6_2 }), EngineType.REDIS, '6.2', 'redis6.x', 6379],
    ['Redis 7.0', CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 }), EngineType.REDIS, '7.0', 'redis7', 6379],
    ['Redis 7.2', CacheEngine.redis({ version: RedisEngineVersion.VER_7_2 }), EngineType.REDIS, '7.2', 'redis7', 6379],
    ['Valkey 7.2', CacheEngine.valkey({ version: ValkeyEngineVersion.VER_7_2 }), EngineType.VALKEY, '7.2', 'valkey7', 6379],
    ['Valkey 8.0', CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 }), EngineType.VALKEY, '8.0', 'valkey8', 6379],
    ['Valkey 8.1', CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_1 }), EngineType.VALKEY, '8.1', 'valkey8', 6379],
    ['Memcached 1.6', CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 }), EngineType.MEMCACHED, '1.6', 'memcached1.6', 11211],
  ])('%s: type, major line, family and port', (_name, engine, type, major, family, port) => {
    // THEN
    expect(engine.engineType).toBe(type);
    expect(engine.majorVersion).toBe(major);
    expect(engine.engineVersion.startsWith(`${major}.`)).toBe(true);
    expect(engine.parameterGroupFamily).toBe(family);
    expect(engine.defaultPort).toBe(port);
    expect(engine.supportsReplication).toBe(type !== EngineType.MEMCACHED);
  });

  test('every listed version is deployable: a pinned image, and a package where Amazon Linux 2023 has one', () => {
    const versions = [
      RedisEngineVersion.VER_6_2, RedisEngineVersion.VER_7_0, RedisEngineVersion.VER_7_2,
      ValkeyEngineVersion.VER_7_2, ValkeyEngineVersion.VER_8_0, ValkeyEngineVersion.VER_8_1,
      MemcachedEngineVersion.VER_1_6,
    ];
    for (const version of versions) {
      // An image pinned to the exact version, never a floating tag.
      expect(version.installation.containerImage).toMatch(new RegExp(`:${version.fullVersion.replace(/\./g, '\\.')}$`));
    }
    expect(RedisEngineVersion.VER_6_2.installation).toMatchObject({ amazonLinuxPackage: 'redis6', amazonLinuxBinaryPrefix: 'redis6' });
    expect(MemcachedEngineVersion.VER_1_6.installation.amazonLinuxPackage).toBe('memcached');
    // Redis 7.x has no Amazon Linux 2023 package: it runs from the image, it is not refused.
    expect(RedisEngineVersion.VER_7_2.installation.amazonLinuxPackage).toBeUndefined();
  });

  test('of() is the escape hatch for versions not listed yet', () => {
    // WHEN
    const redis = CacheEngine.redis({ version: RedisEngineVersion.of('7.2.9', '7.2') });
    const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.of('8.1.3', '8.1', 'registry.example/valkey:8.1.3') });
    const memcached = CacheEngine.memcached({ version: MemcachedEngineVersion.of('1.6.40', '1.6') });

    // THEN
    expect(redis.engineVersion).toBe('7.2.9');
    expect(redis.parameterGroupFamily).toBe('redis7');
    expect(redis.installation.containerImage).toBe('redis:7.2.9');
    expect(valkey.installation.containerImage).toBe('registry.example/valkey:8.1.3');
    expect(memcached.installation.containerImage).toBe('memcached:1.6.40');
  });
});

describe('CacheEngine: a version of another engine, a major line that is not the version\'s', () => {
  test.each([
    ['a Valkey version for Redis', () => CacheEngine.redis({ version: ValkeyEngineVersion.VER_7_2 as unknown as RedisEngineVersion }),
      '`version` must be a RedisEngineVersion (RedisEngineVersion.VER_7_2 or RedisEngineVersion.of(...)), got: an instance of ValkeyEngineVersion'],
    ['a Memcached version for Valkey', () => CacheEngine.valkey({ version: MemcachedEngineVersion.VER_1_6 as unknown as ValkeyEngineVersion }),
      '`version` must be a ValkeyEngineVersion (ValkeyEngineVersion.VER_8_0 or ValkeyEngineVersion.of(...)), got: an instance of MemcachedEngineVersion'],
    ['a string for Memcached', () => CacheEngine.memcached({ version: '1.6' as unknown as MemcachedEngineVersion }),
      '`version` must be a MemcachedEngineVersion (MemcachedEngineVersion.VER_1_6 or MemcachedEngineVersion.of(...)), got: "1.6"'],
    ['another major line', () => RedisEngineVersion.of('7.2.8', '6.2'), '`majorVersion` must be the major.minor line of 7.2.8 (7.2), got: "6.2"'],
    ['no patch level', () => ValkeyEngineVersion.of('8.1', '8.1'), '`fullVersion` must be a full version such as "7.2.8" (major.minor.patch), got: "8.1"'],
  ])('%s is refused', (_what, make, message) => {
    expect(make).toThrow(message);
  });
});
