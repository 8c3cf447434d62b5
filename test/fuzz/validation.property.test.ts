import { Construct } from 'constructs';
import fc from 'fast-check';
import { FleetConstruct, fleetOptions } from './core-arbitraries';
import { fleetSize, settleFleet, slotCount } from './fleet-model';
import { attempt, expectAccepted, expectRefusal, Tally } from './outcome';
import { Draw, makeProps, overrule, Tokens } from './picks';
import { renderBundle } from '../../src/core/render';
import { FleetPlan, fleetName, planFleet } from '../../src/core/topology';
import { TokenCheck, validateCacheClusterOptions, validateReplicationGroupOptions, ValidatedFleet } from '../../src/core/validation';
import { NUMBER_TOKEN, STRING_TOKEN } from '../shared/invalid-fleet-props';

/**
 * Bad input at the validation and plan level: thousands of random prop sets per
 * construct through core's validation and the planner, each either a whole plan or a
 * ValidationError naming a prop drawn wrong. Seeded: a failure prints its counterexample and replays.
 */

const SEED = 20261126;
const RUNS = 5000;

/** The shared table's token stand-ins, and a token check that knows them (core knows no tokens of its own). */
const TOKENS: Tokens = { number: () => NUMBER_TOKEN, string: () => STRING_TOKEN };
const STAND_IN_TOKENS: TokenCheck = { isUnresolved: (value) => value === NUMBER_TOKEN || value === STRING_TOKEN };

const VALIDATE: Record<FleetConstruct, (props: any, tokens: TokenCheck) => ValidatedFleet> = {
  ReplicationGroup: validateReplicationGroupOptions,
  CacheCluster: validateCacheClusterOptions,
};

/** A plan request's other half, as a flavor makes it: zones and whether sentinels get slots of their own. */
const placement = fc.record({ zoneCount: fc.integer({ min: 1, max: 3 }), dedicatedSentinels: fc.boolean() });

function expectWholePlan(plan: FleetPlan, construct: FleetConstruct, draw: Draw, props: Record<string, any>, dedicatedSentinels: boolean) {
  const size = fleetSize(construct, draw, props)!;
  expect(plan.slots).toHaveLength(slotCount(size, dedicatedSentinels));
  expect(new Set(plan.slots.map((slot) => slot.address)).size).toBe(plan.slots.length);
  expect(new Set(plan.slots.map((slot) => slot.name)).size).toBe(plan.slots.length);
  const dataSlots = plan.slots.filter((slot) => slot.enginePort !== undefined);
  expect(dataSlots).toHaveLength(size.dataNodes);
  expect(dataSlots.every((slot) => slot.enginePort === plan.port)).toBe(true);
  expect(plan.port).toBe(props.port ?? props.engine.defaultPort);
  if (size.shards !== undefined) {
    expect(plan.kind).toBe('cluster');
    expect(plan.cluster?.shards).toHaveLength(size.shards);
    expect(plan.slots.filter((slot) => slot.role === 'primary')).toHaveLength(size.shards);
    expect(plan.sentinel).toBeUndefined();
  } else if (size.failover) {
    expect(plan.sentinel?.endpoints).toHaveLength(3);
    expect(plan.slots.filter((slot) => slot.role === 'primary')).toHaveLength(1);
  } else {
    expect(plan.sentinel).toBeUndefined();
  }
  if (size.memcached) {
    expect(plan.kind).toBe('memcached');
  } else {
    expect(plan.users.application).toBe(props.authUsername ?? 'app');
  }
  expect(plan.engineParameters.every(([name, value]) => typeof name === 'string' && typeof value === 'string')).toBe(true);
}

describe.each<FleetConstruct>(['ReplicationGroup', 'CacheCluster'])('%s: random props through validation and the planner', (construct) => {
  test(`${RUNS} draws: a whole plan, or a ValidationError naming a prop drawn wrong`, () => {
    const tally = new Tally();
    let clusters = 0;
    fc.assert(
      fc.property(fleetOptions(construct, TOKENS, 3), placement, (draw, { zoneCount, dedicatedSentinels }) => {
        let props: Record<string, any> | undefined;
        const outcome = attempt(() => {
          props = makeProps(draw, new Construct(undefined as any, 'Root'));
          const fleet = VALIDATE[construct](props, STAND_IN_TOKENS);
          const plan = planFleet({
            name: 'fleet',
            fleet,
            zoneCount,
            dedicatedSentinels,
            addressOf: ({ zoneIndex, indexInZone }) => `10.0.${zoneIndex}.${10 + indexInZone}`,
          });
          // Both flavors render every plan they deploy: random parameters must render too.
          renderBundle(plan);
          return plan;
        });
        const settled = props ? overrule(draw, settleFleet(construct, draw, props)) : draw;
        if ('refused' in outcome) {
          tally.count(expectRefusal(outcome.refused, settled));
          return;
        }
        expectAccepted(settled);
        expectWholePlan(outcome.built, construct, settled, props!, dedicatedSentinels);
        if (outcome.built.kind === 'cluster') clusters++;
        tally.count();
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // Both ends are exercised, and refusals name many props, not one.
    expect(tally.built).toBeGreaterThan(RUNS / 10);
    expect(tally.refused).toBeGreaterThan(RUNS / 10);
    expect(tally.paths.size).toBeGreaterThanOrEqual(construct === 'ReplicationGroup' ? 10 : 7);
    // Cluster-mode groups are among the plans built.
    if (construct === 'ReplicationGroup') expect(clusters).toBeGreaterThan(RUNS / 50);
    else expect(clusters).toBe(0);
  });
});

test('fleetName: any construct id gives a name of lower-case letters, digits and hyphens, from a letter, at most 40 long', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 80, unit: 'binary' }), (id) => {
      expect(fleetName(id)).toMatch(/^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$/);
    }),
    { seed: SEED, numRuns: RUNS },
  );
});
