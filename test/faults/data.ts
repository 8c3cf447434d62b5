import { Credentials, withClient } from '../integ/support/clients';

/** A key written and the value it was written with. */
export interface WrittenKey {
  readonly key: string;
  readonly value: string;
}

/** How many of `writes` a server does not hold with their written value (MGET in chunks). */
export async function missingWrites(host: string, port: number, credentials: Credentials, writes: readonly WrittenKey[]): Promise<number> {
  return withClient(host, port, credentials, async (client) => {
    let missing = 0;
    for (let i = 0; i < writes.length; i += 1_000) {
      const chunk = writes.slice(i, i + 1_000);
      const values = await client.mget(...chunk.map((w) => w.key));
      missing += chunk.filter((w, j) => values[j] !== w.value).length;
    }
    return missing;
  });
}
