import { addressInCidr, blockAfterHost, cidrsOverlap } from '../../src/core/addresses';

describe('addressInCidr', () => {
  test.each<[string, number, string]>([
    ['172.28.0.0/24', 10, '172.28.0.10'],
    ['172.28.0.0/24', -1, '172.28.0.254'],
    ['10.0.16.0/20', 300, '10.0.17.44'],
    ['10.0.16.0/20', -2, '10.0.31.253'],
  ])('%s host %d is %s', (cidr, offset, address) => {
    expect(addressInCidr('subnet', cidr, offset)).toBe(address);
  });

  test.each<[string, number, string]>([
    ['172.28.0.0', 1, '`subnet` must be an IPv4 CIDR block with a prefix of at most /30, such as "172.28.0.0/24", got: "172.28.0.0"'],
    ['172.28.0.300/24', 1, '`subnet` must be an IPv4 CIDR block with a prefix of at most /30, such as "172.28.0.0/24", got: "172.28.0.300/24"'],
    ['172.28.0.5/24', 1, '`subnet` must start on its block\'s first address (172.28.0.0/24), got: "172.28.0.5/24"'],
    ['172.28.0.0/29', 7, '`subnet` must have room for host 7 (6 usable addresses), got: "172.28.0.0/29"'],
    ['172.28.0.0/29', 0, '`subnet` must have room for host 0 (6 usable addresses), got: "172.28.0.0/29"'],
  ])('%s host %d is refused', (cidr, offset, message) => {
    expect(() => addressInCidr('subnet', cidr, offset)).toThrow(message);
  });
});

describe('cidrsOverlap', () => {
  test.each<[string, string, boolean]>([
    ['172.28.0.0/24', '172.28.1.0/24', false],
    ['172.28.0.0/16', '172.28.1.0/24', true],
    ['10.0.0.0/8', '10.255.255.0/24', true],
    ['192.168.0.0/30', '192.168.0.4/30', false],
  ])('%s and %s: %s', (a, b, overlap) => {
    expect(cidrsOverlap(a, b)).toBe(overlap);
  });
});

describe('blockAfterHost', () => {
  test.each<[string, number, string | undefined]>([
    ['172.28.0.0/24', 18, '172.28.0.128/25'], // the largest aligned block past host 18
    ['10.10.0.0/27', 18, '10.10.0.24/29'],
    ['10.98.0.0/26', 49, '10.98.0.56/29'],
    ['10.0.0.0/24', 127, '10.0.0.128/25'],
    ['10.0.0.0/24', 128, '10.0.0.192/26'],
    ['10.0.0.0/28', 12, undefined], // no aligned block of 4 past host 12 in 16 addresses
  ])('%s past host %d: %s', (cidr, lastHost, block) => {
    expect(blockAfterHost('subnet', cidr, lastHost)).toBe(block);
  });
});
