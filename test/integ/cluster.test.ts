import * as fs from 'fs';
import * as path from 'path';
import Redis, { Cluster } from 'ioredis';
import { describeInteg, needsBinaries } from './support/binaries';
import { cli, command, connect, Credentials } from './support/clients';
import { clusterInfo, clusterNodes, clusterPlan, enginePid, shardAddresses, topology } from './support/cluster-fleet';
import { Fleet } from './support/fleet';
import { REDIS_7_0, standalonePlan, VALKEY_8_0 } from './support/plans';
import { sleep, waitFor } from './support/processes';

/**
 * A cluster-mode group of 3 shards × (1 primary + 1 replica), planned and rendered by core and run
 * by the node agent, for Redis 7.0 and Valkey 8.0 (one body, run for each): the agent forms the
 * cluster as planned, clients read and write across the slots through the ACL, a re-run of the
 * formation changes nothing, a shard primary whose engine is killed under writes hands its shard to
 * its replica without losing a WAIT-acknowledged write and rejoins as a replica, a node whose state
 * is lost rejoins its shard and the old id is forgotten everywhere, a full restart keeps the
 * topology and the data, a shard master's pre-stop hands the shard to its replica first, and a
 * data directory of the other mode is refused.
 *
 * The tests of one engine build on each other, in order (one fleet per engine).
 * Addresses: Redis 127.0.2.10-39, Valkey 127.0.2.110-139 (the group from .10 / .110 by host number,
 * the standalone node of the mode guard on .39 / .139).
 */
