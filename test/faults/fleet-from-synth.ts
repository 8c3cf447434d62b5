import * as fs from 'fs';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { FailureDetection } from '../../src/core/fleet-options';
import { Persistence } from '../../src/core/persistence';
import * as docker from '../../src/docker';
import { command, Credentials, infoFields, pairs } from '../integ/support/clients';
import { bundleFile, nodeContainers } from '../integ/support/docker-bundle';
import { MEMCACHED_1_6, RedisFamilyEngine } from '../integ/support/plans';
import { sleep, waitFor } from '../integ/support/processes';
import { RunnableContainer, TerraformContainers } from '../integ/support/terraform-json';

/**
 * Fleets for the fault checks, started from what the Docker flavor synthesizes: a stack holding
 * one construct with the shipped defaults, `Testing.synth`, then every `docker_container` run here
 * by TerraformContainers (test/integ/support/terraform-json.ts) on the caller's loopback addresses.
 */

/** The AUTH token the Terraform variable is given. */
export const FAULTS_TOKEN = 'Faults&Token|9876-abcdef';

/** The admin user's password (its own Terraform variable). */
export const FAULTS_ADMIN_TOKEN = 'Faults&Admin|5432-fedcba';

/** A Redis-family engine the checks run (REDIS_7_0, VALKEY_8_0 of test/integ/support/plans.ts), with its server binary. */
export type FaultEngine = Pick<RedisFamilyEngine, 'title' | 'engine' | 'server'>;

/** Synthesizes a stack with the Docker provider and what `declare` adds. */
export function synthesizeStack(declare: (stack: TerraformStack) => void): string {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'cachefleet-faults');
  new DockerProvider(stack, 'docker');
  declare(stack);
  return Testing.synth(stack);
}

/**
 * A replication group as shipped: a primary, two replicas, three sentinels, default persistence;
 * `failureDetection` undefined leaves the prop unset (the shipped default).
 */
export function replicationGroupJson(engine: FaultEngine, failureDetection?: FailureDetection): string {
  // The checks read the sentinels' master name and endpoints from the stack's outputs (opt-in).
  return synthesizeStack((stack: Construct) => new docker.ReplicationGroup(stack, 'Faults', { engine: engine.engine, replicasPerShard: 2, failureDetection }).addOutputs());
}


/** A single Redis node with the given persistence. */
export function singleNodeJson(engine: FaultEngine, persistence: Persistence): string {
  return synthesizeStack((stack: Construct) => new docker.CacheCluster(stack, 'Durable', { engine: engine.engine, numCacheNodes: 1, persistence }).addOutputs());
}

/** A Memcached set of `nodes` nodes. */
export function memcachedJson(nodes: number): string {
  return synthesizeStack((stack: Construct) =>
    new docker.CacheCluster(stack, 'Pages', { engine: MEMCACHED_1_6, numCacheNodes: nodes }).addOutputs(),
  );
}

/** A synthesized fleet running here. */
export class SynthesizedFleet {
  /**
   * Prepares the containers of `tfJson` on `addresses` (in the JSON's order: data nodes, then
   * sentinels) and starts them all; resolves once every health check passes.
   */
  public static async start(tfJson: string, addresses: readonly string[], hostAddress: string, label: string): Promise<SynthesizedFleet> {
    const tf = JSON.parse(tfJson);
    // The fleet's AUTH token variable, if it has one (Memcached has none).
    const variables: Record<string, string> = {};
    for (const name of Object.keys(tf.variable ?? {})) {
      if (name.endsWith('_auth_token')) variables[name] = FAULTS_TOKEN;
      else if (name.endsWith('_admin_token')) variables[name] = FAULTS_ADMIN_TOKEN;
      else throw new Error(`the stack declares a variable the fault run does not know: ${name}`);
    }
    const containers = TerraformContainers.prepare(tfJson, { variables }, addresses, label, hostAddress);
    const fleet = new SynthesizedFleet(containers, tf);
    try {
      for (const container of containers.containers) containers.start(container.name);
      await Promise.all(nodeContainers(containers).map((c) => fleet.healthy(c.name)));
    } catch (error) {
      await fleet.dispose();
      throw error;
    }
    return fleet;
  }

  /** What the application user authenticates with: the fleet's user (fleet.env) and the AUTH token. */
  public readonly app: Credentials;
  /** The admin user (fleet.env) and its password: what `DEBUG` takes. */
  public readonly admin: Credentials;

