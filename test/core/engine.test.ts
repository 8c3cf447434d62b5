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

  test('every listed version is deployable: an image from ECR Public, a package where Amazon Linux 2023 has one', () => {
    const versions = [
      RedisEngineVersion.VER_6_2, RedisEngineVersion.VER_7_0, RedisEngineVersion.VER_7_2,
      ValkeyEngineVersion.VER_7_2, ValkeyEngineVersion.VER_8_0, ValkeyEngineVersion.VER_8_1,
      MemcachedEngineVersion.VER_1_6,
    ];
    for (const version of versions) {
      // Pulled from a registry inside AWS, the exact version's tag, never a floating one.
      expect(version.installation.containerImage).toMatch(
        new RegExp(`^public\\.ecr\\.aws/[a-z/]+:${version.fullVersion.replace(/\./g, '\\.')}(@sha256:[0-9a-f]{64})?$`));
    }
    expect(RedisEngineVersion.VER_6_2.installation).toMatchObject({ amazonLinuxPackage: 'redis6', amazonLinuxBinaryPrefix: 'redis6', engineUser: 'redis' });
    expect(MemcachedEngineVersion.VER_1_6.installation).toMatchObject({ amazonLinuxPackage: 'memcached', engineUser: 'memcached' });
    // Redis 7.x has no Amazon Linux 2023 package, and AL2023's valkey package is Valkey 9.0 (release
    // 2023.11.20260427): these run from the image, they are not refused.
    const imageOnly = [
      RedisEngineVersion.VER_7_0, RedisEngineVersion.VER_7_2, ValkeyEngineVersion.VER_7_2, ValkeyEngineVersion.VER_8_0, ValkeyEngineVersion.VER_8_1,
    ];
    for (const version of imageOnly) {
      expect(version.installation.amazonLinuxPackage).toBeUndefined();
    }
  });

  // The digests of the images' multi-platform indexes, as published by docker-library/repo-info
  // (repos/<image>/remote/<tag>.md); ECR Public's docker/library serves the same digests.
  test.each([
    ['Redis 6.2', RedisEngineVersion.VER_6_2, 'public.ecr.aws/docker/library/redis:6.2.24@sha256:e7b96daa9a182b0a2639253fdab98244190ec2dca8a41da3fb31a147ef71a870'],
    ['Redis 7.2', RedisEngineVersion.VER_7_2, 'public.ecr.aws/docker/library/redis:7.2.16@sha256:0637954999d01b7c9ce9167db2da50656e2590d3b884f1c600c5f63bb6e6773c'],
    ['Memcached 1.6', MemcachedEngineVersion.VER_1_6, 'public.ecr.aws/docker/library/memcached:1.6.45@sha256:75c93cc91e76853da7c029e74d6e8dbd44774dd3713c93be8cd1971ad26120a4'],
  ])('%s is pinned by digest', (_name, version, image) => {
    expect(version.installation.containerImage).toBe(image);
  });

  test('the engine runs as the image\'s own user in a container and as a named system user on EC2, never root', () => {
    expect(CacheEngine.redis({ version: RedisEngineVersion.VER_7_2 })).toMatchObject({ engineUser: 'redis', installation: { containerUser: '999:999' } });
    expect(CacheEngine.redis({ version: RedisEngineVersion.VER_6_2 })).toMatchObject({ engineUser: 'redis', installation: { containerUser: '999:999' } });
    expect(CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 })).toMatchObject({ engineUser: 'valkey', installation: { containerUser: '999:999' } });
    expect(CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 })).toMatchObject({ engineUser: 'memcached', installation: { containerUser: '11211:11211' } });
  });

  test('of() is the escape hatch for versions not listed yet', () => {
    // WHEN
    const redis = CacheEngine.redis({ version: RedisEngineVersion.of('7.2.9', '7.2') });
    const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.of('8.1.3', '8.1', 'registry.example/valkey:8.1.3') });
    const memcached = CacheEngine.memcached({ version: MemcachedEngineVersion.of('1.6.40', '1.6') });

    // THEN
    expect(redis.engineVersion).toBe('7.2.9');
    expect(redis.parameterGroupFamily).toBe('redis7');
    expect(redis.installation.containerImage).toBe('public.ecr.aws/docker/library/redis:7.2.9');
    expect(valkey.installation.containerImage).toBe('registry.example/valkey:8.1.3');
    expect(memcached.installation.containerImage).toBe('public.ecr.aws/docker/library/memcached:1.6.40');
    // A version of() names runs from its image everywhere.
    expect(redis.installation.amazonLinuxPackage).toBeUndefined();
  });
});

describe('CacheEngine.withContainerRegistry: a private mirror or an ECR pull-through cache', () => {
  const mirror = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecr-public';

  test.each([
    ['Redis 7.2', CacheEngine.redis({ version: RedisEngineVersion.VER_7_2 }),
      `${mirror}/docker/library/redis:7.2.16@sha256:0637954999d01b7c9ce9167db2da50656e2590d3b884f1c600c5f63bb6e6773c`],
    ['Valkey 8.0', CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 }), `${mirror}/valkey/valkey:8.0.2`],
    ['a Docker Hub name', CacheEngine.valkey({ version: ValkeyEngineVersion.of('8.1.3', '8.1', 'valkey/valkey:8.1.3') }), `${mirror}/valkey/valkey:8.1.3`],
    ['a registry with a port', CacheEngine.redis({ version: RedisEngineVersion.of('7.2.9', '7.2', 'localhost:5000/redis:7.2.9') }), `${mirror}/redis:7.2.9`],
  ])('%s: the mirror replaces the registry, the repository, tag and digest stay', (_name, engine, image) => {
    // WHEN
    const mirrored = engine.withContainerRegistry(mirror);

    // THEN
    expect(mirrored.installation.containerImage).toBe(image);
    expect(mirrored.engineVersion).toBe(engine.engineVersion);
    expect(mirrored.installation.amazonLinuxPackage).toBe(engine.installation.amazonLinuxPackage);
    // The engine it came from is unchanged.
    expect(engine.installation.containerImage.startsWith(mirror)).toBe(false);
  });

  test.each([
    ['https://registry.example', 'a scheme'],
    ['registry.example/redis:7', 'a tag'],
    ['registry.example/', 'a trailing slash'],
    ['', 'nothing'],
    ['Registry.Example', 'capitals'],
  ])('%s (%s) is refused', (registry) => {
    expect(() => CacheEngine.redis({ version: RedisEngineVersion.VER_7_2 }).withContainerRegistry(registry)).toThrow(
      `\`containerRegistry\` must be a registry host with an optional port and path prefix, such as "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecr-public" (no scheme, tag or digest), got: ${JSON.stringify(registry)}`);
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
