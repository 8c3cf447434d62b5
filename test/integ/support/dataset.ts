import Redis, { Cluster } from 'ioredis';
import { connect, Credentials } from './clients';

/**
 * A dataset of the five core types with expiries, written through any client, and read back key by
 * key (type, value, remaining time to live) from one node, to compare a restored node with its
 * source.
 */

/** What a key holds, as a comparison needs it: its type, value, and when it expires (ms since the epoch, -1: never). */
export interface KeyState {
  readonly type: string;
  readonly value: string;
  readonly expiresAt: number;
}

const TYPES = ['string', 'list', 'hash', 'set', 'zset'] as const;

/** The commands that write key `i`: the five types in turn; every tenth expires in an hour. */
function commandsFor(key: string, i: number): Array<[string, ...Array<string | number>]> {
  const write: [string, ...Array<string | number>] = (() => {
    switch (TYPES[i % TYPES.length]) {
      case 'string': return ['SET', key, `value-${i}`] as [string, ...string[]];
      case 'list': return ['RPUSH', key, `a${i}`, `b${i}`, `c${i}`] as [string, ...string[]];
      case 'hash': return ['HSET', key, 'f1', `${i}`, 'f2', `x${i}`] as [string, ...string[]];
      case 'set': return ['SADD', key, `m${i}`, `n${i}`] as [string, ...string[]];
      default: return ['ZADD', key, i, `z${i}`, i + 0.5, `y${i}`] as [string, ...Array<string | number>];
    }
  })();
  return i % 10 === 0 ? [write, ['PEXPIRE', key, 3_600_000]] : [write];
}

/**
 * Writes `count` keys `<prefix><i>`. A node's client pipelines them; a cluster client sends them
 * side by side (a cluster pipeline holds one slot's keys only).
 */
export async function writeDataset(client: Redis | Cluster, count: number, prefix = 'k:'): Promise<void> {
  const batch = 500;
  for (let from = 0; from < count; from += batch) {
    const commands = Array.from({ length: Math.min(count, from + batch) - from }, (_, n) => commandsFor(`${prefix}${from + n}`, from + n));
    if (client instanceof Cluster) {
      await Promise.all(commands.map(async (perKey) => {
        for (const [name, ...args] of perKey) await client.call(name, ...args);
      }));
      continue;
    }
    const replies = await client.pipeline(commands.flat().map(([name, ...args]) => [name.toLowerCase(), ...args])).exec();
    const failed = (replies ?? []).find(([error]) => error);
    if (failed) throw failed[0];
  }
}

/** Every key of one node with its state. */
export async function readDataset(node: Redis): Promise<Map<string, KeyState>> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await node.scan(cursor, 'COUNT', 1000);
    keys.push(...found);
    cursor = next;
  } while (cursor !== '0');
  const states = new Map<string, KeyState>();
  for (let from = 0; from < keys.length; from += 500) {
    const chunk = keys.slice(from, from + 500);
    const types = (await node.pipeline(chunk.map((key) => ['type', key])).exec())!.map(([, type]) => String(type));
    const reads = node.pipeline();
    chunk.forEach((key, i) => {
      switch (types[i]) {
        case 'string': reads.get(key); break;
        case 'list': reads.lrange(key, 0, -1); break;
        case 'hash': reads.hgetall(key); break;
        case 'set': reads.smembers(key); break;
        case 'zset': reads.zrange(key, 0, -1, 'WITHSCORES'); break;
        default: reads.echo(`unexpected type ${types[i]}`);
      }
      reads.pttl(key);
    });
    const replies = (await reads.exec())!;
    const readAt = Date.now();
    chunk.forEach((key, i) => {
      const pttl = Number(replies[2 * i + 1][1]);
      states.set(key, { type: types[i], value: canonical(replies[2 * i][1], types[i]), expiresAt: pttl < 0 ? -1 : readAt + pttl });
    });
  }
  return states;
}

/** A set's members in order (SMEMBERS has none), a hash's fields sorted. */
function canonical(value: unknown, type: string): string {
  if (Array.isArray(value)) return JSON.stringify(type === 'set' ? [...value].sort() : value);
  if (value && typeof value === 'object') return JSON.stringify(Object.entries(value).sort());
  return String(value);
}

/** The keys missing, added, or whose type or value differ, or whose expiry moved by more than `ttlSlackMs`; at most 10. */
export function datasetDifferences(before: Map<string, KeyState>, after: Map<string, KeyState>, ttlSlackMs: number): string[] {
  const differences: string[] = [];
  for (const [key, was] of before) {
    const now = after.get(key);
    const expiryMoved = now && (was.expiresAt < 0 ? now.expiresAt !== -1 : Math.abs(now.expiresAt - was.expiresAt) > ttlSlackMs);
    if (!now || now.type !== was.type || now.value !== was.value || expiryMoved) {
      differences.push(`${key}: ${JSON.stringify(was)} → ${JSON.stringify(now)}`);
    }
    if (differences.length >= 10) break;
  }
  for (const key of after.keys()) {
    if (differences.length >= 10) break;
    if (!before.has(key)) differences.push(`${key}: not in the source`);
  }
  return differences;
}

/** Every key of the node at <address>:<port> with its state, on a connection of its own. */
export async function datasetOf(address: string, port: number, credentials: Credentials): Promise<Map<string, KeyState>> {
  const client = await connect(address, port, credentials, 2_000);
  client.options.commandTimeout = 60_000;
  try {
    return await readDataset(client);
  } finally {
    client.disconnect();
  }
}
