import { Construct } from 'constructs';
import { CacheEngine, MemcachedEngineVersion, ValkeyEngineVersion } from '../../src/core/engine';
import { ValidationError } from '../../src/core/errors';
import { ParameterGroup } from '../../src/core/parameters/parameter-group';
import { Persistence, PersistenceMode } from '../../src/core/persistence';
import { fleetName, planFleet, reservedHostCount, SlotPosition } from '../../src/core/topology';
import { validateCacheClusterOptions, validateReplicationGroupOptions, ValidatedFleet } from '../../src/core/validation';

const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });
const memcached = CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 });

/** Addresses like a flavor's: zone z is 10.0.z.0/24, slots from .10 up. */
const addressOf = (position: SlotPosition) => `10.0.${position.zoneIndex}.${10 + position.indexInZone}`;

function replicationGroup(replicasPerShard: number, zoneCount = 3, extra: object = {}) {
  const fleet = validateReplicationGroupOptions({ engine: valkey, replicasPerShard, ...extra });
  return planFleet({ name: 'sessions', fleet, zoneCount, addressOf });
}

describe('planFleet: replication groups', () => {
  test('1 + 2 over 3 zones: one primary, two replicas, a sentinel on each data node', () => {
    // WHEN
    const plan = replicationGroup(2);

    // THEN
    expect(plan.kind).toBe('replication');
    expect(plan.slots.map((s) => [s.name, s.role, s.zoneIndex, s.address, s.enginePort, s.sentinelPort, s.services.join('+')])).toEqual([
      ['node-0', 'primary', 0, '10.0.0.10', 6379, 26379, 'redis+sentinel'],
      ['node-1', 'replica', 1, '10.0.1.10', 6379, 26379, 'redis+sentinel'],
      ['node-2', 'replica', 2, '10.0.2.10', 6379, 26379, 'redis+sentinel'],
    ]);
    expect(plan.sentinel).toEqual({
      masterName: 'sessions',
      quorum: 2,
      downAfterMillis: 5000,
      failoverTimeoutMillis: 10000,
      parallelSyncs: 1,
      endpoints: ['10.0.0.10:26379', '10.0.1.10:26379', '10.0.2.10:26379'],
    });
    expect(plan.slots.every((s) => s.shard === 0)).toBe(true);
  });

  test('1 + 1: a sentinel-only slot makes three, in the zone no data node uses', () => {
    // WHEN
    const plan = replicationGroup(1);

    // THEN
    expect(plan.slots.map((s) => [s.name, s.role, s.zoneIndex, s.services.join('+')])).toEqual([
      ['node-0', 'primary', 0, 'redis+sentinel'],
      ['node-1', 'replica', 1, 'redis+sentinel'],
      ['sentinel-0', 'sentinel', 2, 'sentinel'],
    ]);
    expect(plan.slots[2].enginePort).toBeUndefined();
    expect(plan.sentinel?.endpoints).toHaveLength(3);
  });

  test('1 + 5 over 2 zones: sentinels on the first three data nodes only, addresses unique per zone', () => {
    // WHEN
    const plan = replicationGroup(5, 2);

    // THEN
    expect(plan.slots).toHaveLength(6);
    expect(plan.slots.filter((s) => s.services.includes('sentinel')).map((s) => s.name)).toEqual(['node-0', 'node-1', 'node-2']);
    expect(plan.slots.map((s) => s.address)).toEqual(['10.0.0.10', '10.0.1.10', '10.0.0.11', '10.0.1.11', '10.0.0.12', '10.0.1.12']);
  });

  test('no replica: no sentinel, no failover', () => {
    const plan = replicationGroup(0);
    expect(plan.slots.map((s) => s.services.join('+'))).toEqual(['redis']);
    expect(plan.sentinel).toBeUndefined();
  });

  test('min-replicas-to-write is 1 from two replicas on, 0 with one (one lost replica must not stop writes)', () => {
    const value = (plan: ReturnType<typeof replicationGroup>, name: string) => plan.engineParameters.find(([n]) => n === name)?.[1];
    expect(value(replicationGroup(2), 'min-replicas-to-write')).toBe('1');
    expect(value(replicationGroup(2), 'min-replicas-max-lag')).toBe('8');
    expect(value(replicationGroup(1), 'min-replicas-to-write')).toBe('0');
  });

  test('a parameter group that sets min-replicas-to-write wins over the default', () => {
    const params = new ParameterGroup(new Construct(undefined as any, 'Root'), 'Params', {
      engine: valkey,
      parameters: { 'min-replicas-to-write': '2' },
    });
    const plan = replicationGroup(3, 3, { parameterGroup: params });
    expect(plan.engineParameters.filter(([n]) => n === 'min-replicas-to-write')).toEqual([['min-replicas-to-write', '2']]);
  });

  test('the users: the application user, and cachefleet\'s sentinel, replication and admin users', () => {
    expect(replicationGroup(1, 3, { authUsername: 'orders' }).users).toEqual({
      application: 'orders',
      sentinel: 'cachefleet-sentinel',
      replication: 'cachefleet-replication',
      admin: 'cachefleet-admin',
    });
  });
});

