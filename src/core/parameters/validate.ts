import { ValidationError } from '../errors';
import { familiesDefining, familyCatalog, findParameter, supportedFamilies } from './catalog/families';
import { FamilyCatalog, ParameterSpec } from './catalog/parameter-spec';
import { compareVersions } from './catalog/versions';
import { closestName } from './closest-name';

/**
 * Checks parameters against their family's catalog. Every problem is a {@link ValidationError} whose
 * path is `parameters.<name>` and whose message names the value received and what is allowed.
 */

/** aws-cdk-lib's and cdktf's string tokens: core cannot import either, but can recognise their encoding. */
const TOKEN = /\$\{(Tf)?Token\[/;

/** A family's catalog; an unknown family (`redis9`) is the engine's problem. */
export function catalogOf(family: string): FamilyCatalog {
  const catalog = familyCatalog(family);
  if (!catalog) {
    throw new ValidationError(
      'engine',
      family,
      `must have a parameter group family cachefleet has a catalog for (${supportedFamilies().join(', ')})`,
    );
  }
  return catalog;
}

/** Whether a parameter exists on that engine version (`since` no later than it). */
export function existsOn(spec: ParameterSpec, engineVersion: string): boolean {
  return spec.since === undefined || compareVersions(engineVersion, spec.since) >= 0;
}

/** What a parameter value must be, whoever checks it first. */
export const NOT_A_STRING = 'must be a string (parameter values are strings, as in ElastiCache parameter groups)';

/**
 * One parameter's value in the form the engine is given, or a ValidationError. With an engine
 * version, a parameter the engine does not have yet is refused too.
 */
export function checkParameter(catalog: FamilyCatalog, name: string, value: unknown, engineVersion?: string): string {
  const spec = specFor(catalog, name, value, engineVersion);
  const path = `parameters.${name}`;
  if (typeof value !== 'string') {
    throw new ValidationError(path, value, NOT_A_STRING);
  }
  if (TOKEN.test(value)) {
    throw new ValidationError(path, value, "must be a concrete value known at synth time (it is written into the nodes' configuration), not a token");
  }
  const normalized = spec.type.normalize(value);
  if (normalized === undefined) throw new ValidationError(path, value, spec.type.allowed);
  return normalized;
}

/**
 * Every parameter checked on its own, then against each other (with the family's defaults for the
 * ones not set). Returns the values in the engine's form, by name.
 *
 * @param lastSet the parameter just set, blamed first when parameters do not fit together
 */
export function checkParameters(
  catalog: FamilyCatalog,
  parameters: { readonly [name: string]: unknown },
  engineVersion?: string,
  lastSet?: string,
): Map<string, string> {
  const checked = new Map<string, string>();
  for (const [name, value] of Object.entries(parameters)) {
    checked.set(name, checkParameter(catalog, name, value, engineVersion));
  }
  const effective = effectiveValues(catalog, checked, engineVersion ?? catalog.firstVersion);
  for (const check of catalog.crossChecks) {
    const problem = check(effective);
    if (!problem) continue;
    const involved = Object.keys(problem);
    const candidates = [lastSet, ...involved.filter((name) => checked.has(name))];
    const blamed = candidates.find((name) => name !== undefined && involved.includes(name)) ?? involved[0];
    throw new ValidationError(`parameters.${blamed}`, problem[blamed].value, problem[blamed].allowed);
  }
  return checked;
}

/**
 * The value of every parameter that exists on the engine version (and of any set explicitly):
 * the explicit value, else what a set parameter's preset implies, else the catalog's default.
 */
export function effectiveValues(catalog: FamilyCatalog, explicit: ReadonlyMap<string, string>, engineVersion: string): Map<string, string> {
  const implied = new Map<string, string>();
  for (const [name, value] of explicit) {
    const preset = findParameter(catalog, name)?.presets?.[value];
    for (const [impliedName, impliedValue] of Object.entries(preset ?? {})) implied.set(impliedName, impliedValue);
  }
  const values = new Map<string, string>();
  for (const spec of catalog.entries) {
    if (!explicit.has(spec.name) && !existsOn(spec, engineVersion)) continue;
    values.set(spec.name, explicit.get(spec.name) ?? implied.get(spec.name) ?? spec.defaultValue);
  }
  return values;
}

/** The parameter of that name, or the ValidationError that says why there is none. */
function specFor(catalog: FamilyCatalog, name: string, value: unknown, engineVersion?: string): ParameterSpec {
  const path = `parameters.${name}`;
  const spec = findParameter(catalog, name);
  if (spec) {
    if (engineVersion !== undefined && !existsOn(spec, engineVersion)) {
      throw new ValidationError(
        path,
        value,
        `needs ${catalog.engineName} ${spec.since} or later (the engine is ${catalog.engineName} ${engineVersion})`,
      );
    }
    return spec;
  }
  // An own property only: a name such as `constructor` must not find Object's.
  const refusal = Object.prototype.hasOwnProperty.call(catalog.refusals, name) ? catalog.refusals[name] : undefined;
  if (refusal) throw new ValidationError(path, value, refusal);
  const others = familiesDefining(name);
  if (others.length > 0) {
    throw new ValidationError(path, value, `is not a parameter of the ${catalog.family} family (it belongs to ${others.join(', ')})`);
  }
  const suggestion = closestName(name, catalog.entries.map((entry) => entry.name));
  const hint = suggestion ? ` (did you mean \`${suggestion}\`?)` : '';
  throw new ValidationError(path, value, `is not a parameter of the ${catalog.family} family${hint}`);
}
