import { CacheEngine, ValkeyEngineVersion } from '../../src/core/engine';
import { renderBundle } from '../../src/core/render';
import { planFleet } from '../../src/core/topology';
import { validateReplicationGroupOptions } from '../../src/core/validation';

const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });
const addressOf = (p: { index: number }) => `10.0.0.${10 + p.index}`;
const plan = (replicas: number) =>
  planFleet({ name: 'g', fleet: validateReplicationGroupOptions({ engine: valkey, replicasPerShard: replicas }), zoneCount: 1, addressOf, dedicatedSentinels: true });

describe('planFleet with dedicated sentinels (containers)', () => {
  test.each([
    [1, ['node-0', 'node-1', 'sentinel-0', 'sentinel-1', 'sentinel-2']],
    [2, ['node-0', 'node-1', 'node-2', 'sentinel-0', 'sentinel-1', 'sentinel-2']],
    [5, ['node-0', 'node-1', 'node-2', 'node-3', 'node-4', 'node-5', 'sentinel-0', 'sentinel-1', 'sentinel-2']],
  ])('%i replicas: every sentinel in a slot of its own, after the data nodes', (replicas, names) => {
    const result = plan(replicas);
    expect(result.slots.map((s) => s.name)).toEqual(names);
    expect(new Set(result.slots.map((s) => s.address)).size).toBe(names.length);
    for (const slot of result.slots) {
      expect(slot.services).toEqual(slot.name.startsWith('node') ? ['redis'] : ['sentinel']);
      expect(slot.address).toBe(`10.0.0.${10 + slot.index}`);
    }
    expect(result.sentinel?.endpoints).toEqual(result.slots.filter((s) => s.role === 'sentinel').map((s) => `${s.address}:26379`));
    expect(result.sentinel?.quorum).toBe(2);
    expect(result.slots[0].role).toBe('primary');
  });

  test('no sentinels without replicas', () => {
    expect(plan(0).slots.map((s) => s.name)).toEqual(['node-0']);
    expect(plan(0).sentinel).toBeUndefined();
  });

  test("core's renderers take the plan: sentinels listed in fleet.env, each sentinel slot's env", () => {
    const bundle = renderBundle(plan(2));
    expect(bundle['fleet.env']).toContain("CF_SENTINELS='10.0.0.13:26379 10.0.0.14:26379 10.0.0.15:26379'");
    expect(bundle['slots/sentinel-1.env']).toContain("CF_ADDRESS='10.0.0.14'");
    expect(bundle['slots/node-0.env']).toContain("CF_SERVICES='redis'");
  });
});
