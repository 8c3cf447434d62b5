import {
  CacheEngine,
  EngineType,
  MemcachedEngineVersion,
  RedisEngineVersion,
  ValkeyEngineVersion,
} from '../../src/core/engine';

/** Every catalogued engine line, and one through the `of` escape hatch. */
export const ENGINES = {
  redis62: CacheEngine.redis({ version: RedisEngineVersion.VER_6_2 }),
  redis70: CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 }),
  redis72: CacheEngine.redis({ version: RedisEngineVersion.VER_7_2 }),
  redisOf: CacheEngine.redis({ version: RedisEngineVersion.of('7.2.8', '7.2') }),
  valkey72: CacheEngine.valkey({ version: ValkeyEngineVersion.VER_7_2 }),
  valkey80: CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 }),
  valkey81: CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_1 }),
  memcached16: CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 }),
} as const;

/** Engines whose family cachefleet has no parameter catalog for: refused as `engine` when planned. */
export const UNCATALOGED_ENGINES = [
  CacheEngine.redis({ version: RedisEngineVersion.of('9.0.0', '9.0') }),
  CacheEngine.valkey({ version: ValkeyEngineVersion.of('6.0.0', '6.0') }),
  CacheEngine.memcached({ version: MemcachedEngineVersion.of('1.5.22', '1.5') }),
];

export const REDIS_LIKE = Object.values(ENGINES).filter((engine) => engine.engineType !== EngineType.MEMCACHED);

