import { closestName } from '../../../src/core/parameters/closest-name';

const NAMES = ['maxmemory-policy', 'maxmemory-samples', 'timeout', 'max_item_size', 'hz'];

describe('closestName', () => {
  test.each([
    ['maxmemory-polcy', 'maxmemory-policy'],
    ['maxmemory_policy', 'maxmemory-policy'],
    ['MAXMEMORY-POLICY', 'maxmemory-policy'],
    ['max-item-size', 'max_item_size'],
    ['timout', 'timeout'],
    ['hx', 'hz'],
    ['maxmemory-sample', 'maxmemory-samples'],
  ])('GIVEN %j WHEN the closest known name is asked for THEN it is %j', (name, expected) => {
    expect(closestName(name, NAMES)).toBe(expected);
  });

  test.each([['turbo-mode'], ['maxmemory'], ['x']])('GIVEN %j, close to no name, THEN there is no suggestion', (name) => {
    expect(closestName(name, NAMES)).toBeUndefined();
  });
});
