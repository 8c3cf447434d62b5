import { ValidationError } from './errors';

/** An IPv4 CIDR block as numbers. */
interface Block {
  readonly base: number;
  readonly size: number;
}

function parseCidr(propPath: string, cidr: string): Block {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = match ? match.slice(1, 5).map(Number) : [];
  const prefix = match ? Number(match[5]) : -1;
  if (!match || octets.some((octet) => octet > 255) || prefix > 30) {
    throw new ValidationError(propPath, cidr, 'must be an IPv4 CIDR block with a prefix of at most /30, such as "172.28.0.0/24"');
  }
  const size = 2 ** (32 - prefix);
  const address = octets.reduce((value, octet) => value * 256 + octet, 0);
  if (address % size !== 0) {
    throw new ValidationError(propPath, cidr, `must start on its block's first address (${formatAddress(address - (address % size))}/${prefix})`);
  }
  return { base: address, size };
}

function formatAddress(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/**
 * The address `offset` hosts into a CIDR block; a negative offset counts back from the block's
 * last usable address (-1 is the last). Fixed node addresses come from here, in both flavors.
 */
export function addressInCidr(propPath: string, cidr: string, offset: number): string {
  const block = parseCidr(propPath, cidr);
  const value = offset >= 0 ? block.base + offset : block.base + block.size - 1 + offset;
  if (value <= block.base || value >= block.base + block.size - 1) {
    throw new ValidationError(propPath, cidr, `must have room for host ${offset} (${block.size - 2} usable addresses)`);
  }
  return formatAddress(value);
}

/** Whether two CIDR blocks share an address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const first = parseCidr('cidr', a);
  const second = parseCidr('cidr', b);
  return first.base < second.base + second.size && second.base < first.base + first.size;
}

/**
 * The largest aligned CIDR block of `cidr` that starts after host `lastHost` (at least 4
 * addresses), or undefined when none fits: where a network may hand out addresses of its own
 * without ever taking a fixed one (hosts up to `lastHost`).
 */
export function blockAfterHost(propPath: string, cidr: string, lastHost: number): string | undefined {
  const block = parseCidr(propPath, cidr);
  for (let size = block.size / 2; size >= 4; size /= 2) {
    const start = Math.ceil((lastHost + 1) / size) * size;
    if (start + size <= block.size) return `${formatAddress(block.base + start)}/${32 - Math.log2(size)}`;
  }
  return undefined;
}
