import {
  addressInCidr, blockAfterHost, blockByHash, cidrContains, cidrsOverlap,
  isIpv4Address, isIpv4Cidr, parseIpv4, requireSubnetCidr, specialPurposeRange,
} from '../../src/core/addresses';

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

describe('parseIpv4: the one IPv4 parser', () => {
  test.each<[string, number]>([
    ['0.0.0.0', 0],
    ['127.0.0.1', 0x7f000001],
    ['255.255.255.255', 0xffffffff],
    ['172.28.0.10', 0xac1c000a],
  ])('%s is %d', (text, value) => {
    expect(parseIpv4(text)).toBe(value);
    expect(isIpv4Address(text)).toBe(true);
  });

  test.each<[string, unknown]>([
    ['an octet above 255', '127.0.0.256'],
    ['a leading zero (Docker reads none)', '127.0.0.01'],
    ['three octets', '127.0.1'],
    ['five octets', '1.2.3.4.5'],
    ['a host name', 'localhost'],
    ['a sign', '+1.2.3.4'],
    ['white space', ' 1.2.3.4'],
    ['a CIDR block', '10.0.0.0/8'],
    ['a number', 0x7f000001],
    ['undefined', undefined],
  ])('refuses %s', (_what, text) => {
    expect(parseIpv4(text)).toBeUndefined();
    expect(isIpv4Address(text)).toBe(false);
  });
});

describe('CIDR blocks', () => {
  test.each(['0.0.0.0/0', '10.0.0.0/8', '192.168.1.1/32', '172.28.0.5/24'])('%s is a block (any prefix, aligned or not)', (text) => {
    expect(isIpv4Cidr(text)).toBe(true);
  });

  test.each(['10.0.0.0/33', '10.0.0.0/08', '10.0.0.0', '010.0.0.0/8', '10.0.0.0/-1', '10.0.0.0/ 8'])('%s is not', (text) => {
    expect(isIpv4Cidr(text)).toBe(false);
  });

  test('a subnet is a block of at most /30 on its first address', () => {
    expect(() => requireSubnetCidr('subnetCidr', '10.0.0.0/30')).not.toThrow();
    expect(() => requireSubnetCidr('subnetCidr', '10.0.0.0/31')).toThrow('`subnetCidr` must be an IPv4 CIDR block with a prefix of at most /30, such as "172.28.0.0/24", got: "10.0.0.0/31"');
    expect(() => requireSubnetCidr('subnetCidr', '172.028.0.0/24')).toThrow('`subnetCidr` must be an IPv4 CIDR block with a prefix of at most /30');
    expect(() => requireSubnetCidr('subnetCidr', '10.0.0.4/24')).toThrow('`subnetCidr` must start on its block\'s first address (10.0.0.0/24), got: "10.0.0.4/24"');
  });

  test('cidrsOverlap takes any prefix, /31 and /32 included, and refuses what is no block', () => {
    expect(cidrsOverlap('10.0.0.1/32', '10.0.0.0/31')).toBe(true);
    expect(cidrsOverlap('10.0.0.2/32', '10.0.0.0/31')).toBe(false);
    expect(() => cidrsOverlap('10.0.0.0', '10.0.0.0/8')).toThrow('not two IPv4 CIDR blocks');
  });

  test.each<[string, string, boolean]>([
    ['127.0.0.0/8', '127.0.0.1', true],
    ['127.0.0.0/8', '127.255.255.255', true],
    ['127.0.0.0/8', '128.0.0.0', false],
    ['0.0.0.0/0', '203.0.113.9', true],
  ])('cidrContains(%s, %s) is %s', (cidr, address, inside) => {
    expect(cidrContains(cidr, address)).toBe(inside);
  });
});

describe('specialPurposeRange', () => {
  test.each<[string, string | undefined]>([
    ['0.0.0.0/24', '"this network" (0.0.0.0/8)'],
    ['127.0.0.0/24', 'loopback (127.0.0.0/8)'],
    ['120.0.0.0/5', 'loopback (127.0.0.0/8)'],
    ['169.254.0.0/24', 'link-local (169.254.0.0/16)'],
    ['230.0.0.0/24', 'multicast (224.0.0.0/4)'],
    ['250.0.0.0/24', 'reserved (240.0.0.0/4, with the broadcast address)'],
    ['10.0.0.0/8', undefined],
    ['172.16.0.0/12', undefined],
    ['192.168.0.0/16', undefined],
    ['169.255.0.0/16', undefined],
  ])('%s: %s', (cidr, range) => {
    expect(specialPurposeRange(cidr)).toBe(range);
  });
});

describe('blockByHash', () => {
  test('a pure function of the key: a /24 of the pool on its first address', () => {
    const block = blockByHash('172.16.0.0/16', 24, 'Stack/Sessions');
    expect(block).toBe(blockByHash('172.16.0.0/16', 24, 'Stack/Sessions'));
    expect(block).toMatch(/^172\.16\.\d{1,3}\.0\/24$/);
    expect(() => requireSubnetCidr('subnet', block)).not.toThrow();
  });

  test('spreads keys over the pool', () => {
    const blocks = new Set(Array.from({ length: 200 }, (_, i) => blockByHash('172.16.0.0/16', 24, `Stack/Fleet${i}`)));
    expect(blocks.size).toBeGreaterThan(100);
    for (const block of blocks) expect(cidrsOverlap(block, '172.16.0.0/16')).toBe(true);
  });

  test('refuses a prefix the pool cannot be split into', () => {
    expect(() => blockByHash('172.16.0.0/16', 8, 'x')).toThrow('cannot split 172.16.0.0/16 into /8 blocks');
  });
});