describe('planFleet: persistence', () => {
  const root = () => new Construct(undefined as any, 'Root');

  test('defaults to AOF every second', () => {
    const plan = replicationGroup(1);
    expect(plan.persistence.mode).toBe(PersistenceMode.AOF);
    expect(plan.persistence.appendFsync).toBe('everysec');
  });

  test('the persistence prop decides', () => {
    expect(replicationGroup(1, 3, { persistence: Persistence.none() }).persistence.mode).toBe(PersistenceMode.NONE);
    expect(replicationGroup(1, 3, { persistence: Persistence.aofAlways() }).persistence.appendFsync).toBe('always');
  });

  test('without the prop, a parameter group that sets appendonly or save decides', () => {
    const aof = new ParameterGroup(root(), 'Aof', { engine: valkey, parameters: { appendonly: 'yes', appendfsync: 'always' } });
    const rdb = new ParameterGroup(root(), 'Rdb', { engine: valkey, parameters: { save: '900 1' } });
    const off = new ParameterGroup(root(), 'Off', { engine: valkey, parameters: { appendonly: 'no' } });
    expect(replicationGroup(1, 3, { parameterGroup: aof }).persistence.appendFsync).toBe('always');
    expect(replicationGroup(1, 3, { parameterGroup: rdb }).persistence).toMatchObject({ mode: PersistenceMode.RDB, saveRules: '900 1' });
    expect(replicationGroup(1, 3, { parameterGroup: off }).persistence.mode).toBe(PersistenceMode.NONE);
  });

  test.each([
    ['appendfsync no', { appendonly: 'yes', appendfsync: 'no' }, '`parameterGroup.parameters.appendfsync` must be `everysec` or `always` (Persistence.aofEverySecond() or Persistence.aofAlways()), got: "no"'],
    ['AOF with save rules', { appendonly: 'yes', save: '900 1' }, '`parameterGroup.parameters.save` must be unset or "" with `appendonly` `yes` (an AOF fleet takes no RDB snapshot rules), got: "900 1"'],
  ])('persistence parameters a Persistence cannot express are refused, not rewritten: %s', (_what, parameters, message) => {
    const group = new ParameterGroup(root(), 'Group', { engine: valkey, parameters });
    expect(() => replicationGroup(1, 3, { parameterGroup: group })).toThrow(message);
  });

  test('appendfsync alone keeps the default, AOF, with that policy', () => {
    const group = new ParameterGroup(root(), 'Always', { engine: valkey, parameters: { appendfsync: 'always' } });
    expect(replicationGroup(1, 3, { parameterGroup: group }).persistence).toMatchObject({ mode: PersistenceMode.AOF, appendFsync: 'always' });
  });

  test('the prop and a parameter group that both decide are refused', () => {
    const aof = new ParameterGroup(root(), 'Aof', { engine: valkey, parameters: { appendonly: 'yes' } });
    expect(() => replicationGroup(1, 3, { parameterGroup: aof, persistence: Persistence.none() })).toThrow(
      new ValidationError('parameterGroup.parameters.appendonly', 'yes', 'must be unset when the `persistence` prop is given (the prop decides persistence)'),
    );
  });

  test('a parameter group of another family is refused', () => {
    const other = new ParameterGroup(root(), 'Memcached', { engine: memcached });
    expect(() => replicationGroup(1, 3, { parameterGroup: other })).toThrow(
      '`parameterGroup` must be of the engine\'s family "valkey8", got: "a parameter group of family memcached1.6"',
    );
  });
});

