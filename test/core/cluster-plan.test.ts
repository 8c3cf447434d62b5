import { Construct } from 'constructs';
import * as fc from 'fast-check';
import { CacheEngine, RedisEngineVersion, ValkeyEngineVersion } from '../../src/core/engine';
import { ClusterMode, FailureDetection } from '../../src/core/fleet-options';
import { ParameterGroup } from '../../src/core/parameters/parameter-group';
import { renderBundle } from '../../src/core/render';
import { renderFleetEnv } from '../../src/core/render/env-files';
import { renderRedisConf } from '../../src/core/render/redis-conf';
import { renderRedisNodeConf } from '../../src/core/render/redis-node-conf';
import { renderUsersAcl } from '../../src/core/render/users-acl';
import { FleetPlan, planFleet, possibleSlotNames, reservedHostCount, shardSlotRange, SlotPosition } from '../../src/core/topology';
import { CLUSTER, validateReplicationGroupOptions } from '../../src/core/validation';
import { thrown } from '../shared/thrown';

const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });
const redis62 = CacheEngine.redis({ version: RedisEngineVersion.VER_6_2 });

/** Addresses by host number, so that a slot's address shows the number the plan gave it. */
const addressOf = (position: SlotPosition) => `10.0.${position.zoneIndex}.${16 + position.hostNumber}`;

function clusterPlan(props: { shards?: number; replicasPerShard?: number; zones?: number; engine?: CacheEngine; extra?: object } = {}): FleetPlan {
  const fleet = validateReplicationGroupOptions({
    engine: props.engine ?? valkey,
    clusterMode: ClusterMode.ENABLED,
    shards: props.shards,
    replicasPerShard: props.replicasPerShard,
    ...props.extra,
  });
  return planFleet({ name: 'carts', fleet, zoneCount: props.zones ?? 3, addressOf });
}

function groupWith(parameters: Record<string, string>): ParameterGroup {
  return new ParameterGroup(new Construct(undefined as any, 'Root'), 'Params', { engine: valkey, parameters });
}

