import { Construct } from 'constructs';
import fc from 'fast-check';
import { ENGINES, UNCATALOGED_ENGINES } from './engines';
import { expectRefusal } from './outcome';
import { INHERITED_NAMES, parameterMaps } from './parameter-arbitraries';
import { made, Tokens } from './picks';
import { ParameterGroup } from '../../src/core/parameters/parameter-group';
import { resolveParameters } from '../../src/core/parameters/resolve';
import { STRING_TOKEN } from '../shared/invalid-fleet-props';

/**
 * Bad input to ParameterGroup: random parameter maps of real catalog names, junk
 * and names every object inherits, for every engine. Each group is either made, and then the
 * planner resolves its parameters too, or refused with a ValidationError naming
 * `parameters.<a drawn name>` (or the engine when its family has no catalog). Seeded: a failure
 * prints its counterexample.
 */

const SEED = 20261129;
const RUNS = 5000;
const TOKENS: Tokens = { number: () => Number.NaN, string: () => STRING_TOKEN };
const root = () => new Construct(undefined as any, 'Root');

const engines = fc.oneof(
  { arbitrary: fc.constantFrom(...Object.values(ENGINES)).map((engine) => ({ engine, catalogued: true })), weight: 8 },
  { arbitrary: fc.constantFrom(...UNCATALOGED_ENGINES).map((engine) => ({ engine, catalogued: false })), weight: 1 },
);

test(`${RUNS} random parameter groups: made and resolvable, or refused naming a drawn parameter`, () => {
  let accepted = 0;
  let refused = 0;
  let inheritedRefused = 0;
  fc.assert(
    fc.property(engines, parameterMaps(TOKENS), ({ engine, catalogued }, parameters) => {
      // A name every object inherits is no parameter: a lookup must not find Object's member.
      const inherited = Object.keys(parameters).some((name) => INHERITED_NAMES.includes(name));
      let group: ParameterGroup;
      try {
        group = new ParameterGroup(root(), 'Parameters', { engine, parameters: parameters as Record<string, string> });
      } catch (error) {
        const suspects = Object.keys(parameters).map((name) => made('invalid', name, () => undefined, [`parameters.${name}`]));
        const engineSuspect = catalogued ? [] : [made('invalid', 'engine', () => undefined, ['engine'])];
        expectRefusal(error, Object.fromEntries([...suspects, ...engineSuspect].map((pick, i) => [`${i}`, pick])));
        refused++;
        if (inherited) inheritedRefused++;
        return;
      }
      expect(catalogued).toBe(true);
      expect(inherited).toBe(false);
      expect(Object.keys(group.parameters).sort()).toEqual(Object.keys(parameters).sort());
      expect(Object.values(group.parameters).every((value) => typeof value === 'string')).toBe(true);
      // What the group accepted for its engine, the planner accepts for the same engine.
      resolveParameters(group.family, group.parameters, engine.engineVersion);
      accepted++;
    }),
    { seed: SEED, numRuns: RUNS },
  );
  expect(accepted).toBeGreaterThan(RUNS / 10);
  expect(refused).toBeGreaterThan(RUNS / 10);
  expect(inheritedRefused).toBeGreaterThan(RUNS / 100);
});
