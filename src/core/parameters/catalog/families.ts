import { MEMCACHED16 } from './memcached1-6';
import { FamilyCatalog, ParameterSpec } from './parameter-spec';
import { REDIS6X } from './redis6x';
import { REDIS7 } from './redis7';
import { VALKEY7 } from './valkey7';
import { VALKEY8 } from './valkey8';

/** Every family cachefleet has a catalog for, in the order messages list them. */
const FAMILIES: readonly FamilyCatalog[] = [REDIS6X, REDIS7, VALKEY7, VALKEY8, MEMCACHED16];

/** The names of the families cachefleet has a catalog for. */
export function supportedFamilies(): string[] {
  return FAMILIES.map((catalog) => catalog.family);
}

/** A family's catalog, or `undefined` when cachefleet has none. */
export function familyCatalog(family: string): FamilyCatalog | undefined {
  return FAMILIES.find((catalog) => catalog.family === family);
}

/** A family's parameter of that name, or `undefined`. */
export function findParameter(catalog: FamilyCatalog, name: string): ParameterSpec | undefined {
  return catalog.entries.find((spec) => spec.name === name);
}

/** The families that have a parameter of that name. */
export function familiesDefining(name: string): string[] {
  return FAMILIES.filter((catalog) => findParameter(catalog, name) !== undefined).map((catalog) => catalog.family);
}
