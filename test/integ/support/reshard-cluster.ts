import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Redis from 'ioredis';
import { connect, Credentials } from './clients';
import { RedisFamilyEngine } from './plans';
import { CommandResult, ManagedProcess, runCommand, startProcess, waitFor } from './processes';
import { ClusterMode } from '../../../src/core/fleet-options';
import { BUNDLE_FILES, fillPlaceholders, PlaceholderValues, renderBundle } from '../../../src/core/render';
import { FleetPlan, NodeSlot, planFleet } from '../../../src/core/topology';
import { validateReplicationGroupOptions } from '../../../src/core/validation';

/**
 * A cluster-mode group on this machine for the resharding tests: planned and rendered by core
 * (`renderBundle(planFleet(...))`, shards × 1 replica), each data node's files filled as the agent
 * fills them and its engine started from them directly (the agent's cluster formation is not what
 * these tests prove), the cluster formed by the test's own commands, and the resharding library run
 * through `reshard-driver.sh`, as the agent runs it, with a fleet.env of the plan in force.
 */

export const APP_PASSWORD = 'App-Token_1234-reshard';
export const INTERNAL_PASSWORD = 'internal-Pass_5678-abcd';
/** A backslash and a quote-like character: MIGRATE's AUTH2 gets it through the CLI's own quoting. */
export const ADMIN_PASSWORD = 'admin\\Pass\'9012-efgh';
const MEMORY_BYTES = 128 * 1024 * 1024;
export const CLUSTER_SLOTS = 16384;

export const APP: Credentials = { username: 'app', password: APP_PASSWORD };
export const ADMIN: Credentials = { username: 'cachefleet-admin', password: ADMIN_PASSWORD };

const DRIVER = path.resolve(__dirname, 'reshard-driver.sh');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The plan of a group of `shards` shards × 1 replica; slot host number n lives at 127.0.5.<base + n>. */
export function clusterPlan(family: RedisFamilyEngine, shards: number, base: number): FleetPlan {
  const fleet = validateReplicationGroupOptions({ engine: family.engine, clusterMode: ClusterMode.ENABLED, shards, replicasPerShard: 1 });
  return planFleet({ name: 'reshard', fleet, zoneCount: 3, addressOf: (position) => `127.0.5.${base + position.hostNumber}` });
}

/** A node as `CLUSTER NODES` lists it. */
export interface ClusterNode {
  readonly id: string;
  readonly address: string;
  readonly flags: string[];
  readonly master: string | undefined;
  readonly slots: number;
  /** `[slot->-id]` / `[slot-<-id]` entries (only on the node's own line). */
  readonly open: string[];
}

export function parseClusterNodes(text: string): ClusterNode[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const fields = line.trim().split(' ');
      let slots = 0;
      const open: string[] = [];
      for (const item of fields.slice(8)) {
        if (item.startsWith('[')) {
          open.push(item);
          continue;
        }
        const [first, last] = item.split('-').map(Number);
        slots += (last ?? first) - first + 1;
      }
      return {
        id: fields[0],
        address: fields[1].split('@')[0],
        flags: fields[2].split(','),
        master: fields[3] === '-' ? undefined : fields[3],
        slots,
        open,
      };
    });
}

/** What one driver run did: its exit, its output, and every call it made (its trace). */
export interface DriverRun extends CommandResult {
  readonly calls: string[];
}

export class ReshardCluster {
  public readonly root: string;
  private readonly processes = new Map<string, ManagedProcess>();
  private readonly bundle: Record<string, string>;
  private runs = 0;

