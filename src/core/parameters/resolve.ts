import { supportedFamilies as familyNames } from './catalog/families';
import { ApplyMode, FamilyCatalog, MemcachedArgument, ParameterSpec } from './catalog/parameter-spec';
import { catalogOf, checkParameters, effectiveValues } from './validate';

/**
 * What the planner and the renderers get from a parameter group: every engine directive with its
 * effective value, which of them the user set, and the node agent's memory reserve. Internal: not
 * part of the jsii API.
 */
export interface ResolvedParameters {
  /** The family the parameters were resolved for. */
  readonly family: string;
  /**
   * Every engine-target parameter with its effective value (the user's, else the catalog's
   * default), in catalog order. Redis and Valkey: redis.conf directives with their arguments as
   * one string, raw (`''` is the empty value, `3600 1 300 100` several arguments); ElastiCache's
   * `client-output-buffer-limit-<class>-*` parameters are one `client-output-buffer-limit` pair per
   * class, the directive repeating as redis.conf expects. Memcached: ElastiCache's parameter names
   * with their values; {@link memcachedArgs} turns them into arguments.
   */
  readonly engine: Array<[string, string]>;
  /** The names the user set (ElastiCache's names). */
  readonly explicit: Set<string>;
  /** The share of the node's memory the agent keeps from the engine. */
  readonly reservedMemoryPercent: number;
}

/**
 * Resolves a parameter group's parameters for a family, checking them again (a ValidationError
 * for anything the catalog refuses).
 *
 * @param engineVersion the engine's version (`7.0.15`): parameters it does not have yet are left
 * out of the defaults and refused when set. Without it, defaults are those of the family's first
 * version and explicit parameters are not version-checked (ParameterGroup checked them against its
 * own engine).
 */
export function resolveParameters(
  family: string,
  overrides: { readonly [name: string]: string },
  engineVersion?: string,
): ResolvedParameters {
  const catalog = catalogOf(family);
  const explicit = checkParameters(catalog, overrides, engineVersion);
  const values = effectiveValues(catalog, explicit, engineVersion ?? catalog.firstVersion);
  return {
    family,
    engine: engineDirectives(catalog, values),
    explicit: new Set(explicit.keys()),
    reservedMemoryPercent: Number(values.get('reserved-memory-percent')),
  };
}

/** The engine-target values as directives, multi-part ones joined into their directive's line. */
function engineDirectives(catalog: FamilyCatalog, values: ReadonlyMap<string, string>): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const parts = new Map<string, { index: number; group: string; args: string[] }>();
  for (const spec of catalog.entries) {
    const value = values.get(spec.name);
    if (spec.target !== 'engine' || value === undefined) continue;
    if (!spec.part) {
      pairs.push([spec.name, value]);
      continue;
    }
    const key = `${spec.part.directive} ${spec.part.group}`;
    let line = parts.get(key);
    if (!line) {
      line = { index: pairs.length, group: spec.part.group, args: [] };
      parts.set(key, line);
      pairs.push([spec.part.directive, '']);
    }
    line.args[spec.part.position] = value;
  }
  for (const line of parts.values()) pairs[line.index][1] = [line.group, ...line.args].join(' ');
  return pairs;
}

/**
 * memcached's arguments for resolved Memcached parameters, one token each (`--max-item-size=1048576`,
 * `--extended=lru_crawler`), in catalog order, `no_modern` first so that the explicit arguments
 * after it win. Takes {@link ResolvedParameters} or a fleet plan's `{ family, engine }` equivalent.
 */
export function memcachedArgs(resolved: { readonly family: string; readonly engine: ReadonlyArray<readonly [string, string]> }): string[] {
  const catalog = catalogOf(resolved.family);
  return resolved.engine.flatMap(([name, value]) => {
    const mapping = catalog.entries.find((spec) => spec.name === name)?.memcached;
    if (!mapping) throw new Error(`"${name}" is not a Memcached parameter of the ${resolved.family} family`);
    return argumentsOf(mapping.argument, value);
  });
}

function argumentsOf(argument: MemcachedArgument, value: string): string[] {
  switch (argument.kind) {
    case 'option':
      return [`--${argument.option}=${value}`];
    case 'flag':
      return value === '1' ? [`--${argument.flag}`] : [];
    case 'extended':
      return [`--extended=${argument.name}=${value}`];
    case 'extended-switch':
      if (value === '1') return [`--extended=${argument.name}`];
      return argument.hasOff ? [`--extended=no_${argument.name}`] : [];
  }
}

/** The families cachefleet has a catalog for. */
export function supportedFamilies(): string[] {
  return familyNames();
}

/** A family's catalog entries, in order, for documentation and the catalog test. */
export function catalogEntries(family: string): readonly ParameterSpec[] {
  return catalogOf(family).entries;
}

/** A family's entries whose default deliberately differs from the server's built-in one. */
export function deliberateDifferences(family: string): readonly ParameterSpec[] {
  return catalogEntries(family).filter((spec) => spec.defaultDiffers !== undefined);
}

/**
 * How a change of a redis.conf directive takes effect in a family: `live` (CONFIG SET) when every
 * catalog entry writing it applies live, else `restart`. A directive the catalog does not write
 * (the renderers' own) is `restart`: nothing promises CONFIG SET takes it.
 */
export function directiveApplyMode(family: string, directive: string): ApplyMode {
  const specs = catalogOf(family).entries.filter((spec) => spec.target === 'engine' && (spec.part ? spec.part.directive : spec.name) === directive);
  return specs.length > 0 && specs.every((spec) => spec.apply === 'live') ? 'live' : 'restart';
}
