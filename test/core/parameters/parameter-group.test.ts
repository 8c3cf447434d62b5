import { Construct } from 'constructs';
import {
  CacheEngine,
  MemcachedEngineVersion,
  RedisEngineVersion,
  ValkeyEngineVersion,
} from '../../../src/core/engine';
import { ParameterGroup } from '../../../src/core/parameters/parameter-group';

const root = () => new Construct(undefined as any, 'Root');

/** The engines the tables name, by a label that reads well in test titles. */
const ENGINES = {
  'Redis 6.2': CacheEngine.redis({ version: RedisEngineVersion.VER_6_2 }),
  'Redis 7.0': CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 }),
  'Redis 7.2': CacheEngine.redis({ version: RedisEngineVersion.VER_7_2 }),
  'Valkey 7.2': CacheEngine.valkey({ version: ValkeyEngineVersion.VER_7_2 }),
  'Valkey 8.0': CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 }),
  'Valkey 8.1': CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_1 }),
  'Memcached 1.6': CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 }),
};
type EngineLabel = keyof typeof ENGINES;
const REDIS_7_2 = ENGINES['Redis 7.2'];
const VALKEY_8_0 = ENGINES['Valkey 8.0'];
const MEMCACHED = ENGINES['Memcached 1.6'];

const REDIS_FAMILIES = 'redis6.x, redis7, valkey7, valkey8';