describe('planFleet: cluster mode', () => {
  test('the default: 3 shards of a primary and one replica, no sentinel, every node a data node', () => {
    // WHEN
    const plan = clusterPlan();

    // THEN
    expect(plan.kind).toBe('cluster');
    expect(plan.sentinel).toBeUndefined();
    expect(plan.slots.map((s) => [s.name, s.role, s.shard, s.zoneIndex, s.hostNumber, s.services.join('+'), s.sentinelPort])).toEqual([
      ['node-0', 'primary', 0, 0, 0, 'redis', undefined],
      ['node-1', 'replica', 0, 1, 1, 'redis', undefined],
      ['node-6', 'primary', 1, 1, 6, 'redis', undefined],
      ['node-7', 'replica', 1, 2, 7, 'redis', undefined],
      ['node-12', 'primary', 2, 2, 12, 'redis', undefined],
      ['node-13', 'replica', 2, 0, 13, 'redis', undefined],
    ]);
    expect(plan.cluster).toEqual({
      shards: [
        { index: 0, slotRange: [0, 5460], slotNames: ['node-0', 'node-1'] },
        { index: 1, slotRange: [5461, 10921], slotNames: ['node-6', 'node-7'] },
        { index: 2, slotRange: [10922, 16383], slotNames: ['node-12', 'node-13'] },
      ],
      replicasPerShard: 1,
      busPort: 16379,
      nodeTimeoutMillis: 5000,
      former: 'node-0',
    });
  });

  test('the slot ranges cover the 16,384 slots in order, without gaps or overlaps, sizes within one of each other', () => {
    fc.assert(fc.property(fc.integer({ min: CLUSTER.minShards, max: 500 }), (shards) => {
      const ranges = Array.from({ length: shards }, (_, index) => shardSlotRange(index, shards));
      expect(ranges[0][0]).toBe(0);
      expect(ranges[shards - 1][1]).toBe(CLUSTER.hashSlots - 1);
      for (let i = 1; i < shards; i++) expect(ranges[i][0]).toBe(ranges[i - 1][1] + 1);
      const sizes = ranges.map(([first, last]) => last - first + 1);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }));
  });

  test('a shard\'s nodes are in different zones when there are enough zones, and the primaries are spread evenly', () => {
    const sizes = [fc.integer({ min: 3, max: 24 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 6 })] as const;
    fc.assert(fc.property(...sizes, (shards, replicas, zones) => {
      const plan = clusterPlan({ shards, replicasPerShard: replicas, zones });
      for (const shard of plan.cluster!.shards) {
        const shardZones = plan.slots.filter((s) => s.shard === shard.index).map((s) => s.zoneIndex);
        expect(new Set(shardZones).size).toBe(Math.min(zones, replicas + 1));
      }
      const primariesPerZone = new Array<number>(zones).fill(0);
      for (const slot of plan.slots.filter((s) => s.role === 'primary')) primariesPerZone[slot.zoneIndex]++;
      expect(Math.max(...primariesPerZone) - Math.min(...primariesPerZone)).toBeLessThanOrEqual(1);
    }));
  });

  test('a slot\'s name, address and host number never depend on the shard or replica count', () => {
    const shardCounts = fc.integer({ min: 3, max: 12 });
    const replicaCounts = fc.integer({ min: 0, max: 5 });
    fc.assert(fc.property(shardCounts, shardCounts, replicaCounts, replicaCounts, (s1, s2, r1, r2) => {
      const a = clusterPlan({ shards: s1, replicasPerShard: r1 });
      const b = clusterPlan({ shards: s2, replicasPerShard: r2 });
      for (const slot of a.slots) {
        const same = b.slots.find((other) => other.name === slot.name);
        const identity = (of: typeof slot) => [of.address, of.hostNumber, of.zoneIndex, of.shard, of.role];
        if (same) expect(identity(same)).toEqual(identity(slot));
      }
    }));
  });

  test('shard 0 keeps the names, addresses and zones of a replication group\'s data nodes, so a change of clusterMode keeps their volumes', () => {
    for (const replicas of [0, 1, 2, 5]) {
      const cluster = clusterPlan({ replicasPerShard: replicas });
      const group = planFleet({ name: 'carts', fleet: validateReplicationGroupOptions({ engine: valkey, replicasPerShard: replicas }), zoneCount: 3, addressOf });
      const groupData = group.slots.filter((s) => s.enginePort !== undefined).map((s) => [s.name, s.address, s.zoneIndex, s.role]);
      expect(cluster.slots.filter((s) => s.shard === 0).map((s) => [s.name, s.address, s.zoneIndex, s.role])).toEqual(groupData);
    }
  });

  test('the reserved block: 6 host numbers a shard, every slot name inside it, distinct', () => {
    const plan = clusterPlan({ shards: 4, replicasPerShard: 5 });
    expect(reservedHostCount('cluster', 4)).toBe(24);
    expect(possibleSlotNames('cluster', 4)).toEqual(plan.slots.map((s) => s.name));
    expect(new Set(plan.slots.map((s) => s.hostNumber)).size).toBe(24);
    expect(Math.max(...plan.slots.map((s) => s.hostNumber))).toBe(23);
  });

  test('cluster-node-timeout follows failureDetection unless the parameter group sets it', () => {
    const timeout = (plan: FleetPlan) => plan.engineParameters.filter(([name]) => name === 'cluster-node-timeout');
    expect(timeout(clusterPlan())).toEqual([['cluster-node-timeout', '5000']]);
    const fast = clusterPlan({ extra: { failureDetection: FailureDetection.FAST } });
    expect(fast.cluster!.nodeTimeoutMillis).toBe(1000);
    expect(timeout(fast)).toEqual([['cluster-node-timeout', '1000']]);
    const set = clusterPlan({ extra: { failureDetection: FailureDetection.FAST, parameterGroup: groupWith({ 'cluster-node-timeout': '15000' }) } });
    expect(set.cluster!.nodeTimeoutMillis).toBe(15000);
    expect(timeout(set)).toEqual([['cluster-node-timeout', '15000']]);
  });

  test('without cluster mode, no cluster-node-timeout is rendered', () => {
    const plan = planFleet({ name: 'one', fleet: validateReplicationGroupOptions({ engine: valkey }), zoneCount: 3, addressOf });
    expect(plan.engineParameters.some(([name]) => name === 'cluster-node-timeout')).toBe(false);
    expect(renderRedisConf(plan)).not.toMatch(/^cluster-enabled/m);
  });

  test('min-replicas-to-write follows the replicas of each shard', () => {
    const toWrite = (plan: FleetPlan) => plan.engineParameters.find(([name]) => name === 'min-replicas-to-write')?.[1];
    expect(toWrite(clusterPlan({ replicasPerShard: 1 }))).toBe('0');
    expect(toWrite(clusterPlan({ replicasPerShard: 2 }))).toBe('1');
  });

  test('a parameter group\'s cluster-enabled must agree with clusterMode', () => {
    expect(clusterPlan({ extra: { parameterGroup: groupWith({ 'cluster-enabled': 'yes' }) } }).kind).toBe('cluster');
    expect(thrown(() => clusterPlan({ extra: { parameterGroup: groupWith({ 'cluster-enabled': 'no' }) } })).message)
      .toBe('`parameterGroup.parameters.cluster-enabled` must be unset or `yes` with cluster mode enabled: the clusterMode prop decides the mode, got: "no"');
    const fleet = validateReplicationGroupOptions({ engine: valkey, parameterGroup: groupWith({ 'cluster-enabled': 'yes' }) });
    expect(thrown(() => planFleet({ name: 'one', fleet, zoneCount: 3, addressOf })).message)
      .toBe('`parameterGroup.parameters.cluster-enabled` must be unset or `no` without cluster mode (set clusterMode: ClusterMode.ENABLED on the group for a Redis / Valkey Cluster): the clusterMode prop decides the mode, got: "yes"');
  });
});

