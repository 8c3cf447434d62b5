import { familiesDefining, familyCatalog, findParameter, supportedFamilies } from '../../../../src/core/parameters/catalog/families';
import { ParameterSpec } from '../../../../src/core/parameters/catalog/parameter-spec';
import { compareVersions } from '../../../../src/core/parameters/catalog/versions';

/** The catalog's own consistency, family by family: what the server tests cannot see. */

const catalogs = supportedFamilies().map((family) => familyCatalog(family)!);
const everyEntry: Array<[string, ParameterSpec]> = catalogs.flatMap((catalog) =>
  catalog.entries.map((spec): [string, ParameterSpec] => [catalog.family, spec]),
);

describe('the family catalogs', () => {
  test.each(catalogs.map((catalog) => [catalog.family, catalog] as const))('GIVEN %s THEN its names are unique', (_family, catalog) => {
    const names = catalog.entries.map((spec) => spec.name);
    expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
  });

  test.each(everyEntry)('GIVEN %s %s THEN its default is a value of its type, in the engine\'s form', (_family, spec) => {
    expect(spec.type.normalize(spec.defaultValue)).toBe(spec.defaultValue);
  });

  test.each(everyEntry)('GIVEN %s %s THEN it has a one-line description', (_family, spec) => {
    expect(spec.description).toMatch(/^[A-Z][^\n]{10,}\.$/);
  });

  test.each(everyEntry.filter(([, spec]) => spec.defaultDiffers))('GIVEN %s %s marked as differing THEN it records a valid, different built-in default and why', (_family, spec) => {
    const { engineDefault, reason } = spec.defaultDiffers!;
    expect(spec.type.normalize(engineDefault) ?? engineDefault).not.toBe(spec.defaultValue);
    expect(reason.length).toBeGreaterThan(20);
  });

  test.each(everyEntry.filter(([, spec]) => spec.target === 'none'))('GIVEN %s %s, an ElastiCache name with nothing to render THEN only its default is accepted and ElastiCache is explained', (_family, spec) => {
    expect(spec.type.normalize(spec.defaultValue)).toBe(spec.defaultValue);
    expect(spec.type.allowed).toMatch(new RegExp(`^must be ${spec.defaultValue}: `));
  });

  test.each(catalogs.map((catalog) => [catalog.family, catalog] as const))('GIVEN %s THEN its versions are major.minor and not before the family', (_family, catalog) => {
    for (const spec of catalog.entries.filter((entry) => entry.since !== undefined)) {
      expect(spec.since).toMatch(/^\d+\.\d+$/);
    }
    expect(catalog.firstVersion).toMatch(/^\d+\.\d+$/);
  });

  test.each(catalogs.map((catalog) => [catalog.family, catalog] as const))('GIVEN %s THEN the agent\'s memory reserve is in it', (_family, catalog) => {
    const reserve = findParameter(catalog, 'reserved-memory-percent')!;
    expect(reserve.target).toBe('agent');
  });

  test.each(catalogs.map((catalog) => [catalog.family, catalog] as const))('GIVEN %s THEN no refused name is also a parameter', (_family, catalog) => {
    expect(Object.keys(catalog.refusals).filter((name) => findParameter(catalog, name))).toEqual([]);
  });

  test.each(catalogs.map((catalog) => [catalog.family, catalog] as const))('GIVEN %s THEN each multi-part directive has all its parts', (_family, catalog) => {
    const lines = new Map<string, number[]>();
    for (const spec of catalog.entries.filter((entry) => entry.part)) {
      const key = `${spec.part!.directive} ${spec.part!.group}`;
      lines.set(key, [...(lines.get(key) ?? []), spec.part!.position]);
    }
    for (const positions of lines.values()) expect(positions).toEqual(positions.map((_, index) => index));
  });

  test.each(catalogs.map((catalog) => [catalog.family, catalog] as const))('GIVEN %s THEN presets name parameters of the family with values of their type', (_family, catalog) => {
    for (const spec of catalog.entries) {
      for (const [value, preset] of Object.entries(spec.presets ?? {})) {
        expect(spec.type.normalize(value)).toBe(value);
        for (const [name, implied] of Object.entries(preset)) expect(findParameter(catalog, name)?.type.normalize(implied)).toBe(implied);
      }
    }
  });

  test('GIVEN memcached1.6 THEN every engine parameter says which argument it becomes and where stats settings shows it', () => {
    const memcached = familyCatalog('memcached1.6')!;
    for (const spec of memcached.entries.filter((entry) => entry.target === 'engine')) {
      expect(spec.memcached).toBeDefined();
      expect(spec.apply).toBe('restart');
    }
  });

  test('GIVEN the Redis and Valkey families THEN none maps to memcached arguments', () => {
    const redisLike = catalogs.filter((catalog) => catalog.engineName !== 'Memcached');
    expect(redisLike.flatMap((catalog) => catalog.entries.filter((spec) => spec.memcached))).toEqual([]);
  });

  test('GIVEN redis6.x THEN it is redis7 without what Redis 7 added', () => {
    const redis6 = familyCatalog('redis6.x')!;
    expect(redis6.entries.filter((spec) => spec.since !== undefined && compareVersions(spec.since, '7.0') >= 0)).toEqual([]);
    expect(findParameter(redis6, 'list-max-ziplist-size')!.defaultValue).toBe(findParameter(familyCatalog('redis7')!, 'list-max-listpack-size')!.defaultValue);
  });

  test('GIVEN valkey8 THEN it has every valkey7 parameter, and valkey7 every redis7 one', () => {
    const names = (family: string) => familyCatalog(family)!.entries.map((spec) => spec.name);
    expect(names('valkey8')).toEqual(expect.arrayContaining(names('valkey7')));
    expect(names('valkey7')).toEqual(names('redis7'));
  });

  test('GIVEN a name WHEN the families defining it are asked for THEN they are listed in order', () => {
    expect(familiesDefining('maxmemory-policy')).toEqual(['redis6.x', 'redis7', 'valkey7', 'valkey8']);
    expect(familiesDefining('max_item_size')).toEqual(['memcached1.6']);
    expect(familiesDefining('no-such-parameter')).toEqual([]);
  });

  test('GIVEN an unknown family THEN there is no catalog', () => {
    expect(familyCatalog('redis9')).toBeUndefined();
  });
});
