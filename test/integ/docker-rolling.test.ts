import * as fs from 'fs';
import { Testing } from 'cdktf';
import { describeInteg, needsBinaries } from './support/binaries';
import { command, infoFields } from './support/clients';
import { allHealthy, primaryBySentinels, sentinelsSettled } from './support/docker-group';
import { loopbackAddresses } from './support/plans';
import { sleep, waitFor } from './support/processes';
import { RunnableContainer, TerraformContainers } from './support/terraform-json';
import { CacheEngine, RedisEngineVersion } from '../../src/core/engine';
import { ParameterGroup } from '../../src/core/parameters/parameter-group';
import { INTERNAL_USERS } from '../../src/core/validation';
import { ReplicationGroup } from '../../src/docker';
import { dockerStack } from '../docker/synth';

/**
 * Parameter changes applied by a second `terraform apply`, as provider 3.6.2 and Terraform run it
 * (support/terraform-json.ts `apply`): the change replaces only the fleet's bundle container, which
 * publishes the new bundle, and the nodes take it themselves.
 * - A live parameter reaches every data node through CONFIG SET: no node restarts or goes down.
 * - A parameter only a restart applies restarts every node once, one at a time, replicas before the
 *   primary, which hands over first: no node stops while it is the primary, and no write that a
 *   replica acknowledged is lost.
 * - A lower replica count removes a replica's container (its volume stays) and the sentinels forget
 *   it; the higher count again brings it back on its address and volume.
 * Addresses 127.0.0.241-246, the six node containers in the JSON's order (test/integ/README.md);
 * the bundle container has no network.
 */
jest.setTimeout(420_000);

const TOKEN = 'Orders-Rolling_Token-1234';
const ADMIN_TOKEN = 'Orders-Admin_Token-5678';
const app = { username: 'app', password: TOKEN };
const admin = { username: INTERNAL_USERS.admin, password: ADMIN_TOKEN };
const inputs = { variables: { orders_auth_token: TOKEN, orders_admin_token: ADMIN_TOKEN } };

function synthesize(parameters: Record<string, string>, replicasPerShard = 2): string {
  const stack = dockerStack();
  const engine = CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 });
  new ReplicationGroup(stack, 'Orders', {
    engine,
    replicasPerShard,
    publishPorts: false,
    parameterGroup: new ParameterGroup(stack, 'Params', { engine, parameters }),
  });
  return Testing.synth(stack);
}

/** What one look at a node saw: its run id and role, or nothing when it did not answer. */
interface Look {
  readonly at: number;
  readonly runId?: string;
  readonly role?: string;
}

/** Looks at every node every 100 ms until stopped. */
class Watcher {
  public readonly looks = new Map<string, Look[]>();
  private running = true;
  private readonly done: Promise<void>;

  constructor(private readonly nodes: RunnableContainer[]) {
    for (const node of nodes) this.looks.set(node.name, []);
    this.done = this.loop();
  }

  public async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  /**
   * Whether a node was down at a round: it did not answer, and its answers on either side of the
   * gap came from different runs (a process that answers with the same run id before and after
   * never stopped: its looks timed out on a busy machine). A gap with no answer on one side (before
   * the first or after the last) proves no stop: the tests wait for every node to be healthy
   * before the watcher starts and before it stops.
   */
  public downAt(name: string, round: number): boolean {
    const looks = this.looks.get(name)!;
    if (looks[round].runId !== undefined) return false;
    const before = looks.slice(0, round).reverse().find((look) => look.runId !== undefined)?.runId;
    const after = looks.slice(round + 1).find((look) => look.runId !== undefined)?.runId;
    return before !== undefined && after !== undefined && before !== after;
  }

  /** The largest number of nodes down in the same round. */
  public mostDownAtOnce(): number {
    const rounds = this.looks.get(this.nodes[0].name)!.length;
    let most = 0;
    for (let i = 0; i < rounds; i++) most = Math.max(most, this.nodes.filter((node) => this.downAt(node.name, i)).length);
    return most;
  }

  /** A node's run ids in the order it had them. */
  public runIds(name: string): string[] {
    const ids: string[] = [];
    for (const look of this.looks.get(name)!) if (look.runId !== undefined && ids[ids.length - 1] !== look.runId) ids.push(look.runId);
    return ids;
  }

  /** When a node first answered with another run id than its first (it restarted), or undefined. */
  public restartedAt(name: string): number | undefined {
    const looks = this.looks.get(name)!;
    const first = looks.find((look) => look.runId !== undefined)?.runId;
    return looks.find((look) => look.runId !== undefined && look.runId !== first)?.at;
  }