describe('planFleet: host numbers fixed by slot name', () => {
  /** Each slot's host number, by slot name. */
  function hostsByName(fleet: ValidatedFleet, zoneCount = 3, dedicatedSentinels = false): Record<string, number> {
    const hosts: number[] = [];
    const plan = planFleet({
      name: 'sessions',
      fleet,
      zoneCount,
      dedicatedSentinels,
      addressOf: (position) => {
        hosts[position.index] = position.hostNumber;
        return addressOf(position);
      },
    });
    return Object.fromEntries(plan.slots.map((slot) => [slot.name, hosts[slot.index]]));
  }

  test('node-k takes k and sentinel-j takes 6 + j, whatever the replica count or the zones', () => {
    const seen = new Map<string, number>();
    for (const replicasPerShard of [0, 1, 2, 3, 4, 5]) {
      for (const zoneCount of [1, 2, 3]) {
        for (const [name, host] of Object.entries(hostsByName(validateReplicationGroupOptions({ engine: valkey, replicasPerShard }), zoneCount))) {
          expect({ name, host }).toEqual({ name, host: seen.get(name) ?? host });
          seen.set(name, host);
        }
      }
    }
    expect(Object.fromEntries(seen)).toEqual({ 'node-0': 0, 'node-1': 1, 'node-2': 2, 'node-3': 3, 'node-4': 4, 'node-5': 5, 'sentinel-0': 6 });
    // No two names share a host number, and all fit the block a replication group reserves.
    expect(new Set(seen.values()).size).toBe(seen.size);
    expect(Math.max(...seen.values())).toBeLessThan(reservedHostCount('replication'));
  });

  test('1 -> 2 replicas: the sentinel-only slot\'s host number is not the new node-2\'s', () => {
    expect(hostsByName(validateReplicationGroupOptions({ engine: valkey, replicasPerShard: 1 }))).toEqual({ 'node-0': 0, 'node-1': 1, 'sentinel-0': 6 });
    expect(hostsByName(validateReplicationGroupOptions({ engine: valkey, replicasPerShard: 2 }))).toEqual({ 'node-0': 0, 'node-1': 1, 'node-2': 2 });
  });

  test('dedicated sentinels take 6, 7, 8: the block of a replication group is 9 hosts', () => {
    expect(hostsByName(validateReplicationGroupOptions({ engine: valkey, replicasPerShard: 2 }), 1, true))
      .toEqual({ 'node-0': 0, 'node-1': 1, 'node-2': 2, 'sentinel-0': 6, 'sentinel-1': 7, 'sentinel-2': 8 });
    expect(reservedHostCount('replication')).toBe(9);
  });

  test('blocks: 40 hosts for Memcached (its node limit), 1 for a single node', () => {
    expect(reservedHostCount('memcached')).toBe(40);
    expect(reservedHostCount('standalone')).toBe(1);
    const hosts = hostsByName(validateCacheClusterOptions({ engine: memcached, numCacheNodes: 40 }));
    expect(Object.values(hosts)).toEqual(Array.from({ length: 40 }, (_, k) => k));
  });
});

describe('planFleet: cache clusters', () => {
  test('Memcached nodes spread over zones, no sentinel, no persistence', () => {
    // WHEN
    const plan = planFleet({
      name: 'pages',
      fleet: validateCacheClusterOptions({ engine: memcached, numCacheNodes: 4 }),
      zoneCount: 3,
      addressOf,
    });

    // THEN
    expect(plan.kind).toBe('memcached');
    expect(plan.slots.map((s) => [s.name, s.role, s.zoneIndex, s.enginePort, s.services.join('+')])).toEqual([
      ['node-0', 'memcached', 0, 11211, 'memcached'],
      ['node-1', 'memcached', 1, 11211, 'memcached'],
      ['node-2', 'memcached', 2, 11211, 'memcached'],
      ['node-3', 'memcached', 0, 11211, 'memcached'],
    ]);
    expect(plan.sentinel).toBeUndefined();
    expect(plan.persistence.mode).toBe(PersistenceMode.NONE);
  });

  test('a single Valkey node is standalone', () => {
    const plan = planFleet({ name: 'one', fleet: validateCacheClusterOptions({ engine: valkey }), zoneCount: 1, addressOf });
    expect(plan.kind).toBe('standalone');
    expect(plan.slots.map((s) => [s.role, s.services.join('+')])).toEqual([['primary', 'redis']]);
  });

  test('no zone is refused', () => {
    expect(() => planFleet({ name: 'x', fleet: validateCacheClusterOptions({ engine: valkey }), zoneCount: 0, addressOf })).toThrow(
      '`zones` must be at least one zone (subnet) to place nodes in, got: 0',
    );
  });
});

describe('fleetName', () => {
  test.each([
    ['Sessions', 'sessions'],
    ['SessionCache', 'session-cache'],
    ['my_cache.v2', 'my-cache-v2'],
    ['42Cache', 'cache'],
    ['---', 'cache'],
    ['A'.repeat(60), 'a'.repeat(40)],
  ])('%s -> %s', (id, name) => {
    expect(fleetName(id)).toBe(name);
  });
});