  /** `largest` is the plan with every slot any step uses; the others give the fleet.env of a step. */
  constructor(public readonly family: RedisFamilyEngine, public readonly largest: FleetPlan) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), `cachefleet-reshard-${family.engine.engineType}-`));
    this.bundle = renderBundle(largest);
    fs.writeFileSync(path.join(this.root, 'redis.conf'), this.bundle[BUNDLE_FILES.redisConf]);
    fs.writeFileSync(path.join(this.root, 'admin-password'), ADMIN_PASSWORD, { mode: 0o600 });
  }

  /** The name of a shard's `ordinal`-th node (its planned primary is 0). */
  public node(shard: number, ordinal: number): string {
    const name = this.largest.cluster!.shards[shard]?.slotNames[ordinal];
    if (!name) throw new Error(`no node ${ordinal} of shard ${shard} in the plan`);
    return name;
  }

  public slot(name: string): NodeSlot {
    const slot = this.largest.slots.find((candidate) => candidate.name === name);
    if (!slot) throw new Error(`no slot ${name} in the plan`);
    return slot;
  }

  public addressOf(name: string): string {
    return `${this.slot(name).address}:${this.largest.port}`;
  }

  private values(slot: NodeSlot): PlaceholderValues {
    const base = path.join(this.root, slot.name);
    return {
      'address': slot.address,
      'data-dir': path.join(base, 'data'),
      'acl-file': path.join(base, 'users.acl'),
      'maxmemory': String(MEMORY_BYTES),
      'replica-output-buffer-hard': String(32 * 1024 * 1024),
      'replica-output-buffer-soft': String(8 * 1024 * 1024),
      'app-password-sha256': sha256(APP_PASSWORD),
      'internal-password': INTERNAL_PASSWORD,
      'internal-password-sha256': sha256(INTERNAL_PASSWORD),
      'admin-password-sha256': sha256(ADMIN_PASSWORD),
    };
  }

  /** Starts a data node from the bundle's files, filled as the agent fills them. */
  public async start(name: string): Promise<void> {
    const slot = this.slot(name);
    const base = path.join(this.root, slot.name);
    fs.mkdirSync(path.join(base, 'data'), { recursive: true });
    const values = this.values(slot);
    fs.writeFileSync(path.join(base, 'redis-node.conf'), fillPlaceholders(this.bundle[BUNDLE_FILES.redisNodeConf], values));
    fs.writeFileSync(path.join(base, 'users.acl'), fillPlaceholders(this.bundle[BUNDLE_FILES.usersAcl], values));
    const live = path.join(base, 'redis.conf');
    fs.writeFileSync(live, `include "${path.join(this.root, 'redis.conf')}"\ninclude "${path.join(base, 'redis-node.conf')}"\n`);
    const started = startProcess(name, this.family.server, [live], { PATH: process.env.PATH }, path.join(this.root, 'logs', `${name}.log`));
    this.processes.set(name, started);
    await waitFor(`${name} to answer`, async () => {
      if (!started.running) throw new Error(`${name} exited (${started.status}):\n${started.log()}`);
      return (await this.call(name, 'PING')) === 'PONG';
    });
  }

  public async stop(name: string): Promise<void> {
    await this.processes.get(name)?.stop('SIGTERM', 10_000);
  }

  /** One command as the admin user on a fresh connection. */
  public async call(name: string, ...args: Array<string | number | Buffer>): Promise<unknown> {
    const [host, port] = this.addressOf(name).split(':');
    const client = await connect(host, Number(port), ADMIN);
    try {
      return await client.call(String(args[0]), ...args.slice(1));
    } finally {
      client.disconnect();
    }
  }

  /** Runs `fn` on an admin connection to the node at `address` (ip:port). */
  public async withNode<T>(address: string, fn: (client: Redis) => Promise<T>): Promise<T> {
    const [host, port] = address.split(':');
    const client = await connect(host, Number(port), ADMIN);
    try {
      return await fn(client);
    } finally {
      client.disconnect();
    }
  }

  public async nodes(name: string): Promise<ClusterNode[]> {
    return parseClusterNodes(String(await this.call(name, 'CLUSTER', 'NODES')));
  }

  /**
   * Forms the cluster of `plan` (its shards' planned primaries own the plan's slot ranges, each
   * planned replica follows its shard's primary) out of the running nodes; `extraShards` join as
   * empty shards (a primary without slots and its replica), as new shards do before a scale-out.
   */
  public async form(plan: FleetPlan, extraShards: number[]): Promise<void> {
    const shards = [...plan.cluster!.shards.map((shard) => shard.index), ...extraShards];
    const names = shards.flatMap((shard) => [this.node(shard, 0), this.node(shard, 1)]);
    const former = names[0];
    for (const name of names.slice(1)) await this.call(former, 'CLUSTER', 'MEET', this.slot(name).address, this.largest.port);
    await waitFor('every node to know every other', async () => {
      for (const name of names) {
        const known = (await this.nodes(name)).filter((node) => !node.flags.includes('handshake') && node.address !== ':0');
        if (known.length !== names.length) return false;
      }
      return true;
    });
    for (const shard of plan.cluster!.shards) {
      await this.call(this.node(shard.index, 0), 'CLUSTER', 'ADDSLOTSRANGE', shard.slotRange[0], shard.slotRange[1]);
    }
    for (const shard of shards) {
      const id = String(await this.call(this.node(shard, 0), 'CLUSTER', 'MYID'));
      await waitFor(`${this.node(shard, 1)} to replicate`, async () => (await this.call(this.node(shard, 1), 'CLUSTER', 'REPLICATE', id)) === 'OK');
    }
    await waitFor('the cluster to agree', async () => {
      for (const name of names) {
        const info = String(await this.call(name, 'CLUSTER', 'INFO'));
        if (!info.includes('cluster_state:ok') || !info.includes(`cluster_slots_ok:${CLUSTER_SLOTS}`)) return false;
        const masters = (await this.nodes(name)).filter((node) => node.flags.includes('master'));
        if (masters.length !== shards.length) return false;
      }
      return true;
    }, { timeoutMs: 60_000 });
  }

  /** Writes the fleet.env of `plan` (the plan a deploy puts in force) and returns its path. */
  public fleetEnv(plan: FleetPlan): string {
    const file = path.join(this.root, `fleet-${plan.cluster!.shards.length}.env`);
    fs.writeFileSync(file, renderBundle(plan)[BUNDLE_FILES.fleetEnv]);
    return file;
  }

  /** Starts a driver (the library's entry point under reshard-driver.sh); resolves when it exits. */
  public driver(fleetEnv: string, args: string[], env: Record<string, string> = {}): Promise<DriverRun> {
    const trace = path.join(this.root, `trace-${++this.runs}`);
    return runCommand('sh', [DRIVER, fleetEnv, ...args], {
      env: {
        PATH: process.env.PATH,
        TMPDIR: os.tmpdir(),
        RESHARD_CLI: this.family.cli,
        RESHARD_ADMIN_PASSWORD_FILE: path.join(this.root, 'admin-password'),
        RESHARD_TRACE: trace,
        ...env,
      },
      timeoutMs: 600_000,
    }).then((result) => ({
      ...result,
      calls: fs.existsSync(trace) ? fs.readFileSync(trace, 'utf8').split(/\n(?=\S)/) : [],
    }));
  }

  public async dispose(): Promise<void> {
    await Promise.all([...this.processes.values()].map((p) => p.stop('SIGTERM', 5_000)));
    if (process.env.CACHEFLEET_KEEP_INTEG !== '1') fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** Whether a call moved anything (what a driver that holds no lease must never send). */
export function movesSlots(call: string): boolean {
  return /CLUSTER SETSLOT \d+ (IMPORTING|MIGRATING|NODE|STABLE)|MIGRATE /.test(call);
}