  /**
   * Whether a node was no longer the primary when it stopped: at its last answer with its first run
   * id it was a replica, or another node already answered as the primary (the looks are 100 ms
   * apart: the last moments before a stop can fall between two). A primary that stops without a
   * handover is failed over only after the sentinels' silence timeout, once it no longer answers.
   */
  public handedOverBeforeStop(name: string): boolean {
    const looks = this.looks.get(name)!;
    const first = looks.find((look) => look.runId !== undefined)?.runId;
    const last = looks.map((look) => look.runId).lastIndexOf(first);
    if (looks[last].role === 'slave') return true;
    return [...this.looks.entries()].some(([other, seen]) => other !== name && seen.slice(1, last + 1).some((look) => look.role === 'master'));
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const at = Date.now();
      const seen = await Promise.all(this.nodes.map((node) => this.look(node)));
      this.nodes.forEach((node, i) => this.looks.get(node.name)!.push({ at, ...seen[i] }));
      await sleep(Math.max(0, 100 - (Date.now() - at)));
    }
  }

  private async look(node: RunnableContainer): Promise<Omit<Look, 'at'>> {
    const sentinel = node.labels['cachefleet.service'] === 'sentinel';
    try {
      const info = infoFields(String(await command(node.address, sentinel ? 26379 : 6379, admin, 'INFO')));
      return { runId: info.run_id, role: info.role };
    } catch {
      return {};
    }
  }
}

/** Writes keys to whatever the sentinels name as the primary; a key counts once a replica has it too. */
class Writer {
  public readonly acknowledged: string[] = [];
  private running = true;
  private readonly done: Promise<void>;

  constructor(private readonly fleet: TerraformContainers, private readonly prefix: string) {
    this.done = this.loop();
  }

  public async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  private async loop(): Promise<void> {
    let i = 0;
    while (this.running) {
      const key = `${this.prefix}:${i++}`;
      try {
        const primary = await primaryBySentinels(this.fleet, 'orders', TOKEN);
        if (await command(primary, 6379, app, 'SET', key, 'v') === 'OK' && Number(await command(primary, 6379, app, 'WAIT', 1, 500)) >= 1) {
          this.acknowledged.push(key);
        }
      } catch {
        // not acknowledged: the writer goes on
      }
      await sleep(20);
    }
  }
}

