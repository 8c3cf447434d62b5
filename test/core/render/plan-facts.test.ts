import { memcachedPlan, PLANS, redisPlan } from './fixtures';
import { initialPrimary, requireEngine, sentinelPort } from '../../../src/core/render/plan-facts';
import { FleetPlan } from '../../../src/core/topology';

describe('plan facts', () => {
  test('the initial primary is the slot whose role is primary', () => {
    expect(initialPrimary(PLANS.replicationGroup()).address).toBe('10.0.0.10');
  });

  test('a plan without exactly one primary is a planner bug', () => {
    const plan = PLANS.replicationGroup();
    const noPrimary: FleetPlan = { ...plan, slots: plan.slots.map((slot) => ({ ...slot, role: 'replica' as const })) };
    expect(() => initialPrimary(noPrimary)).toThrow('fleet "sessions" must start with exactly one primary slot, found 0');
  });

  test('the sentinel port is the one every sentinel slot shares', () => {
    expect(sentinelPort(redisPlan({ dataAddresses: ['10.0.0.1', '10.0.0.2'], sentinelPort: 26400 }))).toBe(26400);
  });

  test('sentinel slots on different ports are refused', () => {
    const plan = PLANS.replicationGroup();
    const mixed: FleetPlan = { ...plan, slots: plan.slots.map((slot, i) => ({ ...slot, sentinelPort: 26379 + i })) };
    expect(() => sentinelPort(mixed)).toThrow('must have one sentinel port shared by its sentinel slots, found: 26379, 26380, 26381');
  });

  test('a renderer of the other engine family is refused', () => {
    expect(() => requireEngine(memcachedPlan(['10.0.0.1']), 'redis', 'redis.conf')).toThrow('redis.conf is not part of a memcached fleet ("pages")');
    expect(() => requireEngine(PLANS.standalone(), 'memcached', 'memcached.args')).toThrow('memcached.args is not part of a redis fleet ("one")');
  });
});
