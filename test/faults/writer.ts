import Redis from 'ioredis';
import { sleep } from '../integ/support/processes';

/**
 * A steady writer through Sentinel discovery, as an application would run one: ioredis given the
 * sentinels and the master name, reconnecting through the sentinels whenever its connection drops.
 * Each write is `SET <prefix>:<n> <n>` followed by `WAIT 1`: a write counts as acknowledged when
 * the primary confirmed it and at least one replica had it. Its settings are those the README
 * recommends to applications (section "Connecting through Sentinel").
 */

export interface SentinelWriterOptions {
  readonly sentinels: ReadonlyArray<{ host: string; port: number }>;
  readonly masterName: string;
  readonly username: string;
  readonly password: string;
  /** Sentinels take the application password (their `default` user). */
  readonly sentinelPassword: string;
  readonly keyPrefix: string;
  /** Writes per second the writer paces itself to. */
  readonly writesPerSecond: number;
}

/** One write confirmed by WAIT 1. */
export interface AcknowledgedWrite {
  readonly key: string;
  readonly value: string;
  /** When the confirmation arrived (ms since the epoch). */
  readonly at: number;
}

/**
 * Waits until the next write is due at `writesPerSecond`. After an outage a writer resumes at its
 * rate; it does not burst to catch up.
 */
export function pacer(writesPerSecond: number): () => Promise<void> {
  const interval = 1000 / writesPerSecond;
  let due = Date.now();
  return async () => {
    const now = Date.now();
    if (now < due) await sleep(due - now);
    due = Math.max(due + interval, Date.now() - 100);
  };
}

export class SentinelWriter {
  /** Every write confirmed by the primary and WAIT 1, in order. */
  public readonly acknowledged: AcknowledgedWrite[] = [];
  /** Issue and completion times (ms) of every SET the primary confirmed. */
  private readonly successes: Array<{ issued: number; done: number }> = [];
  private readonly client: Redis;
  private running = false;
  private loop: Promise<void> | undefined;
  private next = 0;

  constructor(private readonly options: SentinelWriterOptions) {
    this.client = new Redis({
      sentinels: options.sentinels.map((s) => ({ ...s })),
      name: options.masterName,
      username: options.username,
      password: options.password,
      sentinelPassword: options.sentinelPassword,
      lazyConnect: true,
      // Fail a write at once while disconnected, so the writer sees the outage as it happens
      // instead of queueing; reconnect (through the sentinels) every 20 ms.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 20,
      sentinelRetryStrategy: () => 20,
      // Within a VPC a connection opens in a millisecond: half a second means the address is dead
      // (a lost host answers nothing), and the next try asks the sentinels again.
      connectTimeout: 500,
      commandTimeout: 1_000,
    });
    this.client.on('error', () => undefined);
  }

  /** Connects and starts writing. */
  public async start(): Promise<void> {
    await this.client.connect();
    this.running = true;
    this.loop = this.run();
  }

  /** Stops writing and disconnects. */
  public async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.client.disconnect();
  }

  /**
   * Resolves with the completion time of the first successful write issued at or after `since`
   * (ms); rejects after `timeoutMs`.
   */
  public async firstSuccessAfter(since: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Issue times only grow: scan back from the newest write.
      let earliest: number | undefined;
      for (let i = this.successes.length - 1; i >= 0 && this.successes[i].issued >= since; i--) earliest = this.successes[i].done;
      if (earliest !== undefined) return earliest;
      if (Date.now() > deadline) throw new Error(`no write succeeded within ${timeoutMs} ms`);
      await sleep(5);
    }
  }

  /** Confirmed writes per second over [from, to). */
  public rate(from: number, to: number): number {
    const count = this.successes.filter((s) => s.done >= from && s.done < to).length;
    return count / ((to - from) / 1000);
  }

  private async run(): Promise<void> {
    const paced = pacer(this.options.writesPerSecond);
    while (this.running) {
      await paced();
      const n = this.next++;
      const key = `${this.options.keyPrefix}:${n}`;
      const issued = Date.now();
      try {
        await this.client.set(key, String(n));
        this.successes.push({ issued, done: Date.now() });
        const replicas = Number(await this.client.call('WAIT', 1, 100));
        if (replicas >= 1) this.acknowledged.push({ key, value: String(n), at: Date.now() });
      } catch (error) {
        // Disconnected, NOREPLICAS, a timeout: this write is not acknowledged. Retry shortly. A
        // timeout drops the connection, as Jedis and redis-py do: the next write asks the
        // sentinels again instead of waiting on a primary that may be gone without a word.
        if (/timed out/i.test(String((error as Error)?.message))) this.client.disconnect(true);
        await sleep(5);
      }
    }
  }
}
