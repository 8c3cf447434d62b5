import { createHash } from 'crypto';
import { memcachedJson, SynthesizedFleet } from './fleet-from-synth';
import { MemcachedResult } from './results';
import { target } from './stats';
import { memcachedRequest } from '../integ/support/clients';

/**
 * Memcached node loss: a client spreads keys over the nodes by a hash of the key (its server list
 * fixed, as memcached clients without a re-hash do), one node of three is killed, then every key is
 * read back: the killed node's keys miss, every other key is intact.
 */

const BATCH = 100;
/** How long one exchange may take: generous, the checks share two cores with the other fleets. */
const REQUEST_TIMEOUT_MS = 15_000;

/** The client's choice of node: the first 32 bits of the key's MD5 (as ketama clients hash). */
function hash(key: string): number {
  return createHash('md5').update(key).digest().readUInt32BE(0);
}

export interface MemcachedOptions {
  readonly addresses: readonly string[];
  readonly hostAddress: string;
  readonly keys: number;
}

export async function runMemcachedNodeLoss(options: MemcachedOptions): Promise<MemcachedResult> {
  const fleet = await SynthesizedFleet.start(memcachedJson(options.addresses.length), options.addresses, options.hostAddress, 'faults-memcached');
  try {
    const nodes = fleet.dataNodes();
    const keys = Array.from({ length: options.keys }, (_, i) => `page:${i}`);
    const owner = (key: string) => nodes[hash(key) % nodes.length];
    const value = (key: string) => `v-${key}`;
    const byNode = (list: string[]) => nodes.map((node) => ({ node, keys: list.filter((k) => owner(k) === node) }));

    for (const { node, keys: owned } of byNode(keys)) {
      for (let i = 0; i < owned.length; i += BATCH) {
        // Pipelined sets without replies, closed by `version` so the exchange has one answer.
        const sets = owned.slice(i, i + BATCH).map((k) => `set ${k} 0 0 ${value(k).length} noreply\r\n${value(k)}\r\n`);
        await memcachedRequest(node.address, node.port ?? 11211, `${sets.join('')}version\r\n`, REQUEST_TIMEOUT_MS);
      }
    }

    const killed = nodes[1];
    await fleet.kill(killed.name);

    let misses = 0;
    let survivorsWrong = 0;
    for (const { node, keys: owned } of byNode(keys)) {
      for (let i = 0; i < owned.length; i += BATCH) {
        const batch = owned.slice(i, i + BATCH);
        // An unreachable node is a miss for the client (the killed node refuses the connection at once;
        // a surviving node on a busy machine gets the time it needs to answer).
        const reply = await memcachedRequest(node.address, node.port ?? 11211, `get ${batch.join(' ')}\r\n`, REQUEST_TIMEOUT_MS).catch(() => undefined);
        const found = reply === undefined ? new Map<string, string>() : parseValues(reply);
        for (const key of batch) {
          const got = found.get(key);
          if (got === undefined) misses++;
          if (node !== killed && got !== value(key)) survivorsWrong++;
        }
      }
    }
    const killedKeys = keys.filter((k) => owner(k) === killed).length;
    return {
      nodes: nodes.length,
      keys: keys.length,
      misses,
      missShare: misses / keys.length,
      expectedShare: killedKeys / keys.length,
      survivorsWrong,
      targets: {
        // Exactly the killed node's keys miss: fewer means the kill did not take, more that survivors lost keys.
        missShare: target('misses = keys the killed node held', 0, Math.abs(misses - killedKeys)),
        survivorsWrong: target('keys of the surviving nodes not intact = 0', 0, survivorsWrong),
      },
    };
  } finally {
    await fleet.dispose();
  }
}

/** The `VALUE <key> <flags> <bytes>` blocks of a get reply. */
function parseValues(reply: string): Map<string, string> {
  const values = new Map<string, string>();
  const pattern = /VALUE (\S+) \d+ (\d+)\r\n/g;
  for (let match = pattern.exec(reply); match; match = pattern.exec(reply)) {
    const start = match.index + match[0].length;
    values.set(match[1], reply.slice(start, start + Number(match[2])));
  }
  return values;
}
