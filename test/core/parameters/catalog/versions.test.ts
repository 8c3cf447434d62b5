import { compareVersions, majorMinor } from '../../../../src/core/parameters/catalog/versions';

describe('versions', () => {
  test.each([
    ['7.0.15', '7.0'],
    ['8.1', '8.1'],
    ['9', '9.0'],
  ])('GIVEN %s WHEN reduced to major.minor THEN it is %s', (version, expected) => {
    expect(majorMinor(version)).toBe(expected);
  });

  test.each([
    ['7.0.15', '7.2', -1],
    ['7.2.7', '7.2', 0],
    ['7.10', '7.2', 1],
    ['8.0.1', '7.2', 1],
    ['6.2', '7.0', -1],
  ])('GIVEN %s and %s WHEN compared THEN the sign is %i', (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign);
  });
});
