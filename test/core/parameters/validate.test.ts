import { familyCatalog } from '../../../src/core/parameters/catalog/families';
import { catalogOf, checkParameters, effectiveValues, existsOn } from '../../../src/core/parameters/validate';

const redis7 = familyCatalog('redis7')!;
const memcached = familyCatalog('memcached1.6')!;

describe('validate', () => {
  test('GIVEN a known family WHEN its catalog is asked for THEN it is returned', () => {
    expect(catalogOf('valkey8').family).toBe('valkey8');
  });

  test('GIVEN a parameter with a since WHEN asked whether a version has it THEN major.minor decides', () => {
    const setMaxListpackEntries = redis7.entries.find((spec) => spec.name === 'set-max-listpack-entries')!;
    expect(existsOn(setMaxListpackEntries, '7.0.15')).toBe(false);
    expect(existsOn(setMaxListpackEntries, '7.2.0')).toBe(true);
    expect(existsOn(redis7.entries[0], '6.0')).toBe(true);
  });

  test('GIVEN a preset set explicitly WHEN effective values are computed THEN it fills the parameters not set', () => {
    const values = effectiveValues(memcached, new Map([['no_modern', '1'], ['lru_crawler', '1']]), '1.6');

    expect(values.get('hash_algorithm')).toBe('jenkins');
    expect(values.get('slab_reassign')).toBe('0');
    expect(values.get('lru_crawler')).toBe('1');
    expect(values.get('max_item_size')).toBe('1048576');
  });

  test('GIVEN a version WHEN effective values are computed THEN later parameters are left out unless set', () => {
    expect(effectiveValues(redis7, new Map(), '7.0').has('set-max-listpack-value')).toBe(false);
    expect(effectiveValues(redis7, new Map([['set-max-listpack-value', '32']]), '7.0').get('set-max-listpack-value')).toBe('32');
  });

  test('GIVEN parameters that do not fit together WHEN checked THEN the parameter just set is blamed', () => {
    const both = { max_item_size: '786432', slab_chunk_max: '1048576' };

    expect(() => checkParameters(memcached, both)).toThrow('`parameters.max_item_size` must be a multiple of slab_chunk_max (1048576), got: "786432"');
    expect(() => checkParameters(memcached, both, undefined, 'slab_chunk_max')).toThrow(
      '`parameters.slab_chunk_max` must divide max_item_size (786432) evenly and be at most it, got: "1048576"',
    );
  });
});
