import { describeInteg, needsBinaries } from './support/binaries';
import { REDIS_7_0, RedisFamilyEngine, VALKEY_8_0 } from './support/plans';
import { sleep } from './support/processes';
import { APP, CLUSTER_SLOTS, clusterPlan, DriverRun, movesSlots, ReshardCluster } from './support/reshard-cluster';
import { ClusterWriter } from './support/reshard-writer';
import { FleetPlan } from '../../src/core/topology';

/**
 * Online resharding of a cluster-mode group on real servers (the node agent's library,
 * src/agent/lib/cluster-slots.sh, run as the agent runs it through support/reshard-driver.sh):
 * 3 → 4 → 3 shards of 1 primary + 1 replica under a cluster-aware writer, with drivers killed
 * between two commands and run again, two drivers started at once, a drain before the shard's
 * servers stop, the removed nodes forgotten, and a re-run on a balanced cluster. Outcomes: every
 * acknowledged key readable with its value and held by exactly one primary, the slots balanced
 * within ±2 %, the drained shard empty. The writer's redirections are printed as figures.
 *
 * The tests of one engine build on each other, in order. Addresses: Redis 127.0.5.10-33,
 * Valkey 127.0.5.110-133 (slot host number n at base + n).
 */

/**
 * The lease: short enough for the dead-driver check to wait it out, long enough that a step between
 * two renewals (128 slots' keys on two busy cores) stays within it.
 */
const LEASE = { CACHEFLEET_RESHARD_LEASE_MS: '15000', CACHEFLEET_RESHARD_LEASE_WAIT: '60' };
/** Exit status of a driver that found the lease taken (CLUSTER_BUSY). */
const BUSY = 75;
/** Keys per slot in the big slots: more than one MIGRATE batch (100 keys) each. */
const BIG_SLOT_KEYS = 250;