  private constructor(public readonly containers: TerraformContainers, private readonly tf: any) {
    const fleetEnv = bundleFile(containers, 'fleet.env');
    this.app = { username: /^CF_APP_USER='([^']*)'$/m.exec(fleetEnv)?.[1], password: FAULTS_TOKEN };
    this.admin = { username: /^CF_ADMIN_USER='([^']*)'$/m.exec(fleetEnv)?.[1], password: FAULTS_ADMIN_TOKEN };
  }

  /** The value of a Terraform output, resolved and mapped to this machine's addresses. */
  public output(suffix: string): unknown {
    const name = Object.keys(this.tf.output ?? {}).find((key) => key.endsWith(`_${suffix}`));
    if (!name) throw new Error(`the stack has no output *_${suffix}`);
    return this.containers.resolve(this.tf.output[name].value, { variables: {} });
  }

  /** The persistence the data nodes' engine configuration sets, in words (`aof everysec`, `rdb`, `none`). */
  public persistence(): string {
    const conf = bundleFile(this.containers, 'redis.conf');
    const directive = (name: string) => new RegExp(`^${name} (.*)$`, 'm').exec(conf)?.[1];
    if (directive('appendonly') === 'yes') return `aof ${directive('appendfsync')}`;
    return directive('save') === '""' ? 'none' : 'rdb';
  }

  /** The data nodes (`redis` or `memcached` service), in slot order. */
  public dataNodes(): RunnableContainer[] {
    return nodeContainers(this.containers).filter((c) => c.labels['cachefleet.service'] !== 'sentinel');
  }

  public sentinels(): RunnableContainer[] {
    return this.containers.labelled('cachefleet.service', 'sentinel');
  }

  /** The name the sentinels monitor the primary under. */
  public masterName(): string {
    return String(this.output('sentinel_master_name'));
  }

  /** The container whose address is `address`. */
  public byAddress(address: string): RunnableContainer {
    const found = this.containers.containers.find((c) => c.address === address);
    if (!found) throw new Error(`no container on ${address}`);
    return found;
  }

  /** Waits for a container's own health check to pass, as Docker would report it healthy. */
  public async healthy(name: string, timeoutMs = 30_000): Promise<void> {
    await waitFor(`${name}'s health check`, async () => {
      if (!this.containers.process(name).running) throw new Error(`${name} exited (${this.containers.process(name).status})`);
      return (await this.containers.health(name)).code === 0;
    }, { timeoutMs, intervalMs: 200 }).catch((error) => {
      throw new Error(`${error.message}\n${this.containers.logs()}`);
    });
  }

  /** kill -9 of a container's processes; resolves once they have exited. */
  public async kill(name: string): Promise<void> {
    const process = this.containers.process(name);
    process.signal('SIGKILL');
    await process.exited;
  }

  /**
   * The pid of the engine process a data node's agent runs (its child `redis-server` or
   * `valkey-server`).
   */
  public enginePid(name: string): number {
    const agent = this.containers.process(name).pid;
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = readStat(Number(entry));
      if (stat && stat.ppid === agent && /-server$/.test(stat.comm)) return Number(entry);
    }
    throw new Error(`${name}: no engine process under its agent (pid ${agent})`);
  }

  /**
   * kill -9 of a data node's engine process only (its agent lives on, as after an out-of-memory
   * kill or an engine crash); resolves once the process has ended.
   */
  public async killEngine(name: string): Promise<void> {
    const pid = this.enginePid(name);
    process.kill(pid, 'SIGKILL');
    await waitFor(`${name}'s engine (pid ${pid}) to end`, async () => {
      const stat = readStat(pid);
      return stat === undefined || stat.state === 'Z';
    }, { timeoutMs: 10_000, intervalMs: 2 });
  }

  /** Resolves with a container's exit status once it has exited; rejects after `timeoutMs`. */
  public async exited(name: string, timeoutMs: number): Promise<number | string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name} did not exit within ${timeoutMs} ms\n${this.containers.logs()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.containers.process(name).exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts a container again, as its restart policy would, and waits for its health check. */
  public async restart(name: string): Promise<void> {
    this.containers.start(name);
    await this.healthy(name);
  }

  /** A command to a sentinel, as the application user. */
  public sentinelCommand(sentinel: RunnableContainer, ...args: Array<string | number>): Promise<unknown> {
    return command(sentinel.address, sentinel.port ?? 26379, this.app, 'SENTINEL', ...args);
  }

  /**
   * The primary every sentinel names (address:port); throws when they disagree or one does not
   * answer. With `among`, only those sentinels are asked (the others being down).
   */
  public async primaryBySentinels(among: RunnableContainer[] = this.sentinels()): Promise<string> {
    const answers = await Promise.all(among.map((s) => this.sentinelCommand(s, 'get-master-addr-by-name', this.masterName()).catch(() => undefined)));
    const named = answers.filter((a): a is string[] => Array.isArray(a)).map((a) => a.join(':'));
    if (named.length !== among.length || new Set(named).size !== 1) throw new Error(`sentinels disagree: ${JSON.stringify(named)}`);
    return named[0];
  }

  /** Each sentinel's configuration epoch of the master: it grows with every failover a sentinel starts or learns of. */
  public async configEpochs(): Promise<number[]> {
    return Promise.all(this.sentinels().map(async (s) => Number(pairs(await this.sentinelCommand(s, 'MASTER', this.masterName()))['config-epoch'])));
  }

  /** Whether any sentinel currently flags the primary subjectively or objectively down. */
  public async primaryFlaggedDown(): Promise<boolean> {
    const flags = await Promise.all(this.sentinels().map(async (s) => pairs(await this.sentinelCommand(s, 'MASTER', this.masterName())).flags ?? ''));
    return flags.some((f) => /s_down|o_down/.test(f));
  }

  /** The engine and version a running data node reports (`redis 7.0.15`, `valkey 8.0.1`). */
  public async serverVersion(node: RunnableContainer): Promise<string> {
    const info = infoFields(String(await command(node.address, node.port ?? 6379, this.app, 'INFO', 'server')));
    return info.valkey_version ? `valkey ${info.valkey_version}` : `redis ${info.redis_version}`;
  }

  /** INFO replication of a data node. */
  public async replication(node: RunnableContainer): Promise<Record<string, string>> {
    return infoFields(String(await command(node.address, node.port ?? 6379, this.app, 'INFO', 'replication')));
  }

  /**
   * Waits until the group is whole again: every sentinel names the same primary and sees the other
   * two sentinels and both replicas up (no s_down, no disconnected), and every replica follows that
   * primary with its link up. Resolves with the primary.
   */
  public async settled(timeoutMs = 60_000): Promise<string> {
    const replicas = this.dataNodes().length - 1;
    return waitFor('the group to settle: one primary, every replica linked, every sentinel seeing all', async () => {
      const primary = await this.primaryBySentinels();
      for (const node of this.dataNodes()) {
        const info = await this.replication(node);
        if (`${node.address}:${node.port}` === primary) {
          if (info.role !== 'master' || Number(info.connected_slaves) !== replicas) return false;
        } else if (info.role !== 'slave' || `${info.master_host}:${info.master_port}` !== primary || info.master_link_status !== 'up') {
          return false;
        }
      }
      for (const sentinel of this.sentinels()) {
        const master = pairs(await this.sentinelCommand(sentinel, 'MASTER', this.masterName()));
        if (Number(master['num-other-sentinels']) !== this.sentinels().length - 1 || /s_down|o_down|failover/.test(master.flags)) return false;
        const seen = ((await this.sentinelCommand(sentinel, 'REPLICAS', this.masterName())) as unknown[]).map(pairs);
        const healthy = seen.filter((r) => r.flags === 'slave' && r['master-link-status'] === 'ok');
        if (healthy.length !== replicas) return false;
      }
      return primary;
    }, { timeoutMs, intervalMs: 250 });
  }

  /**
   * Why `node` is not (yet) a replica of `primary` with its link up, listed as such by every
   * sentinel; undefined when it is.
   */
  public async notReplicaOf(node: RunnableContainer, primary: string): Promise<string | undefined> {
    const info = await this.replication(node).catch((error) => ({ error: String(error.message ?? error) }) as Record<string, string>);
    if (info.error) return `${node.address}: ${info.error}`;
    if (info.role !== 'slave' || `${info.master_host}:${info.master_port}` !== primary || info.master_link_status !== 'up') {
      return `${node.address}: role ${info.role}, master ${info.master_host}:${info.master_port}, link ${info.master_link_status}`;
    }
    for (const sentinel of this.sentinels()) {
      const seen = ((await this.sentinelCommand(sentinel, 'REPLICAS', this.masterName())) as unknown[]).map(pairs);
      const entry = seen.find((r) => `${r.ip}:${r.port}` === `${node.address}:${node.port}`);
      if (!entry || entry.flags !== 'slave') return `${sentinel.name} lists ${node.address} ${entry ? `with flags ${entry.flags}` : 'not at all'}`;
    }
    return undefined;
  }

  /**
   * Polls until `node` is a replica of the primary `primary()` names (see notReplicaOf), or
   * `timeoutMs` passes; resolves with the last reason it was not, if it never was.
   */
  public async untilReplicaOf(node: RunnableContainer, primary: () => Promise<string>, timeoutMs: number): Promise<{ problem?: string }> {
    const start = Date.now();
    let problem: string | undefined;
    while (Date.now() - start < timeoutMs) {
      problem = await primary()
        .then((named) => this.notReplicaOf(node, named))
        .catch((error) => String(error.message ?? error));
      if (problem === undefined) return {};
      await sleep(250);
    }
    return { problem };
  }

  /** Stops every process and removes the temporary root. */
  public async dispose(): Promise<void> {
    await this.containers.dispose();
  }
}

/** Fields of /proc/<pid>/stat, or undefined when the process is gone. */
function readStat(pid: number): { comm: string; state: string; ppid: number } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split at the last ')'.
  const close = text.lastIndexOf(')');
  const [state, ppid] = text.slice(close + 2).split(' ');
  return { comm: text.slice(text.indexOf('(') + 1, close), state, ppid: Number(ppid) };
}
