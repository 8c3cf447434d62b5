import {
  decimal,
  explained,
  formatBytes,
  INT_MAX,
  integer,
  letters,
  LLONG_MAX,
  memory,
  memoryOrPercent,
  oneOf,
  parseBytes,
  percentiles,
  powerOfTwo,
  saveRules,
  ValueType,
  yesNo,
  zeroOne,
} from '../../../../src/core/parameters/catalog/value-types';

const cases: Array<[string, ValueType, string, string | undefined]> = [
  ['integer', integer(0n, INT_MAX), '300', '300'],
  ['integer', integer(0n, INT_MAX), ' 007 ', '7'],
  ['integer', integer(0n, INT_MAX), '2147483648', undefined],
  ['integer', integer(-1n, LLONG_MAX), '9223372036854775807', '9223372036854775807'],
  ['integer', integer(-1n, LLONG_MAX), '-2', undefined],
  ['integer', integer(0n, 10n), '1.5', undefined],
  ['integer', integer(0n, 10n), '', undefined],
  ['decimal', decimal(1, 100), '1.25', '1.25'],
  ['decimal', decimal(1, 100), '1', undefined],
  ['decimal', decimal(1, 100), '100.5', undefined],
  ['decimal', decimal(1, 100), '1e2', undefined],
  ['yes/no', yesNo(), 'YES', 'yes'],
  ['yes/no', yesNo(), 'true', undefined],
  ['0/1', zeroOne(), '1', '1'],
  ['0/1', zeroOne(), 'yes', undefined],
  ['enum', oneOf('a-b', 'c'), 'A-B', 'a-b'],
  ['enum', oneOf('a-b', 'c'), 'd', undefined],
  ['memory', memory(0n, LLONG_MAX), '64mb', '67108864'],
  ['memory', memory(0n, LLONG_MAX), '64m', '64000000'],
  ['memory', memory(0n, LLONG_MAX), '1GB', '1073741824'],
  ['memory', memory(0n, LLONG_MAX), '2k', '2000'],
  ['memory', memory(0n, LLONG_MAX), '1.5gb', undefined],
  ['memory', memory(0n, LLONG_MAX), '-1', undefined],
  ['memory', memory(16384n, LLONG_MAX), '16kb', '16384'],
  ['memory', memory(16384n, LLONG_MAX), '16k', undefined],
  ['memory or percent', memoryOrPercent(), '10%', '10%'],
  ['memory or percent', memoryOrPercent(), '0%', undefined],
  ['memory or percent', memoryOrPercent(), '1gb', '1073741824'],
  ['power of two', powerOfTwo(1024, 1048576), '524288', '524288'],
  ['power of two', powerOfTwo(1024, 1048576), '512', undefined],
  ['power of two', powerOfTwo(1024, 1048576), '3072', undefined],
  ['save rules', saveRules(), '3600 1  300 100', '3600 1 300 100'],
  ['save rules', saveRules(), '""', ''],
  ['save rules', saveRules(), '3600', undefined],
  ['save rules', saveRules(), '0 1', undefined],
  ['letters', letters('KEx'), 'Ex', 'Ex'],
  ['letters', letters('KEx'), '""', ''],
  ['letters', letters('KEx'), 'Ey', undefined],
  ['percentiles', percentiles(), '50 99.9', '50 99.9'],
  ['percentiles', percentiles(), '', ''],
  ['percentiles', percentiles(), '100.1', undefined],
  ['explained', explained(oneOf('no'), 'must be no: why'), 'no', 'no'],
];

describe('value types', () => {
  test.each(cases)('GIVEN a %s type WHEN %j is checked THEN the engine gets %j', (_kind, type, value, expected) => {
    expect(type.normalize(value)).toBe(expected);
  });

  test.each([
    [integer(0n, INT_MAX), 'must be an integer of at least 0'],
    [integer(1n, 64n), 'must be an integer from 1 to 64'],
    [memory(1024n ** 2n, LLONG_MAX), 'must be a size in bytes, or with a unit such as 64mb or 1gb, of at least 1mb'],
    [memory(0n, 3000n), 'must be a size in bytes, or with a unit such as 64mb or 1gb, from 0 to 3000'],
    [oneOf('no'), 'must be no'],
    [explained(oneOf('no'), 'must be no: why'), 'must be no: why'],
  ])('GIVEN a type WHEN it says what it allows THEN it reads %#', (type, allowed) => {
    expect(type.allowed).toBe(allowed);
  });

  test.each([
    ['1048576', 1048576n],
    ['1mb', 1048576n],
    ['1M', 1000000n],
    ['x', undefined],
  ])('GIVEN %j WHEN read as bytes THEN it is %s', (text, bytes) => {
    expect(parseBytes(text)).toBe(bytes);
  });

  test.each([
    [16384n, '16kb'],
    [1073741824n, '1gb'],
    [3000n, '3000'],
    [0n, '0'],
  ])('GIVEN %s bytes WHEN formatted THEN it reads %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