describeInteg.each([
  { family: REDIS_7_0, first: 10 },
  { family: VALKEY_8_0, first: 110 },
])('$family.title cluster mode: 3 shards x (1 primary + 1 replica)', ({ family, first }) => {
  const plan = clusterPlan(`cl-${family.engine.engineType}`, family.engine, first);
  const port = plan.port;
  const shards = plan.cluster!.shards;
  const addresses = plan.slots.map((slot) => slot.address);
  const former = plan.cluster!.former;
  const formerAddress = plan.slots.find((slot) => slot.name === former)!.address;

  let fleet: Fleet;
  let admin: Credentials;
  let app: Credentials;

  needsBinaries([family.server, family.cli, 'timeout']);

  beforeAll(async () => {
    fleet = Fleet.create({ plan, label: `cl-${family.engine.engineType}` });
    admin = { username: plan.users.admin, password: fleet.adminPassword };
    app = { username: plan.users.application, password: fleet.appPassword };
    fleet.startAll();
    await withLogs(() => fleet.waitAllReady(90));
  }, 120_000);

  afterAll(async () => {
    await fleet?.dispose();
  }, 60_000);

  /** Adds the fleet's logs to a failure. */
  const withLogs = <T>(fn: () => Promise<T>): Promise<T> => fleet.withLogs(fn);

  /** Every node's cluster_state is ok and it knows the 6 nodes. */
  async function clusterOkEverywhere(): Promise<boolean> {
    for (const address of addresses) {
      const info = await clusterInfo(address, port, admin);
      if (info.cluster_state !== 'ok' || info.cluster_known_nodes !== String(addresses.length) || info.cluster_slots_assigned !== '16384') return false;
    }
    return true;
  }

  /** The address of the master that serves `shard`, in `from`'s view. */
  async function masterOf(shard: number, from = formerAddress): Promise<string> {
    const planned = shardAddresses(plan, shard);
    const nodes = await clusterNodes(from, port, admin);
    const master = nodes.find((node) => node.flags.includes('master') && !node.flags.some((f) => f.startsWith('fail')) &&
      node.slots.length > 0 && planned.includes(node.address.split(':')[0]));
    if (!master) throw new Error(`no master serves shard ${shard} in ${from}'s view`);
    return master.address.split(':')[0];
  }

  /** A hash tag whose keys fall in `shard`'s planned range. */
  async function tagIn(shard: number): Promise<string> {
    const [low, high] = shards[shard].slotRange;
    for (let i = 0; ; i++) {
      const slot = Number(await command(formerAddress, port, app, 'CLUSTER', 'KEYSLOT', `{t${i}}`));
      if (slot >= low && slot <= high) return `{t${i}}`;
    }
  }

  /** Waits until `address` is a replica of `master` with its link up. */
  function replicaOf(address: string, master: string, timeoutMs = 60_000): Promise<unknown> {
    return waitFor(`${address} to be a replica of ${master}, link up`, async () => {
      const role = (await command(address, port, admin, 'ROLE')) as unknown[];
      return role[0] === 'slave' && role[1] === master && role[3] === 'connected' ? role : undefined;
    }, { timeoutMs, intervalMs: 200 });
  }

  test('forms as planned: cluster_state:ok, 16,384 slots, each shard 1 primary + 1 replica on its addresses with its balanced range', async () => {
    await withLogs(async () => {
      await waitFor('cluster_state:ok on every node', clusterOkEverywhere, { timeoutMs: 60_000, intervalMs: 250 });
      for (const viewer of addresses) {
        const nodes = await clusterNodes(viewer, port, admin);
        // Every node announces its fixed address, as every other node sees it.
        expect(nodes.map((node) => node.address).sort()).toEqual(addresses.map((a) => `${a}:${port}`).sort());
        for (const shard of shards) {
          const [primary, ...replicas] = shardAddresses(plan, shard.index);
          const master = nodes.find((node) => node.address === `${primary}:${port}`)!;
          expect(master.flags).toContain('master');
          expect(master.slots).toEqual([shard.slotRange]);
          for (const replica of replicas) {
            const node = nodes.find((n) => n.address === `${replica}:${port}`)!;
            expect(node.flags).toContain('slave');
            expect(node.master).toBe(master.id);
          }
        }
      }
      // CLUSTER SHARDS (Redis 7.0, Valkey): each shard's range and nodes, by their announced address.
      const reply = (await command(formerAddress, port, app, 'CLUSTER', 'SHARDS')) as unknown[][];
      const listed = reply.map((entry) => {
        const fields = pairsOf(entry);
        const nodes = (fields.nodes as unknown[][]).map((n) => pairsOf(n));
        return {
          slots: (fields.slots as number[]).map(Number),
          primary: nodes.filter((n) => n.role === 'master').map((n) => `${n.ip}:${n.port}`),
          replicas: nodes.filter((n) => n.role === 'replica').map((n) => `${n.ip}:${n.port}`).sort(),
          endpoints: nodes.map((n) => n.endpoint).sort(),
        };
      }).sort((a, b) => a.slots[0] - b.slots[0]);
      expect(listed).toEqual(shards.map((shard) => {
        const [primary, ...replicas] = shardAddresses(plan, shard.index);
        return {
          slots: [...shard.slotRange],
          primary: [`${primary}:${port}`],
          replicas: replicas.map((r) => `${r}:${port}`).sort(),
          endpoints: [primary, ...replicas].sort(),
        };
      }));
    });
  }, 90_000);

  test('clients: ioredis Cluster and the CLI in cluster mode read and write across every shard as the application user; it may not change the cluster', async () => {
    const cluster = new Cluster([{ host: formerAddress, port }], {
      redisOptions: { username: app.username, password: app.password },
      enableOfflineQueue: true,
    });
    try {
      const keys = Array.from({ length: 300 }, (_, i) => `client:${i}`);
      for (const key of keys) await cluster.set(key, `value-${key}`);
      for (const key of keys) expect(await cluster.get(key)).toBe(`value-${key}`);
      // The keys spread over every shard: each master holds some.
      for (const shard of shards) {
        const size = Number(await command(await masterOf(shard.index), port, app, 'DBSIZE'));
        expect(size).toBeGreaterThan(0);
      }
    } finally {
      cluster.disconnect();
    }
    // The CLI follows MOVED (-c) from a node that does not serve the key's slot.
    for (const shard of shards) {
      const key = `${await tagIn(shard.index)}:cli`;
      const elsewhere = await masterOf((shard.index + 1) % shards.length);
      const set = await cli(family.cli, elsewhere, port, ['-c', 'SET', key, `by-${family.cli}`], app);
      expect(set.stdout.trim()).toBe('OK');
      const get = await cli(family.cli, elsewhere, port, ['-c', 'GET', key], app);
      expect(get.stdout.trim()).toBe(`by-${family.cli}`);
    }
    // The cluster's changes stay the admin user's.
    for (const args of [['MEET', '127.0.2.1', '6379'], ['FORGET', 'a'.repeat(40)], ['ADDSLOTS', '1'], ['FAILOVER']]) {
      await expect(command(formerAddress, port, app, 'CLUSTER', ...args)).rejects.toThrow(/NOPERM/);
    }
  }, 90_000);

  test('a re-run of the formation, on every node, changes nothing: same ids, slot map and epochs', async () => {
    await withLogs(async () => {
      const before = topology(await clusterNodes(formerAddress, port, admin));
      for (const slot of plan.slots) {
        const result = await fleet.agent(slot, ['form-cluster'], { CACHEFLEET_READY_TIMEOUT: '60' }, 90_000);
        expect({ slot: slot.name, code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ slot: slot.name, code: 0, stderr: '' });
      }
      for (const address of addresses) {
        expect(topology(await clusterNodes(address, port, admin))).toEqual(before);
      }
    });
  }, 180_000);

  test('kill -9 of a shard primary\'s engine under writes: the shard takes writes again, no WAIT-acknowledged write is lost, the old primary rejoins as a replica', async () => {
    await withLogs(async () => {
      const shard = 1;
      const victim = await masterOf(shard);
      const victimSlot = fleet.slotAt(victim).name;
      const tag = await tagIn(shard);
      const acknowledged = new Map<string, string>();
      let accepted = 0;
      let stop = false;
      let client: Redis | undefined;
      // One writer on the shard's master, whoever it is: WAIT 1 acknowledges a write once a replica has it.
      const writer = (async () => {
        for (let i = 0; !stop; i++) {
          try {
            if (!client) client = await connect(await masterOf(shard), port, app);
            const key = `${tag}:w${i}`;
            await client.set(key, `v${i}`);
            accepted += 1;
            if (Number(await client.call('WAIT', 1, 200)) >= 1) acknowledged.set(key, `v${i}`);
          } catch {
            client?.disconnect();
            client = undefined;
            await sleep(50);
          }
        }
      })();
      try {
        await waitFor('200 acknowledged writes', () => acknowledged.size >= 200, { timeoutMs: 60_000 });
        const agent = fleet.process(victimSlot, 'redis');
        process.kill(enginePid(fleet, victimSlot, family), 'SIGKILL');
        const killedAt = Date.now();
        const acceptedAtKill = accepted;
        // The agent hands the shard over, then ends with its engine (a supervisor restarts it).
        await agent.exited;
        const promoted = await waitFor(`a new master of shard ${shard}`, async () => {
          const master = await masterOf(shard, formerAddress);
          return master !== victim ? master : undefined;
        }, { timeoutMs: 30_000, intervalMs: 100 });
        await waitFor('writes accepted by the new master', () => accepted >= acceptedAtKill + 10, { timeoutMs: 30_000 });
        console.log(`${family.title}: kill -9 of ${victim} -> shard ${shard} served by ${promoted} and taking writes after ${Date.now() - killedAt} ms`);
        fleet.start(victimSlot, 'redis');
        await replicaOf(victim, promoted);
        const acknowledgedBefore = acknowledged.size;
        await waitFor('acknowledged writes after the old primary rejoined', () => acknowledged.size >= acknowledgedBefore + 50, { timeoutMs: 30_000 });
      } finally {
        stop = true;
        await writer;
        client?.disconnect();
      }
      const master = await masterOf(shard);
      const keys = [...acknowledged.keys()];
      const values = (await command(master, port, app, 'MGET', ...keys)) as Array<string | null>;
      const lost = keys.filter((key, i) => values[i] !== acknowledged.get(key));
      console.log(`${family.title}: ${acknowledged.size} WAIT-acknowledged writes, ${lost.length} lost`);
      expect(lost).toEqual([]);
      const victimNode = (await clusterNodes(formerAddress, port, admin)).find((node) => node.address === `${victim}:${port}`)!;
      expect(victimNode.flags).toContain('slave');
      await waitFor('cluster_state:ok on every node', clusterOkEverywhere, { timeoutMs: 60_000, intervalMs: 250 });
    });
  }, 240_000);

  test('a replaced node (its data directory and nodes.conf lost) rejoins its shard as a replica; no node lists its old id', async () => {
    await withLogs(async () => {
      // A replica: the shard keeps serving while its node is replaced.
      const shard = 1;
      const master = await masterOf(shard);
      const replaced = shardAddresses(plan, shard).find((address) => address !== master)!;
      const replacedSlot = fleet.slotAt(replaced).name;
      const oldId = String(await command(replaced, port, admin, 'CLUSTER', 'MYID'));
      await fleet.process(replacedSlot, 'redis').stop('SIGTERM', 20_000);
      fs.rmSync(fleet.dirs(replacedSlot).state, { recursive: true, force: true });
      expect(fs.existsSync(path.join(fleet.dirs(replacedSlot).state, 'redis', 'data', 'nodes.conf'))).toBe(false);
      fleet.start(replacedSlot, 'redis');
      await fleet.waitReady(replacedSlot, 'redis', 90);
      await replicaOf(replaced, master);
      const newId = String(await command(replaced, port, admin, 'CLUSTER', 'MYID'));
      expect(newId).not.toBe(oldId);
      await waitFor('no node listing the old id', async () => {
        for (const address of addresses) {
          if ((await clusterNodes(address, port, admin)).some((node) => node.id === oldId)) return false;
        }
        return true;
      }, { timeoutMs: 30_000, intervalMs: 250 });
      await waitFor('cluster_state:ok on every node', clusterOkEverywhere, { timeoutMs: 60_000, intervalMs: 250 });
      // Every node sees the new id at the slot's address, replicating the shard's master.
      for (const address of addresses) {
        const nodes = await clusterNodes(address, port, admin);
        expect(nodes.find((node) => node.address === `${replaced}:${port}`)).toMatchObject({ id: newId, master: nodes.find((n) => n.address === `${master}:${port}`)!.id });
      }
    });
  }, 240_000);

  test('a full restart of every node: same node ids, same topology, the data intact', async () => {
    await withLogs(async () => {
      const cluster = new Cluster([{ host: formerAddress, port }], { redisOptions: { username: app.username, password: app.password } });
      const keys = Array.from({ length: 200 }, (_, i) => `restart:${i}`);
      try {
        for (const key of keys) await cluster.set(key, `kept-${key}`);
      } finally {
        cluster.disconnect();
      }
      const before = topology(await clusterNodes(formerAddress, port, admin));
      await fleet.stopAll(20_000);
      fleet.startAll();
      await fleet.waitAllReady(90);
      await waitFor('cluster_state:ok on every node', clusterOkEverywhere, { timeoutMs: 60_000, intervalMs: 250 });
      for (const address of addresses) {
        expect(topology(await clusterNodes(address, port, admin))).toEqual(before);
      }
      const again = new Cluster([{ host: formerAddress, port }], { redisOptions: { username: app.username, password: app.password } });
      try {
        for (const key of keys) expect(await again.get(key)).toBe(`kept-${key}`);
      } finally {
        again.disconnect();
      }
    });
  }, 240_000);

  test('pre-stop on a shard master: its replica takes the shard over (CLUSTER FAILOVER) before the stop, no acknowledged write lost', async () => {
    await withLogs(async () => {
      const shard = 2;
      const master = await masterOf(shard);
      const replica = shardAddresses(plan, shard).find((address) => address !== master)!;
      const tag = await tagIn(shard);
      const client = await connect(master, port, app);
      const keys = Array.from({ length: 100 }, (_, i) => `${tag}:planned:${i}`);
      try {
        for (const key of keys) {
          await client.set(key, `kept-${key}`);
          expect(Number(await client.call('WAIT', 1, 2_000))).toBe(1);
        }
      } finally {
        client.disconnect();
      }
      const result = await fleet.agent(fleet.slotAt(master).name, ['pre-stop'], {}, 90_000);
      expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
      // The handover is done when pre-stop returns: the replica is the master, the old master its replica.
      expect(((await command(replica, port, admin, 'ROLE')) as unknown[])[0]).toBe('master');
      expect(((await command(master, port, admin, 'ROLE')) as unknown[])[0]).toBe('slave');
      const values = (await command(replica, port, app, 'MGET', ...keys)) as Array<string | null>;
      expect(keys.filter((key, i) => values[i] !== `kept-${key}`)).toEqual([]);
      await replicaOf(master, replica);
      await waitFor('cluster_state:ok on every node', clusterOkEverywhere, { timeoutMs: 60_000, intervalMs: 250 });
    });
  }, 120_000);

  test('reshard through the agent: drain moves a master\'s slots to the other shards, rebalance brings its share back, no key lost; a re-run moves nothing', async () => {
    await withLogs(async () => {
      const shard = 1;
      const tags = await Promise.all(shards.map((s) => tagIn(s.index)));
      const keys = tags.flatMap((tag) => Array.from({ length: 200 }, (_, i) => `${tag}:reshard:${i}`));
      const owners = async () => Promise.all(shards.map(async (s) => {
        const nodes = await clusterNodes(formerAddress, port, admin);
        const master = nodes.find((node) => node.flags.includes('master') && planned(s.index).includes(node.address.split(':')[0]) && !node.flags.some((f) => f.startsWith('fail')));
        return master ? master.slots.reduce((sum, range) => sum + range[1] - range[0] + 1, 0) : 0;
      }));
      const planned = (index: number) => shardAddresses(plan, index);
      const cluster = new Cluster([{ host: formerAddress, port }], { redisOptions: { username: app.username, password: app.password } });
      try {
        for (const key of keys) await cluster.set(key, `v-${key}`);
        const master = await masterOf(shard);
        const drained = await fleet.agent(fleet.slotAt(master).name, ['reshard', 'drain'], {}, 240_000);
        expect({ code: drained.code, out: drained.stdout.trim(), stderr: drained.code === 0 ? '' : drained.stderr }).toEqual({ code: 0, out: expect.stringMatching(/^moved [1-9]\d*$/), stderr: '' });
        expect((await owners())[shard]).toBe(0);
        const rebalanced = await fleet.agent(former, ['reshard', 'rebalance'], {}, 240_000);
        expect({ code: rebalanced.code, out: rebalanced.stdout.trim() }).toEqual({ code: 0, out: expect.stringMatching(/^moved [1-9]\d*$/) });
        const counts = await owners();
        // Balanced: 16,384 / 3 slots each, within one.
        expect(counts.reduce((a, b) => a + b, 0)).toBe(16384);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        const again = await fleet.agent(former, ['reshard', 'rebalance'], {}, 120_000);
        expect({ code: again.code, out: again.stdout.trim() }).toEqual({ code: 0, out: 'moved 0' });
        const values = await Promise.all(keys.map((key) => cluster.get(key)));
        expect(keys.filter((key, i) => values[i] !== `v-${key}`)).toEqual([]);
      } finally {
        cluster.disconnect();
      }
      await waitFor('cluster_state:ok on every node', clusterOkEverywhere, { timeoutMs: 60_000, intervalMs: 250 });
    });
  }, 600_000);

  test('the mode guard: configure refuses a data directory written without cluster mode, and the reverse', async () => {
    const standaloneAddress = `127.0.2.${first + 29}`;
    const standalone = Fleet.create({ plan: standalonePlan(`cl-guard-${family.engine.engineType}`, family.engine, standaloneAddress), label: `cl-guard-${family.engine.engineType}` });
    try {
      standalone.start(standalone.plan.slots[0], 'redis');
      await standalone.waitReady(standalone.plan.slots[0], 'redis', 30);
      const standaloneApp = { username: standalone.plan.users.application, password: standalone.appPassword };
      expect(await command(standaloneAddress, port, standaloneApp, 'SET', 'written', 'without cluster mode')).toBe('OK');
      await standalone.stopAll(20_000);

      // Cluster mode on a data directory written without it.
      const clusterSlot = plan.slots[0].name;
      const foreign = path.join(fleet.root, 'guard-standalone-state');
      fs.cpSync(standalone.dirs(standalone.plan.slots[0]).state, foreign, { recursive: true });
      const refused = await fleet.agent(clusterSlot, ['configure', 'redis'], { CACHEFLEET_STATE_DIR: foreign, CACHEFLEET_RUN_DIR: path.join(foreign, 'run') });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('written without cluster mode');
      expect(refused.stderr).toContain(path.join(foreign, 'redis', 'data'));

      // A fleet without cluster mode on a cluster node's data directory.
      const clusterState = path.join(fleet.root, 'guard-cluster-state');
      fs.cpSync(fleet.dirs(clusterSlot).state, clusterState, { recursive: true });
      expect(fs.existsSync(path.join(clusterState, 'redis', 'data', 'nodes.conf'))).toBe(true);
      const reverse = await standalone.agent(standalone.plan.slots[0], ['configure', 'redis'], { CACHEFLEET_STATE_DIR: clusterState });
      expect(reverse.code).toBe(1);
      expect(reverse.stderr).toContain('nodes.conf');

      // Each mode on its own data: configured.
      expect((await standalone.agent(standalone.plan.slots[0], ['configure', 'redis'])).code).toBe(0);
    } finally {
      await standalone.dispose();
    }
  }, 120_000);
});

/** A RESP3-less map reply (`[key, value, key, value, …]`) as an object. */
function pairsOf(list: unknown[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (let i = 0; i + 1 < list.length; i += 2) result[String(list[i])] = list[i + 1];
  return result;
}
