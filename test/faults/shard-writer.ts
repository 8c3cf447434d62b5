import { ClusterNode, isMaster, parseClusterNodes } from './cluster-topology';
import { keySlot } from './key-slot';
import { RespConnection } from './resp';
import { AcknowledgedWrite, pacer } from './writer';
import { Credentials } from '../integ/support/clients';
import { sleep } from '../integ/support/processes';

/**
 * A steady writer into one shard of a cluster: every key carries a hash tag whose slot the shard
 * owns, every write goes to the master that owns that slot (found from `CLUSTER NODES`, as a
 * cluster client finds it), and a write counts as acknowledged once `WAIT 1` confirms a replica
 * has it. It connects from `localAddress`, so that a partition can leave it on one side.
 */

export interface ShardWriterOptions {
  /** Every data node's `ip:port`, to ask where the slot lives. */
  readonly seeds: readonly string[];
  readonly credentials: Credentials;
  /** A slot of the shard written to. */
  readonly slot: number;
  readonly keyPrefix: string;
  readonly writesPerSecond: number;
  readonly localAddress: string;
  /** How long WAIT waits for a replica, ms. */
  readonly waitMs?: number;
}

/** A hash tag whose keys hash to `slot`'s shard range, for keys `{tag}:n`. */
export function tagForRange(first: number, last: number, prefix: string): { tag: string; slot: number } {
  for (let i = 0; i < 1_000_000; i++) {
    const tag = `${prefix}${i}`;
    const slot = keySlot(tag);
    if (slot >= first && slot <= last) return { tag, slot };
  }
  throw new Error(`no tag for slots ${first}-${last}`);
}

export class ShardWriter {
  public readonly acknowledged: AcknowledgedWrite[] = [];
  /** Writes the master accepted but no replica confirmed (a master cut off from its replica). */
  public readonly unacknowledged: AcknowledgedWrite[] = [];
  /** Errors by their first word (CLUSTERDOWN, MOVED, TRYAGAIN, NOREPLICAS…) or `connection`. */
  public readonly errors: Record<string, number> = {};
  private readonly successes: Array<{ issued: number; done: number; master: string }> = [];
  private readonly refusals: Array<{ at: number; kind: string; master?: string }> = [];
  private readonly tag: string;
  private running = false;
  private loop: Promise<void> | undefined;
  private next = 0;
  private connection: RespConnection | undefined;
  private master: string | undefined;
  /** Pinned: keep writing to this address whatever the cluster says (the partition check). */
  private pinned: string | undefined;

  constructor(private readonly options: ShardWriterOptions) {
    this.tag = tagForRange(options.slot, options.slot, `${options.keyPrefix}-`).tag;
  }

  public start(): void {
    this.running = true;
    this.loop = this.run();
  }

  public async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.connection?.close();
  }

  /** Keeps writing to `address` only, as a client that does not follow the cluster would. */
  public pin(address: string | undefined): void {
    this.pinned = address;
    this.drop();
  }

  /** The completion time of the first write issued at or after `since` that succeeded; rejects after `timeoutMs`. */
  public async firstSuccessAfter(since: number, timeoutMs: number): Promise<{ at: number; master: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.successes.find((s) => s.issued >= since);
      if (found) return { at: found.done, master: found.master };
      if (Date.now() > deadline) throw new Error(`no write into slot ${this.options.slot} succeeded within ${timeoutMs} ms (errors: ${JSON.stringify(this.errors)})`);
      await sleep(5);
    }
  }

  /** The first refusal by the server (not a lost connection) at or after `since`. */
  public async firstRefusalAfter(since: number, timeoutMs: number): Promise<{ at: number; kind: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.refusals.find((r) => r.at >= since && r.kind !== 'connection');
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no write into slot ${this.options.slot} was refused within ${timeoutMs} ms`);
      await sleep(5);
    }
  }

  public successesBetween(from: number, to: number): number {
    return this.successes.filter((s) => s.done >= from && s.done < to).length;
  }

  private drop(): void {
    this.connection?.close();
    this.connection = undefined;
    this.master = undefined;
  }

  private async owner(): Promise<string | undefined> {
    if (this.pinned) return this.pinned;
    // The view of the first node that answers and names a live master for the slot.
    for (const seed of this.options.seeds) {
      let nodes: ClusterNode[];
      try {
        const [host, port] = seed.split(':');
        const connection = await RespConnection.open({
          host,
          port: Number(port),
          localAddress: this.options.localAddress,
          username: this.options.credentials.username!,
          password: this.options.credentials.password!,
          timeoutMs: 500,
        });
        try {
          nodes = parseClusterNodes(String(await connection.call('CLUSTER', 'NODES')));
        } finally {
          connection.close();
        }
      } catch {
        continue;
      }
      const slot = this.options.slot;
      const owner = nodes.find((node) => isMaster(node) && node.slots.some(([first, last]) => slot >= first && slot <= last));
      if (owner) return owner.address;
    }
    return undefined;
  }

  private record(kind: string): void {
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
    this.refusals.push({ at: Date.now(), kind, master: this.master });
  }

  private async run(): Promise<void> {
    const paced = pacer(this.options.writesPerSecond);
    while (this.running) {
      await paced();
      if (!this.connection) {
        const master = await this.owner();
        if (!master) {
          this.record('no-owner');
          await sleep(20);
          continue;
        }
        try {
          const [host, port] = master.split(':');
          this.connection = await RespConnection.open({
            host,
            port: Number(port),
            localAddress: this.options.localAddress,
            username: this.options.credentials.username!,
            password: this.options.credentials.password!,
            timeoutMs: 1_000,
          });
          this.master = master;
        } catch {
          this.record('connection');
          await sleep(20);
          continue;
        }
      }
      const n = this.next++;
      const key = `{${this.tag}}:${n}`;
      const issued = Date.now();
      try {
        await this.connection.call('SET', key, String(n));
        this.successes.push({ issued, done: Date.now(), master: this.master! });
        const replicas = Number(await this.connection.call('WAIT', 1, this.options.waitMs ?? 100));
        (replicas >= 1 ? this.acknowledged : this.unacknowledged).push({ key, value: String(n), at: Date.now() });
      } catch (error) {
        const message = (error as Error).message;
        const kind = /^[A-Z]+\b/.exec(message)?.[0] ?? 'connection';
        this.record(kind === 'ERR' ? 'connection' : kind);
        // A MOVED, a CLUSTERDOWN or a lost connection: ask the cluster again.
        if (!this.pinned || kind === 'connection') this.drop();
        await sleep(10);
      }
    }
  }
}