describe('rendering a cluster-mode group', () => {
  test('redis.conf turns cluster mode on; the node file keeps the state on the data volume and announces the fixed address', () => {
    const plan = clusterPlan();
    expect(renderRedisConf(plan)).toMatch(/^cluster-enabled yes$/m);
    const node = renderRedisNodeConf(plan);
    expect(node).toContain('cluster-config-file "{{data-dir}}/nodes.conf"\n');
    expect(node).toContain('cluster-announce-ip {{address}}\n');
    expect(node).toContain('cluster-announce-port 6379\n');
    expect(node).toContain('cluster-announce-bus-port 16379\n');
    expect(node).toContain('bind-source-addr {{address}}\n');
    // Redis 6.2 binds its outgoing connections to its first `bind` address and has no such directive.
    expect(renderRedisNodeConf(clusterPlan({ engine: redis62 }))).not.toContain('bind-source-addr');
  });

  test('fleet.env carries the cluster facts the agent needs', () => {
    const env = renderFleetEnv(clusterPlan({ extra: { port: 6390 } }));
    expect(env).toContain("CF_KIND='cluster'\n");
    expect(env).toContain("CF_CLUSTER_BUS_PORT='16390'\n");
    expect(env).toContain("CF_CLUSTER_NODE_TIMEOUT='5000'\n");
    expect(env).toContain("CF_CLUSTER_REPLICAS='1'\n");
    expect(env).toContain("CF_CLUSTER_SHARDS='0:0-5460 1:5461-10921 2:10922-16383'\n");
    expect(env).toContain("CF_CLUSTER_NODES='node-0:10.0.0.16:6390:0 node-1:10.0.1.17:6390:0 node-6:10.0.1.22:6390:1 " +
      "node-7:10.0.2.23:6390:1 node-12:10.0.2.28:6390:2 node-13:10.0.0.29:6390:2'\n");
    expect(env).toContain("CF_CLUSTER_FORMER='node-0'\n");
    expect(env).toContain("CF_SENTINELS=''\n");
  });

  test('the application user reads the cluster map and changes nothing of it; Redis 6.2 has no CLUSTER SHARDS', () => {
    const app = (plan: FleetPlan) => renderUsersAcl(plan).split('\n').find((line) => line.startsWith('user app '))!;
    expect(app(clusterPlan())).toContain(' +cluster|slots +cluster|nodes +cluster|info +cluster|myid +cluster|keyslot +cluster|shards');
    expect(app(clusterPlan({ engine: redis62 }))).toContain(' +cluster|keyslot');
    expect(app(clusterPlan({ engine: redis62 }))).not.toContain('+cluster|shards');
    expect(app(clusterPlan())).not.toMatch(/\+cluster\|(meet|forget|addslots|failover|setslot|reset)/);
    const plain = planFleet({ name: 'one', fleet: validateReplicationGroupOptions({ engine: valkey }), zoneCount: 3, addressOf });
    expect(app(plain)).not.toContain('+cluster');
  });

  test('the bundle holds no sentinel file and one slot file per node', () => {
    const files = Object.keys(renderBundle(clusterPlan({ shards: 4, replicasPerShard: 2 })));
    expect(files).not.toContain('sentinel.conf');
    expect(files.filter((file) => file.startsWith('slots/'))).toHaveLength(12);
  });
});