describe('ParameterGroup', () => {
  test('GIVEN an engine and parameters WHEN created THEN it knows its engine, family and parameters', () => {
    // GIVEN / WHEN
    const group = new ParameterGroup(root(), 'Params', {
      engine: VALKEY_8_0,
      parameters: { 'maxmemory-policy': 'allkeys-lru', 'notify-keyspace-events': 'Ex' },
    });

    // THEN
    expect(group.engine).toBe(VALKEY_8_0);
    expect(group.family).toBe('valkey8');
    expect(group.parameters).toEqual({ 'maxmemory-policy': 'allkeys-lru', 'notify-keyspace-events': 'Ex' });
  });

  test('GIVEN no parameters WHEN created THEN it sets none and describes itself by family', () => {
    const group = new ParameterGroup(root(), 'Params', { engine: REDIS_7_2 });

    expect(group.parameters).toEqual({});
    expect(group.description).toBe('Parameters of a redis7 fleet');
  });

  test('GIVEN a description WHEN created THEN it keeps it', () => {
    const group = new ParameterGroup(root(), 'Params', { engine: MEMCACHED, description: 'Page cache' });

    expect(group.description).toBe('Page cache');
  });

  test('GIVEN values in another case or with units WHEN created THEN they are kept as the engine gets them', () => {
    const group = new ParameterGroup(root(), 'Params', {
      engine: REDIS_7_2,
      parameters: { 'appendonly': 'YES', 'repl-backlog-size': '16mb', 'maxmemory-policy': 'AllKeys-LFU', 'save': ' 900 1  300 10 ' },
    });

    expect(group.parameters).toEqual({
      'appendonly': 'yes',
      'repl-backlog-size': '16777216',
      'maxmemory-policy': 'allkeys-lfu',
      'save': '900 1 300 10',
    });
  });

  test('GIVEN a group WHEN its parameters are changed by the caller THEN the group is not', () => {
    const group = new ParameterGroup(root(), 'Params', { engine: REDIS_7_2, parameters: { timeout: '300' } });

    group.parameters.timeout = '5';

    expect(group.parameters).toEqual({ timeout: '300' });
  });

  test.each([
    ['Redis 6.2', 'hash-max-ziplist-entries', '256', '256'],
    ['Redis 6.2', 'acl-pubsub-default', 'resetchannels', 'resetchannels'],
    ['Redis 7.0', 'maxmemory-clients', '10%', '10%'],
    ['Redis 7.0', 'client-output-buffer-limit-pubsub-hard-limit', '64mb', '67108864'],
    ['Redis 7.2', 'set-max-listpack-entries', '256', '256'],
    ['Redis 7.2', 'latency-tracking-info-percentiles', '50 99 99.99', '50 99 99.99'],
    ['Redis 7.2', 'notify-keyspace-events', 'KEA', 'KEA'],
    ['Redis 7.2', 'notify-keyspace-events', '', ''],
    ['Redis 7.2', 'save', '', ''],
    ['Redis 7.2', 'cluster-enabled', 'no', 'no'],
    // Accepted by the group; the planner checks it against the fleet's clusterMode.
    ['Redis 7.2', 'cluster-enabled', 'yes', 'yes'],
    ['Valkey 8.0', 'cluster-node-timeout', '15000', '15000'],
    ['Valkey 8.0', 'cluster-migration-barrier', '2', '2'],
    ['Redis 7.2', 'close-on-replica-write', 'no', 'no'],
    ['Redis 7.2', 'slowlog-log-slower-than', '-1', '-1'],
    ['Valkey 7.2', 'hash-max-listpack-value', '128', '128'],
    ['Valkey 8.0', 'extended-redis-compatibility', 'no', 'no'],
    ['Valkey 8.0', 'reserved-memory-percent', '0', '0'],
    ['Valkey 8.1', 'commandlog-reply-larger-than', '-1', '-1'],
    ['Memcached 1.6', 'max_item_size', '2097152', '2097152'],
    ['Memcached 1.6', 'chunk_size_growth_factor', '1.05', '1.05'],
    ['Memcached 1.6', 'binding_protocol', 'ASCII', 'ascii'],
    ['Memcached 1.6', 'no_modern', '1', '1'],
    ['Memcached 1.6', 'reserved-memory-percent', '90', '90'],
  ] as Array<[EngineLabel, string, string, string]>)('GIVEN %s WHEN %s is set to %j THEN it is accepted as %j', (label, name, value, stored) => {
    const group = new ParameterGroup(root(), 'Params', { engine: ENGINES[label], parameters: { [name]: value } });

    expect(group.parameters).toEqual({ [name]: stored });
  });

  test.each([
    // Unknown names, with a suggestion when one is close.
    ['Redis 7.2', 'maxmemory-polcy', 'allkeys-lru', '`parameters.maxmemory-polcy` is not a parameter of the redis7 family (did you mean `maxmemory-policy`?), got: "allkeys-lru"'],
    ['Valkey 8.0', 'maxmemory_policy', 'allkeys-lru', '`parameters.maxmemory_policy` is not a parameter of the valkey8 family (did you mean `maxmemory-policy`?), got: "allkeys-lru"'],
    ['Memcached 1.6', 'max-item-size', '2097152', '`parameters.max-item-size` is not a parameter of the memcached1.6 family (did you mean `max_item_size`?), got: "2097152"'],
    ['Redis 7.2', 'turbo-mode', 'yes', '`parameters.turbo-mode` is not a parameter of the redis7 family, got: "yes"'],
    // Wrong types, out of range, values not allowed.
    ['Redis 7.2', 'timeout', 'abc', '`parameters.timeout` must be an integer of at least 0, got: "abc"'],
    ['Redis 7.2', 'timeout', '-1', '`parameters.timeout` must be an integer of at least 0, got: "-1"'],
    ['Redis 7.2', 'timeout', '2147483648', '`parameters.timeout` must be an integer of at least 0, got: "2147483648"'],
    ['Redis 7.2', 'maxmemory-samples', '65', '`parameters.maxmemory-samples` must be an integer from 1 to 64, got: "65"'],
    ['Redis 7.2', 'hz', '0', '`parameters.hz` must be an integer from 1 to 500, got: "0"'],
    ['Redis 7.2', 'activedefrag', 'true', '`parameters.activedefrag` must be yes or no, got: "true"'],
    [
      'Redis 7.2',
      'maxmemory-policy',
      'lru',
      '`parameters.maxmemory-policy` must be one of volatile-lru, allkeys-lru, volatile-lfu, allkeys-lfu, volatile-random, allkeys-random, volatile-ttl, noeviction, got: "lru"',
    ],
    ['Redis 7.2', 'repl-backlog-size', '1k', '`parameters.repl-backlog-size` must be a size in bytes, or with a unit such as 64mb or 1gb, of at least 16kb, got: "1k"'],
    ['Redis 7.2', 'client-query-buffer-limit', '1.5gb', '`parameters.client-query-buffer-limit` must be a size in bytes, or with a unit such as 64mb or 1gb, of at least 1mb, got: "1.5gb"'],
    [
      'Redis 7.2',
      'maxmemory-clients',
      '101%',
      '`parameters.maxmemory-clients` must be a size in bytes, or with a unit such as 64mb, or a percentage of maxmemory from 1% to 100%, got: "101%"',
    ],
    ['Redis 7.2', 'notify-keyspace-events', 'Exo', '`parameters.notify-keyspace-events` must be empty or a combination of the letters KEg$lshzxetmdnA, got: "Exo"'],
    ['Redis 6.2', 'notify-keyspace-events', 'En', '`parameters.notify-keyspace-events` must be empty or a combination of the letters KEg$lshzxetmA, got: "En"'],
    [
      'Redis 7.2',
      'save',
      '0 1',
      '`parameters.save` must be empty (no snapshots) or pairs of "<seconds> <changes>" such as "3600 1 300 100", seconds at least 1, got: "0 1"',
    ],
    ['Redis 7.2', 'latency-tracking-info-percentiles', '50 101', '`parameters.latency-tracking-info-percentiles` must be empty or space-separated percentiles from 0 to 100, such as "50 99 99.9", got: "50 101"'],
    ['Valkey 8.0', 'reserved-memory-percent', '91', '`parameters.reserved-memory-percent` must be an integer from 0 to 90, got: "91"'],
    ['Memcached 1.6', 'cas_disabled', 'yes', '`parameters.cas_disabled` must be 0 or 1, got: "yes"'],
    ['Memcached 1.6', 'chunk_size_growth_factor', '1', '`parameters.chunk_size_growth_factor` must be a number greater than 1 and at most 100, got: "1"'],
    ['Memcached 1.6', 'slab_chunk_max', '1000', '`parameters.slab_chunk_max` must be a power of two from 1024 to 1048576, got: "1000"'],
    ['Memcached 1.6', 'binding_protocol', 'binary', '`parameters.binding_protocol` must be one of auto, ascii, got: "binary"'],
    // Parameters of another family, or of a later engine version.
    ['Redis 6.2', 'set-max-listpack-entries', '128', '`parameters.set-max-listpack-entries` is not a parameter of the redis6.x family (it belongs to redis7, valkey7, valkey8), got: "128"'],
    ['Redis 6.2', 'latency-tracking', 'yes', '`parameters.latency-tracking` is not a parameter of the redis6.x family (it belongs to redis7, valkey7, valkey8), got: "yes"'],
    ['Redis 7.2', 'extended-redis-compatibility', 'yes', '`parameters.extended-redis-compatibility` is not a parameter of the redis7 family (it belongs to valkey8), got: "yes"'],
    ['Memcached 1.6', 'maxmemory-policy', 'allkeys-lru', `\`parameters.maxmemory-policy\` is not a parameter of the memcached1.6 family (it belongs to ${REDIS_FAMILIES}), got: "allkeys-lru"`],
    ['Valkey 8.0', 'max_item_size', '2097152', '`parameters.max_item_size` is not a parameter of the valkey8 family (it belongs to memcached1.6), got: "2097152"'],
    ['Redis 7.0', 'set-max-listpack-entries', '128', `\`parameters.set-max-listpack-entries\` needs Redis 7.2 or later (the engine is Redis ${ENGINES['Redis 7.0'].engineVersion}), got: "128"`],
    ['Valkey 8.0', 'commandlog-large-reply-max-len', '64', `\`parameters.commandlog-large-reply-max-len\` needs Valkey 8.1 or later (the engine is Valkey ${ENGINES['Valkey 8.0'].engineVersion}), got: "64"`],
    // Renamed parameters.
    ['Redis 7.2', 'hash-max-ziplist-entries', '256', '`parameters.hash-max-ziplist-entries` was renamed `hash-max-listpack-entries`: set that name instead, got: "256"'],
    ['Redis 6.2', 'min-slaves-to-write', '1', '`parameters.min-slaves-to-write` was renamed `min-replicas-to-write`: set that name instead, got: "1"'],
    // ElastiCache's own names, and what cachefleet sets itself.
    ['Redis 7.2', 'cluster-enabled', 'maybe', '`parameters.cluster-enabled` must be yes or no, got: "maybe"'],
    ['Valkey 8.0', 'cluster-node-timeout', '0', '`parameters.cluster-node-timeout` must be an integer of at least 1, got: "0"'],
    [
      'Valkey 8.0',
      'close-on-replica-write',
      'yes',
      '`parameters.close-on-replica-write` must be no: Redis answers a write sent to a replica with a READONLY error and keeps the connection, and cachefleet has no proxy to close it (reconnect on READONLY in the client instead, as ioredis `reconnectOnError` does), got: "yes"',
    ],
    [
      'Redis 7.2',
      'reserved-memory',
      '104857600',
      "`parameters.reserved-memory` is ElastiCache's fixed reserve in bytes; cachefleet reserves a share of each node's memory instead: set `reserved-memory-percent` (0 to 90), got: \"104857600\"",
    ],
    ['Redis 7.2', 'maxmemory', '1gb', "`parameters.maxmemory` is computed at boot by the node agent: the node's memory less `reserved-memory-percent`, got: \"1gb\""],
    ['Redis 7.2', 'port', '6380', '`parameters.port` is set from the `port` prop, got: "6380"'],
    ['Valkey 8.0', 'search-default-timeout-ms', '1000', '`parameters.search-default-timeout-ms` configures the valkey-search module, which cachefleet nodes do not load, got: "1000"'],
    [
      'Memcached 1.6',
      'memcached_connections_overhead',
      '200',
      "`parameters.memcached_connections_overhead` is ElastiCache's fixed reserve in megabytes; cachefleet reserves a share instead: set `reserved-memory-percent` (0 to 90), the share of each node's memory kept from memcached, got: \"200\"",
    ],
    [
      'Memcached 1.6',
      'worker_logbuf_size',
      '128',
      "`parameters.worker_logbuf_size` must be 64: memcached's worker_logbuf_size option also replaces its slab classes with a single class of that many bytes (its option parser lacks a break), so cachefleet never passes it and memcached keeps its 64 KB, got: \"128\"",
    ],
    // Values that only make sense together.
    ['Memcached 1.6', 'max_item_size', '1048577', '`parameters.max_item_size` must be a multiple of slab_chunk_max (524288), got: "1048577"'],
    ['Memcached 1.6', 'max_item_size', '262144', '`parameters.max_item_size` must be a multiple of slab_chunk_max (524288), got: "262144"'],
    // Tokens cannot be written into a configuration file.
    ['Redis 7.2', 'timeout', '${Token[TOKEN.12]}', '`parameters.timeout` must be a concrete value known at synth time (it is written into the nodes\' configuration), not a token, got: "${Token[TOKEN.12]}"'],
  ] as Array<[EngineLabel, string, string, string]>)('GIVEN %s WHEN %s is set to %j THEN it is refused', (label, name, value, message) => {
    const engine = ENGINES[label];
    // WHEN / THEN
    expect(() => new ParameterGroup(root(), 'Params', { engine, parameters: { [name]: value } })).toThrow(message);
    expect(() => new ParameterGroup(root(), 'Params', { engine }).addParameter(name, value)).toThrow(message);
  });

  test('GIVEN a value that is not a string (from JavaScript) WHEN created THEN it is refused', () => {
    const parameters = { timeout: 300 } as unknown as { [name: string]: string };

    expect(() => new ParameterGroup(root(), 'Params', { engine: REDIS_7_2, parameters })).toThrow(
      '`parameters.timeout` must be a string (parameter values are strings, as in ElastiCache parameter groups), got: 300',
    );
  });

  test('GIVEN an invalid parameter WHEN created THEN the error is a ValidationError naming the parameter', () => {
    try {
      new ParameterGroup(root(), 'Params', { engine: REDIS_7_2, parameters: { timeout: 'soon' } });
      throw new Error('no error');
    } catch (error: any) {
      expect(error.name).toBe('ValidationError');
      expect(error.propPath).toBe('parameters.timeout');
      expect(error.value).toBe('soon');
    }
  });

  test('GIVEN an engine of a family with no catalog WHEN created THEN the engine is refused', () => {
    const engine = CacheEngine.redis({ version: RedisEngineVersion.of('9.0.0', '9.0') });

    expect(() => new ParameterGroup(root(), 'Params', { engine })).toThrow(
      '`engine` must have a parameter group family cachefleet has a catalog for (redis6.x, redis7, valkey7, valkey8, memcached1.6), got: "redis9"',
    );
  });

  describe('addParameter', () => {
    test('GIVEN a group WHEN a parameter is added THEN it is set', () => {
      const group = new ParameterGroup(root(), 'Params', { engine: VALKEY_8_0, parameters: { 'maxmemory-policy': 'allkeys-lru' } });

      group.addParameter('timeout', '300');

      expect(group.parameters).toEqual({ 'maxmemory-policy': 'allkeys-lru', 'timeout': '300' });
    });

    test('GIVEN a parameter already set WHEN it is added again THEN the new value replaces it', () => {
      const group = new ParameterGroup(root(), 'Params', { engine: VALKEY_8_0, parameters: { timeout: '300' } });

      group.addParameter('timeout', '60');

      expect(group.parameters).toEqual({ timeout: '60' });
    });

    test('GIVEN a refused value WHEN added THEN the group keeps what it had', () => {
      const group = new ParameterGroup(root(), 'Params', { engine: VALKEY_8_0, parameters: { timeout: '300' } });

      expect(() => group.addParameter('timeout', 'never')).toThrow('`parameters.timeout` must be an integer of at least 0, got: "never"');
      expect(group.parameters).toEqual({ timeout: '300' });
    });

    test('GIVEN a memcached group WHEN a parameter added no longer fits the others THEN it is refused', () => {
      const group = new ParameterGroup(root(), 'Params', { engine: MEMCACHED, parameters: { max_item_size: '1048576' } });

      expect(() => group.addParameter('slab_chunk_max', '2097152')).toThrow('`parameters.slab_chunk_max` must be a power of two from 1024 to 1048576');
      group.addParameter('slab_chunk_max', '262144');
      expect(() => group.addParameter('max_item_size', '786432')).not.toThrow();
      expect(() => group.addParameter('slab_chunk_max', '1048576')).toThrow(
        '`parameters.slab_chunk_max` must divide max_item_size (786432) evenly and be at most it, got: "1048576"',
      );
    });

    test('GIVEN a memcached group WHEN no_modern is set THEN its preset must still fit the item size', () => {
      const group = new ParameterGroup(root(), 'Params', { engine: MEMCACHED, parameters: { max_item_size: '524288' } });

      // no_modern sets slab_chunk_max to 1 MiB, which a 512 KiB item cannot hold.
      expect(() => group.addParameter('no_modern', '1')).toThrow('`parameters.max_item_size` must be a multiple of slab_chunk_max (1048576), got: "524288"');
    });
  });
});

describe('ParameterGroup props', () => {
  test.each<[string, Record<string, unknown>, string]>([
    ['no engine', {}, '`engine` must be a CacheEngine (CacheEngine.redis(), CacheEngine.valkey() or CacheEngine.memcached()), got: undefined'],
    ['an engine name', { engine: 'valkey8' }, '`engine` must be a CacheEngine (CacheEngine.redis(), CacheEngine.valkey() or CacheEngine.memcached()), got: "valkey8"'],
    ['a list of parameters', { engine: VALKEY_8_0, parameters: ['timeout'] }, '`parameters` must be an object of parameter names to string values, got: ["timeout"]'],
    ['a number value', { engine: VALKEY_8_0, parameters: { timeout: 300 } }, '`parameters.timeout` must be a string (parameter values are strings, as in ElastiCache parameter groups), got: 300'],
    ['a numeric description', { engine: VALKEY_8_0, description: 7 }, '`description` must be a string, got: 7'],
  ])('GIVEN %s WHEN created THEN a ValidationError names the prop', (_name, props, message) => {
    expect(() => new ParameterGroup(root(), 'Params', props as any)).toThrow(message);
  });
});
