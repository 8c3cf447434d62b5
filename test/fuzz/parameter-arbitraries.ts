import fc from 'fast-check';
import { ENGINES } from './engines';
import { constants, made, mix, Pick, Tokens, Verdict } from './picks';
import { CacheEngine } from '../../src/core/engine';
import { familyCatalog } from '../../src/core/parameters/catalog/families';
import { ParameterGroup } from '../../src/core/parameters/parameter-group';
import { catalogEntries, supportedFamilies } from '../../src/core/parameters/resolve';
import { existsOn } from '../../src/core/parameters/validate';

/** What an error caused by a parameter group may name: the group, its props or one of its parameters. */
export const PARAMETER_GROUP_PATHS = ['parameterGroup', 'parameterGroup.parameters.*', 'engine', 'parameters', 'parameters.*', 'description'];

const FAMILIES = supportedFamilies();

/** Every family's parameter names, the names each refuses (ElastiCache names with no meaning here). */
const CATALOG_NAMES = FAMILIES.flatMap((family) => catalogEntries(family).map((spec) => spec.name));
const REFUSED_NAMES = FAMILIES.flatMap((family) => Object.keys(familyCatalog(family)!.refusals));
const DEFAULT_VALUES = FAMILIES.flatMap((family) => catalogEntries(family).map((spec) => spec.defaultValue));

/** Names no catalog has, some close to real ones (case, `_` for `-`, a trailing space), and the empty name. */
const JUNK_NAMES = ['maxmemory_policy', 'Maxmemory-Policy', 'max-item-size', 'timeout ', ''];

/**
 * Names every object inherits: a lookup in a plain object finds them, so a catalog must look up
 * its own entries only, and refuse them as names of no parameter.
 */
export const INHERITED_NAMES = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];

/** Values of every kind the catalog's types take, and values none takes. */
const SAMPLE_VALUES = [
  '0', '1', '-1', '100', '2147483648', '99999999999999999999', '1.5', 'yes', 'no', 'YES', '', ' ', '""', '1gb', '64mb',
  '10%', 'allkeys-lru', 'noeviction', '3600 1 300 100', '900', 'Kx', 'constructor',
];

export function parameterNames(): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...CATALOG_NAMES), weight: 6 },
    { arbitrary: fc.constantFrom(...REFUSED_NAMES), weight: 1 },
    { arbitrary: fc.constantFrom(...JUNK_NAMES), weight: 1 },
    { arbitrary: fc.constantFrom(...INHERITED_NAMES), weight: 1 },
    { arbitrary: fc.string({ maxLength: 24 }), weight: 1 },
  );
}

/** A parameter value: mostly strings (valid or not for the parameter), sometimes not a string. */
export function parameterValues(tokens: Tokens): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...DEFAULT_VALUES), weight: 6 },
    { arbitrary: fc.constantFrom(...SAMPLE_VALUES), weight: 3 },
    { arbitrary: fc.string({ maxLength: 16 }), weight: 1 },
    { arbitrary: fc.constantFrom<unknown>(300, null, true, ['yes']), weight: 1 },
    { arbitrary: fc.constant(null).map(() => tokens.string()), weight: 1 },
  );
}

export function parameterMaps(tokens: Tokens): fc.Arbitrary<Record<string, unknown>> {
  return fc.dictionary(parameterNames(), parameterValues(tokens), { maxKeys: 4, noNullPrototype: true });
}

/** A map's verdict: only the empty map is sure to be accepted; the catalog judges the rest. */
function mapVerdict(parameters: Record<string, unknown>): Verdict {
  return Object.keys(parameters).length === 0 ? 'valid' : 'depends';
}

function label(engine: string, parameters: unknown, description?: unknown): string {
  return `ParameterGroup(${engine}, ${fc.stringify(parameters)}${description === undefined ? '' : `, ${fc.stringify(description)}`})`;
}

/**
 * A fleet's parameter group: one for the fleet's engine (the catalog judges its parameters), one of
 * another family (refused unless the families match), a group whose own props are wrong, or not a
 * ParameterGroup at all.
 */
export function parameterGroups(tokens: Tokens, validWeight: number): fc.Arbitrary<Pick> {
  const forFleetEngine = parameterMaps(tokens).map((parameters) =>
    made(mapVerdict(parameters), label('the fleet engine', parameters), (scope, earlier) =>
      new ParameterGroup(scope, 'Parameters', { engine: earlier.engine as CacheEngine, parameters: parameters as Record<string, string> }),
    PARAMETER_GROUP_PATHS),
  );
  const ownDefaults = fc.uniqueArray(fc.nat(), { minLength: 1, maxLength: 4 }).map((indexes) =>
    made('valid', `ParameterGroup(the fleet engine, its catalog entries #${indexes.join(', #')} at their defaults)`, (scope, earlier) =>
      new ParameterGroup(scope, 'Parameters', { engine: earlier.engine as CacheEngine, parameters: defaultsOf(earlier.engine, indexes) }),
    PARAMETER_GROUP_PATHS),
  );
  const ofFamily = fc.tuple(fc.constantFrom(...FAMILIES), parameterMaps(tokens)).map(([family, parameters]) =>
    made('depends', label(family, parameters), (scope) =>
      new ParameterGroup(scope, 'Parameters', { engine: engineOfFamily(family), parameters: parameters as Record<string, string> }),
    PARAMETER_GROUP_PATHS),
  );
  const wrongProps = fc.constantFrom<Record<string, unknown>>(
    { parameters: 'timeout=300' },
    { parameters: null },
    { parameters: ['timeout'] },
    { description: 42 },
    { engine: undefined },
    { engine: 'redis7' },
  ).map((wrong) =>
    made('invalid', label('the fleet engine', wrong), (scope, earlier) =>
      new ParameterGroup(scope, 'Parameters', { engine: earlier.engine, ...wrong } as any),
    PARAMETER_GROUP_PATHS),
  );
  return mix(
    fc.oneof({ arbitrary: ownDefaults, weight: 6 }, { arbitrary: forFleetEngine, weight: 2 }, { arbitrary: ofFamily, weight: 1 }),
    fc.oneof(wrongProps, constants('invalid', ['default.redis7', null, 5, {}, { family: 'redis7', parameters: {} }])),
    validWeight,
  );
}

/**
 * Parameters of the engine's own catalog, each at its default: whatever their mix, a group of them
 * is accepted by the engine's fleets. Not an engine, or one with no catalog: nothing to draw from.
 */
function defaultsOf(engine: unknown, indexes: number[]): Record<string, string> {
  if (!(engine instanceof CacheEngine) || !FAMILIES.includes(engine.parameterGroupFamily)) return {};
  const entries = catalogEntries(engine.parameterGroupFamily).filter((spec) => existsOn(spec, engine.engineVersion));
  return Object.fromEntries(indexes.map((index) => entries[index % entries.length]).map((spec) => [spec.name, spec.defaultValue]));
}

/** An engine of a family, for a parameter group drawn for a family rather than for the fleet. */
function engineOfFamily(family: string): CacheEngine {
  const engine = Object.values(ENGINES).find((candidate) => candidate.parameterGroupFamily === family);
  if (!engine) throw new Error(`no engine of family ${family} in the fuzz fixtures`);
  return engine;
}