describeInteg.each([
  { family: REDIS_7_0, base: 10 },
  { family: VALKEY_8_0, base: 110 },
])('$family.title: online resharding', ({ family, base }: { family: RedisFamilyEngine; base: number }) => {
  needsBinaries([family.server, family.cli, 'timeout']);
  const plan3 = clusterPlan(family, 3, base);
  const plan4 = clusterPlan(family, 4, base);
  const figures: Record<string, unknown> = { engine: family.title };
  let cluster: ReshardCluster;
  let writer: ClusterWriter;
  let env3: string;
  let env4: string;

  beforeAll(async () => {
    cluster = new ReshardCluster(family, plan4);
    for (const slot of plan4.slots) await cluster.start(slot.name);
    await cluster.form(plan3, [3]);
    env3 = cluster.fleetEnv(plan3);
    env4 = cluster.fleetEnv(plan4);
    writer = new ClusterWriter([cluster.addressOf(cluster.node(0, 0))], APP, `w-${family.engine.engineType}`);
    // Slots with more keys than one MIGRATE carries, one in every 1,024 slots, so that some slot
    // of every move holds several batches.
    const tags = new Map<number, string>();
    for (let i = 0; tags.size < 16; i++) {
      const tag = `{rb${i}}`;
      const window = Math.floor(Number(await cluster.call(cluster.node(0, 0), 'CLUSTER', 'KEYSLOT', tag)) / 1024);
      if (!tags.has(window)) tags.set(window, tag);
    }
    await writer.write([...tags.values()].flatMap((tag) => Array.from({ length: BIG_SLOT_KEYS }, (_, k) => `${tag}:${k}`)));
  }, 300_000);

  afterAll(async () => {
    console.log(`resharding figures: ${JSON.stringify(figures)}`);
    await writer?.dispose();
    await cluster?.dispose();
  }, 60_000);

  /** Every master's slot count, by address, as the node at `from` sees the cluster. */
  async function slotCounts(from: string): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const node of await cluster.nodes(from)) if (node.flags.includes('master')) counts.set(node.address, node.slots);
    return counts;
  }

  /** The keys each live master holds (SCAN), to find a key held twice. */
  async function keysHeldTwice(masters: string[]): Promise<string[]> {
    const holders = new Map<string, number>();
    for (const address of masters) {
      await cluster.withNode(address, async (client) => {
        let cursor = '0';
        do {
          const [next, keys] = (await client.call('SCAN', cursor, 'COUNT', 1000)) as [string, string[]];
          for (const key of keys) holders.set(key, (holders.get(key) ?? 0) + 1);
          cursor = next;
        } while (cursor !== '0');
      });
    }
    return [...holders].filter(([, count]) => count > 1).map(([key]) => key);
  }

  /** The slots of every planned shard's master within ±2 % of an even share; every other master none. */
  async function expectBalanced(plan: FleetPlan): Promise<string[]> {
    const planned = new Set(plan.slots.map((slot) => `${slot.address}:${plan.port}`));
    const counts = await slotCounts(cluster.node(0, 0));
    const share = CLUSTER_SLOTS / plan.cluster!.shards.length;
    const owners = [...counts].filter(([, slots]) => slots > 0);
    expect(owners.every(([address]) => planned.has(address))).toBe(true);
    expect(owners).toHaveLength(plan.cluster!.shards.length);
    for (const [, slots] of owners) expect(Math.abs(slots - share)).toBeLessThanOrEqual(share * 0.02);
    expect(owners.reduce((sum, [, slots]) => sum + slots, 0)).toBe(CLUSTER_SLOTS);
    return owners.map(([address]) => address);
  }

  /** A driver run that must have been killed at its kill point (not have ended on its own). */
  async function killedRun(args: string[], after: string, count: number, fleetEnv: string): Promise<DriverRun> {
    const run = await cluster.driver(fleetEnv, args, { ...LEASE, RESHARD_KILL_AFTER: after, RESHARD_KILL_COUNT: String(count) });
    expect({ signal: run.signal, stderr: run.signal ? '' : run.stderr }).toEqual({ signal: 'SIGKILL', stderr: '' });
    return run;
  }

  /**
   * A key on both sides of a half-moved slot, as a MIGRATE whose answer was lost leaves it: the
   * source's copy restored on the target too. Returns the key.
   */
  async function copyOneKeyToTarget(): Promise<string | undefined> {
    for (const master of (await cluster.nodes(cluster.node(0, 0))).filter((node) => node.flags.includes('master'))) {
      const own = (await cluster.withNode(master.address, (client) => client.call('CLUSTER', 'NODES'))) as string;
      const self = own.split('\n').find((line) => line.includes('myself'))!;
      for (const entry of self.match(/\[\d+->-[0-9a-f]+\]/g) ?? []) {
        const [, slot, targetId] = /\[(\d+)->-([0-9a-f]+)\]/.exec(entry)!;
        const [key] = (await cluster.withNode(master.address, (client) => client.call('CLUSTER', 'GETKEYSINSLOT', slot, 1))) as string[];
        if (key === undefined || !key.startsWith('{rb')) continue;
        const target = (await cluster.nodes(cluster.node(0, 0))).find((node) => node.id === targetId)!;
        const dump = await cluster.withNode(master.address, (client) => client.callBuffer('DUMP', key));
        await cluster.withNode(target.address, async (client) => {
          await client.call('ASKING');
          await client.call('RESTORE', key, 0, dump as Buffer);
          await client.call('ASKING');
          expect(await client.call('EXISTS', key)).toBe(1);
        });
        return key;
      }
    }
    return undefined;
  }

  test('3 → 4 shards under a writer: drivers killed between any two steps resume, one of two drivers moves, no key lost or held twice, balanced', async () => {
    const started = Date.now();
    writer.start();
    await sleep(1_000);
    const rebalance = ['cluster_rebalance'];
    // Each kill point in turn; each run picks up where the killed one stopped.
    await killedRun(rebalance, 'CLUSTER SETSLOT [0-9]+ IMPORTING', 1, env4);
    await killedRun(rebalance, 'CLUSTER SETSLOT [0-9]+ MIGRATING', 1, env4);
    await killedRun(rebalance, 'MIGRATE .*KEYS "\\{rb', 1, env4);
    const doubled = await copyOneKeyToTarget();
    expect(doubled).toBeDefined();
    await killedRun(rebalance, 'CLUSTER SETSLOT [0-9]+ NODE', 1, env4);
    await killedRun(rebalance, 'CLUSTER SETSLOT [0-9]+ NODE', 2, env4);
    // After three whole batches: the target, the source and both other masters took the owners.
    await killedRun(rebalance, 'CLUSTER SETSLOT [0-9]+ NODE', 12, env4);

    // The last killed driver's lease expires; then two drivers start at once.
    await sleep(Number(LEASE.CACHEFLEET_RESHARD_LEASE_MS) + 1_000);
    const pair = await Promise.all([0, 1].map(() => cluster.driver(env4, rebalance, { ...LEASE, CACHEFLEET_RESHARD_LEASE_WAIT: '0' })));
    const winner = pair.find((run) => run.code === 0);
    const loser = pair.find((run) => run.code === BUSY);
    expect(pair.map((run) => run.code).sort()).toEqual([0, BUSY]);
    expect(winner!.stdout).toMatch(/^moved [1-9][0-9]*\n$/);
    expect(loser!.stdout).toBe('moved 0\n');
    expect(loser!.calls.filter(movesSlots)).toEqual([]);

    await writer.stop();
    const masters = await expectBalanced(plan4);
    expect(masters).toContain(cluster.addressOf(cluster.node(3, 0)));
    expect(await writer.lost()).toEqual([]);
    expect(await keysHeldTwice(masters)).toEqual([]);
    figures.scaleOut = {
      seconds: Math.round((Date.now() - started) / 1000),
      acknowledged: writer.acknowledged.size,
      failedWrites: writer.failed,
      seen: writer.seen,
    };
  }, 900_000);

  test('4 → 3 shards: the drained shard gives every slot and key away before its servers stop (a killed drain resumes), then no node lists it', async () => {
    const started = Date.now();
    const before = writer.seen;
    writer.start();
    await sleep(1_000);
    const shard3 = [cluster.node(3, 0), cluster.node(3, 1)].map((name) => cluster.addressOf(name));
    const counts = await slotCounts(cluster.node(0, 0));
    const drained = shard3.find((address) => (counts.get(address) ?? 0) > 0)!;
    expect(drained).toBeDefined();
    const drain = ['cluster_drain', ...drained.split(':')];
    await killedRun(drain, 'MIGRATE ', 3, env4);
    const done = await cluster.driver(env4, drain, LEASE);
    expect({ code: done.code, stderr: done.code === 0 ? '' : done.stderr }).toEqual({ code: 0, stderr: '' });

    await writer.stop();
    expect((await slotCounts(cluster.node(0, 0))).get(drained)).toBe(0);
    for (const name of [cluster.node(3, 0), cluster.node(3, 1)]) expect(await cluster.call(name, 'DBSIZE')).toBe(0);
    const masters = await expectBalanced(plan3);
    expect(await writer.lost()).toEqual([]);
    expect(await keysHeldTwice(masters)).toEqual([]);

    const removed = [cluster.node(3, 0), cluster.node(3, 1)];
    const removedIds = await Promise.all(removed.map(async (name) => String(await cluster.call(name, 'CLUSTER', 'MYID'))));
    await cluster.stop(cluster.node(3, 0));
    await cluster.stop(cluster.node(3, 1));
    const forget = await cluster.driver(env3, ['cluster_forget_absent'], LEASE);
    // How many FORGETs it took varies: Valkey spreads a forget through gossip, so a node may have
    // dropped a removed node before its own FORGET arrives. The outcome is that none lists them.
    expect({ code: forget.code, stderr: forget.code === 0 ? '' : forget.stderr }).toEqual({ code: 0, stderr: '' });
    expect(forget.stdout).toMatch(/^forgot \d+\n$/);
    for (const slot of plan3.slots) {
      const listed = (await cluster.nodes(slot.name)).filter((node) => removedIds.includes(node.id) || shard3.includes(node.address));
      expect(listed).toEqual([]);
    }
    const after = writer.seen;
    figures.scaleIn = {
      seconds: Math.round((Date.now() - started) / 1000),
      acknowledged: writer.acknowledged.size,
      failedWrites: writer.failed,
      seen: Object.fromEntries(Object.entries(after).map(([word, count]) => [word, count - before[word as keyof typeof before]])),
    };
  }, 900_000);

  test('a re-run on a balanced cluster moves nothing, and a second forget forgets nothing', async () => {
    const rerun = await cluster.driver(env3, ['cluster_rebalance'], LEASE);
    expect({ code: rerun.code, stdout: rerun.stdout }).toEqual({ code: 0, stdout: 'moved 0\n' });
    expect(rerun.calls.filter(movesSlots)).toEqual([]);
    const forget = await cluster.driver(env3, ['cluster_forget_absent'], LEASE);
    expect({ code: forget.code, stdout: forget.stdout }).toEqual({ code: 0, stdout: 'forgot 0\n' });
    await expectBalanced(plan3);
    expect(await writer.lost()).toEqual([]);
  }, 300_000);
});
