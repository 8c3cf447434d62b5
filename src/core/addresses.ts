import * as crypto from 'crypto';
import { ValidationError } from './errors';

/**
 * IPv4 addresses and CIDR blocks, parsed here once for every flavor: an address is four decimal
 * octets 0-255 without leading zeros (Go's parser, hence Docker's, refuses `010.0.0.1`), a block
 * is an address, `/` and a prefix 0-32.
 */

/** An IPv4 CIDR block as numbers. */
interface Block {
  /** The first address. */
  readonly base: number;
  /** How many addresses it holds. */
  readonly size: number;
  readonly prefix: number;
}

const OCTET = '(0|[1-9]\\d{0,2})';
const ADDRESS = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);
const CIDR = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}/(0|[1-9]\\d?)$`);

function addressOf(octets: string[]): number | undefined {
  const numbers = octets.map(Number);
  if (numbers.some((octet) => octet > 255)) return undefined;
  return numbers.reduce((value, octet) => value * 256 + octet, 0);
}

/** An IPv4 address as a number, or undefined when `text` is not one. */
export function parseIpv4(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const match = ADDRESS.exec(text);
  return match ? addressOf(match.slice(1, 5)) : undefined;
}

/** Whether `text` is an IPv4 address. */
export function isIpv4Address(text: unknown): boolean {
  return parseIpv4(text) !== undefined;
}

/** Any IPv4 CIDR block, aligned or not (its block is then the one its address falls in); undefined when `text` is none. */
function parseAnyCidr(text: unknown): (Block & { readonly address: number }) | undefined {
  if (typeof text !== 'string') return undefined;
  const match = CIDR.exec(text);
  const address = match ? addressOf(match.slice(1, 5)) : undefined;
  const prefix = match ? Number(match[5]) : 33;
  if (address === undefined || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  return { address, base: address - (address % size), size, prefix };
}

/** Whether `text` is an IPv4 CIDR block of any prefix, such as another tool's network. */
export function isIpv4Cidr(text: unknown): boolean {
  return parseAnyCidr(text) !== undefined;
}

/** What a subnet prop accepts, for messages. */
export const CIDR_ALLOWED = 'must be an IPv4 CIDR block with a prefix of at most /30, such as "172.28.0.0/24"';

/** A subnet for a fleet: a block with room for hosts (a prefix of at most /30) starting on its first address. */
function parseCidr(propPath: string, cidr: unknown): Block {
  const block = parseAnyCidr(cidr);
  if (block === undefined || block.prefix > 30) throw new ValidationError(propPath, cidr, CIDR_ALLOWED);
  if (block.address !== block.base) {
    throw new ValidationError(propPath, cidr, `must start on its block's first address (${formatAddress(block.base)}/${block.prefix})`);
  }
  return block;
}

/**
 * Checks a subnet prop: an IPv4 CIDR block of at most /30 on its first address.
 *
 * @throws ValidationError naming `propPath` otherwise
 */
export function requireSubnetCidr(propPath: string, cidr: unknown): void {
  parseCidr(propPath, cidr);
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

/** Whether two CIDR blocks share an address; either may have any prefix. */
export function cidrsOverlap(a: string, b: string): boolean {
  const first = parseAnyCidr(a);
  const second = parseAnyCidr(b);
  if (!first || !second) throw new Error(`not two IPv4 CIDR blocks: ${JSON.stringify(a)}, ${JSON.stringify(b)}`);
  return first.base < second.base + second.size && second.base < first.base + first.size;
}

/** Whether the address `address` is in the block `cidr`. */
export function cidrContains(cidr: string, address: string): boolean {
  const block = parseAnyCidr(cidr);
  const value = parseIpv4(address);
  if (!block || value === undefined) throw new Error(`not an IPv4 CIDR block and address: ${JSON.stringify(cidr)}, ${JSON.stringify(address)}`);
  return value >= block.base && value < block.base + block.size;
}

/**
 * The IPv4 ranges that are no network of hosts: a bridge network there would shadow the host's own
 * loopback, take addresses that only a link or a multicast group may use, or fail (Docker refuses
 * some, the kernel routes the others elsewhere).
 */
export const SPECIAL_PURPOSE_RANGES: ReadonlyArray<{ readonly cidr: string; readonly name: string }> = [
  { cidr: '0.0.0.0/8', name: '"this network" (0.0.0.0/8)' },
  { cidr: '127.0.0.0/8', name: 'loopback (127.0.0.0/8)' },
  { cidr: '169.254.0.0/16', name: 'link-local (169.254.0.0/16)' },
  { cidr: '224.0.0.0/4', name: 'multicast (224.0.0.0/4)' },
  { cidr: '240.0.0.0/4', name: 'reserved (240.0.0.0/4, with the broadcast address)' },
];

/** The special-purpose range `cidr` overlaps, by name, or undefined when it overlaps none. */
export function specialPurposeRange(cidr: string): string | undefined {
  return SPECIAL_PURPOSE_RANGES.find((range) => cidrsOverlap(range.cidr, cidr))?.name;
}

/**
 * The block of prefix `prefix` inside `pool` that a hash of `key` picks: a pure function of the key,
 * so that a key keeps its block whatever else is allocated from the pool.
 */
export function blockByHash(pool: string, prefix: number, key: string): string {
  const block = parseAnyCidr(pool);
  if (!block || block.address !== block.base || prefix < block.prefix || prefix > 32) {
    throw new Error(`cannot split ${pool} into /${prefix} blocks`);
  }
  const count = 2 ** (prefix - block.prefix);
  const index = parseInt(crypto.createHash('sha256').update(key).digest('hex').slice(0, 12), 16) % count;
  return `${formatAddress(block.base + index * 2 ** (32 - prefix))}/${prefix}`;
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