describeInteg('Docker flavor: parameter changes roll through the group', () => {
  needsBinaries(['redis-server', 'redis-cli']);
  const initial = synthesize({ 'maxmemory-policy': 'volatile-lru', 'io-threads': '1' });
  const live = synthesize({ 'maxmemory-policy': 'allkeys-lru', 'io-threads': '1' });
  const restart = synthesize({ 'maxmemory-policy': 'allkeys-lru', 'io-threads': '2' });
  const fewer = synthesize({ 'maxmemory-policy': 'allkeys-lru', 'io-threads': '2' }, 1);
  let fleet: TerraformContainers;
  const dataNodes = () => fleet.labelled('cachefleet.service', 'redis');
  const nodes = () => [...dataNodes(), ...fleet.labelled('cachefleet.service', 'sentinel')];
  const config = async (node: RunnableContainer, name: string) => (await command(node.address, 6379, admin, 'CONFIG', 'GET', name) as string[])[1];

  beforeAll(async () => {
    fleet = TerraformContainers.prepare(initial, inputs, loopbackAddresses(241, 6), 'rolling');
    for (const container of fleet.containers) fleet.start(container.name);
    await allHealthy(fleet);
    await sentinelsSettled(fleet, 'orders', TOKEN, 2);
  });

  afterAll(async () => fleet?.dispose());

  test('a live parameter reaches every data node without a restart', async () => {
    const watcher = new Watcher(nodes());
    try {
      expect(await fleet.apply(live, inputs)).toEqual(['orders-bundle']);
      for (const node of dataNodes()) {
        await waitFor(`${node.name} to run with allkeys-lru`, async () => await config(node, 'maxmemory-policy') === 'allkeys-lru', { timeoutMs: 60_000, intervalMs: 250 });
      }
    } finally {
      await watcher.stop();
    }
    expect(watcher.mostDownAtOnce()).toBe(0);
    for (const node of nodes()) expect(watcher.runIds(node.name)).toHaveLength(1);
  });

  test('a parameter that needs a restart restarts one node at a time, replicas first, and keeps every acknowledged write', async () => {
    const primary = await primaryBySentinels(fleet, 'orders', TOKEN);
    const watcher = new Watcher(nodes());
    const writer = new Writer(fleet, 'rolling');
    try {
      expect(await fleet.apply(restart, inputs)).toEqual(['orders-bundle']);
      for (const node of nodes()) {
        await waitFor(`${node.name} to restart`, () => watcher.restartedAt(node.name) !== undefined, { timeoutMs: 300_000, intervalMs: 500 });
      }
      await allHealthy(fleet);
      await sentinelsSettled(fleet, 'orders', TOKEN, 2);
    } finally {
      await writer.stop();
      await watcher.stop();
    }
    // Every node restarted once, and never two at the same time.
    for (const node of nodes()) expect({ node: node.name, runIds: watcher.runIds(node.name).length }).toEqual({ node: node.name, runIds: 2 });
    if (watcher.mostDownAtOnce() > 1) throw new Error(`${watcher.mostDownAtOnce()} nodes were down at once\n${fleet.logs(20)}`);
    // The new setting runs everywhere.
    for (const node of dataNodes()) expect(await config(node, 'io-threads')).toBe('2');
    expect(await config(dataNodes()[0], 'maxmemory-policy')).toBe('allkeys-lru');
    // Replicas first: the initial primary restarted last of the data nodes, and no data node
    // stopped while it was the primary.
    const primaryNode = dataNodes().find((node) => node.address === primary)!;
    for (const node of dataNodes().filter((n) => n !== primaryNode)) {
      expect(watcher.restartedAt(node.name)!).toBeLessThan(watcher.restartedAt(primaryNode.name)!);
    }
    for (const node of dataNodes()) {
      expect({ node: node.name, handedOver: watcher.handedOverBeforeStop(node.name) }).toEqual({ node: node.name, handedOver: true });
    }
    // Every write a replica acknowledged is on every data node.
    expect(writer.acknowledged.length).toBeGreaterThan(50);
    const last = writer.acknowledged[writer.acknowledged.length - 1];
    for (const node of dataNodes()) {
      await waitFor(`${node.name} to have ${last}`, async () => Number(await command(node.address, 6379, app, 'EXISTS', last)) === 1, { timeoutMs: 30_000, intervalMs: 250 });
      const missing: string[] = [];
      for (let i = 0; i < writer.acknowledged.length; i += 500) {
        const batch = writer.acknowledged.slice(i, i + 500);
        const present = await command(node.address, 6379, app, 'MGET', ...batch) as Array<string | null>;
        batch.forEach((key, j) => { if (present[j] === null) missing.push(key); });
      }
      expect({ node: node.name, missing }).toEqual({ node: node.name, missing: [] });
    }
    const restarts = nodes().map((node) => watcher.restartedAt(node.name)!);
    console.log(`docker rolling restart: ${nodes().length} nodes restarted one at a time within ${((Math.max(...restarts) - Math.min(...restarts)) / 1000).toFixed(1)} s ` +
      `(first to last back), at most ${watcher.mostDownAtOnce()} down at once; ${writer.acknowledged.length} writes acknowledged during it, none lost`);
  });

  test('a lower replica count removes a replica: the sentinels forget it; a higher one brings it back on its volume', async () => {
    // 2 -> 1: node-2's container goes (a primary hands over first), its volume stays (retained).
    const writer = new Writer(fleet, 'scale-in');
    let replaced: string[];
    try {
      replaced = await fleet.apply(fewer, inputs);
      await allHealthy(fleet);
      // Every sentinel counts one replica again: none keeps listing the removed one as down.
      await sentinelsSettled(fleet, 'orders', TOKEN, 1);
    } finally {
      await writer.stop();
    }
    expect(replaced).toEqual(['orders-bundle']);
    expect(dataNodes().map((node) => node.name)).toEqual(['orders-node-0', 'orders-node-1']);
    expect(fs.readdirSync(fleet.volume('orders-node-2'))).not.toEqual([]);
    const primary = await primaryBySentinels(fleet, 'orders', TOKEN);
    const last = writer.acknowledged[writer.acknowledged.length - 1];
    expect(writer.acknowledged.length).toBeGreaterThan(10);
    for (const node of dataNodes()) {
      await waitFor(`${node.name} to have ${last}`, async () => Number(await command(node.address, 6379, app, 'EXISTS', last)) === 1, { timeoutMs: 30_000, intervalMs: 250 });
      expect(Number(await command(node.address, 6379, app, 'EXISTS', ...writer.acknowledged))).toBe(writer.acknowledged.length);
    }

    // 1 -> 2: node-2 comes back on its address and its volume, as a replica of the current primary.
    expect((await fleet.apply(restart, inputs)).sort()).toEqual(['orders-bundle', 'orders-node-2']);
    await allHealthy(fleet);
    await sentinelsSettled(fleet, 'orders', TOKEN, 2);
    const back = fleet.container('orders-node-2');
    const info = infoFields(String(await command(back.address, 6379, app, 'INFO', 'replication')));
    expect({ role: info.role, primary: info.master_host }).toEqual({ role: 'slave', primary });
    await waitFor('node-2 to hold every acknowledged write', async () =>
      Number(await command(back.address, 6379, app, 'EXISTS', ...writer.acknowledged)) === writer.acknowledged.length, { timeoutMs: 30_000, intervalMs: 250 });
    expect(await primaryBySentinels(fleet, 'orders', TOKEN)).toBe(primary);
  });
});
