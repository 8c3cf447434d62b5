import { Cluster, ClusterNode, ClusterOptions } from 'ioredis';
import { Credentials } from './clients';

/** What the writer saw of the cluster: redirections and errors by their first word. */
export type Redirections = Record<'MOVED' | 'ASK' | 'TRYAGAIN' | 'CLUSTERDOWN' | 'other', number>;

/** ioredis' Cluster, counting every redirection and cluster error it handles for a command. */
class CountingCluster extends Cluster {
  public readonly seen: Redirections = { MOVED: 0, ASK: 0, TRYAGAIN: 0, CLUSTERDOWN: 0, other: 0 };

  constructor(startupNodes: ClusterNode[], options: ClusterOptions) {
    super(startupNodes, options);
  }

  public handleError(error: Error, ttl: { value?: any }, handlers: any): void {
    const word = error.message.split(' ')[0];
    if (word === 'MOVED' || word === 'ASK' || word === 'TRYAGAIN' || word === 'CLUSTERDOWN') this.seen[word] += 1;
    else this.seen.other += 1;
    super.handleError(error, ttl, handlers);
  }
}

/**
 * A cluster-aware application: `concurrency` loops, each writing distinct new keys one at a time
 * through ioredis' `Cluster` (as the application user), recording each key whose SET was
 * acknowledged. A write that fails is not acknowledged and is not expected afterwards.
 */
export class ClusterWriter {
  /** Every acknowledged key and its value. */
  public readonly acknowledged = new Map<string, string>();
  public failed = 0;
  public readonly failures = new Map<string, number>();
  private readonly cluster: CountingCluster;
  private running = false;
  private loops: Promise<void>[] = [];
  private next = 0;

  constructor(startupNodes: string[], credentials: Credentials, private readonly prefix: string) {
    this.cluster = new CountingCluster(
      startupNodes.map((address) => ({ host: address.split(':')[0], port: Number(address.split(':')[1]) })),
      {
        redisOptions: { username: credentials.username, password: credentials.password, connectTimeout: 2_000, commandTimeout: 5_000 },
        slotsRefreshTimeout: 2_000,
        retryDelayOnTryAgain: 50,
        retryDelayOnClusterDown: 100,
        enableReadyCheck: true,
      },
    );
    this.cluster.on('error', () => undefined);
  }

  public get seen(): Redirections {
    return { ...this.cluster.seen };
  }

  public start(concurrency = 2): void {
    this.running = true;
    this.loops = Array.from({ length: concurrency }, () => this.loop());
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const key = `${this.prefix}:${this.next++}`;
      const value = `v-${key}-${Date.now()}`;
      try {
        if ((await this.cluster.set(key, value)) === 'OK') this.acknowledged.set(key, value);
        // About a thousand writes a second per loop: continuous, and few enough keys to check
        // every one of them afterwards.
        await new Promise((resolve) => setTimeout(resolve, 1));
      } catch (error) {
        this.failed += 1;
        const word = (error as Error).message.split(' ')[0];
        this.failures.set(word, (this.failures.get(word) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }

  /** Writes `keys` (each once, in parallel chunks), recording the acknowledged ones. */
  public async write(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 200) {
      await Promise.all(
        keys.slice(i, i + 200).map(async (key) => {
          const value = `v-${key}`;
          if ((await this.cluster.set(key, value)) === 'OK') this.acknowledged.set(key, value);
        }),
      );
    }
  }

  /** Stops writing; resolves when every loop's last write is answered. */
  public async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Reads every acknowledged key back through the cluster: the keys missing or changed. */
  public async lost(): Promise<string[]> {
    const keys = [...this.acknowledged.keys()];
    const lost: string[] = [];
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      const values = await Promise.all(chunk.map((key) => this.cluster.get(key)));
      chunk.forEach((key, j) => {
        if (values[j] !== this.acknowledged.get(key)) lost.push(key);
      });
    }
    return lost;
  }

  public async dispose(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.cluster.disconnect();
  }
}
