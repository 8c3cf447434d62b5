import * as fs from 'fs';
import * as path from 'path';
import Redis from 'ioredis';
import { describeInteg, needsBinaries } from './support/binaries';
import { auth, cli, command, connect, Credentials, pairs } from './support/clients';
import { Fleet } from './support/fleet';
import { loopbackAddresses, REDIS_FAMILY, replicationGroupPlan } from './support/plans';
import { sleep, waitFor } from './support/processes';

/**
 * A replication group of 1 primary + 2 replicas + 3 sentinels, planned and rendered by core and run
 * by the node agent, for Redis 7.0 and Valkey 8.0 (one body, run for each): it forms, enforces AUTH,
 * fails over when the primary is killed without losing WAIT-1-acknowledged writes, takes the old
 * primary back as a replica, comes back with one primary after every node restarts, takes a
 * replaced node (state lost) back, and hands the primary over on pre-stop without losing a write.
 *
 * The tests of one engine build on each other, in order (one fleet per engine).
 * Addresses: Redis 127.0.0.11-13, Valkey 127.0.0.21-23.
 */
describeInteg.each(REDIS_FAMILY)('$title replication group: 1 primary + 2 replicas + 3 sentinels', (family) => {
  const addresses = loopbackAddresses(family.addressBase + 1, 3);
  const plan = replicationGroupPlan(`rg-${family.engine.engineType}`, family.engine, addresses);
  const masterName = plan.sentinel!.masterName;
  const port = plan.port;
  const sentinelPort = plan.slots[0].sentinelPort!;
  const sentinelAddresses = plan.sentinel!.endpoints.map((endpoint) => endpoint.split(':')[0]);

  let fleet: Fleet;
  let app: Credentials;
  let sentinelAuth: Credentials;
  /** Every write acknowledged by WAIT 1 (at least one replica), key -> value. */
  const acknowledged = new Map<string, string>();
  let primaryAfterFailover = '';

  needsBinaries([family.server, family.cli, 'timeout']);

  beforeAll(async () => {
    fleet = Fleet.create({ plan, label: `rg-${family.engine.engineType}` });
    app = { username: plan.users.application, password: fleet.appPassword };
    sentinelAuth = { password: fleet.appPassword };
    fleet.startAll();
    await withLogs(() => fleet.waitAllReady(30));
  }, 60_000);

  afterAll(async () => {
    await fleet?.dispose();
  }, 30_000);

  /** Adds the fleet's logs to a failure. */
  const withLogs = <T>(fn: () => Promise<T>): Promise<T> => fleet.withLogs(fn);

  function sentinel(address: string, ...args: Array<string | number>): Promise<unknown> {
    return command(address, sentinelPort, sentinelAuth, 'SENTINEL', ...args);
  }

  /** The primary's address when every sentinel names the same one. */
  async function primaryAllSentinelsName(): Promise<string | undefined> {
    const answers = await Promise.all(sentinelAddresses.map((s) => sentinel(s, 'get-master-addr-by-name', masterName) as Promise<string[]>));
    const named = new Set(answers.map(([ip, p]) => `${ip}:${p}`));
    return named.size === 1 ? answers[0][0] : undefined;
  }

  /** The replicas a sentinel sees as healthy (no down / disconnected flag, link ok). */
  async function healthyReplicas(sentinelAddress: string): Promise<string[]> {
    const replicas = ((await sentinel(sentinelAddress, 'REPLICAS', masterName)) as unknown[]).map(pairs);
    return replicas
      .filter((r) => !/s_down|o_down|disconnected/.test(r.flags) && r['master-link-status'] === 'ok')
      .map((r) => `${r.ip}:${r.port}`)
      .sort();
  }

  /** Every replica address a sentinel lists, healthy or not. */
  async function listedReplicas(sentinelAddress: string): Promise<string[]> {
    const replicas = ((await sentinel(sentinelAddress, 'REPLICAS', masterName)) as unknown[]).map(pairs);
    return replicas.map((r) => `${r.ip}:${r.port}`).sort();
  }

  async function roleOf(address: string): Promise<unknown[]> {
    return (await command(address, port, app, 'ROLE')) as unknown[];
  }

  /**
   * The role a node answers first from now on (`master` or `slave`): called before the node starts,
   * it is the role the node booted with, whatever path the agent took to decide it.
   */
  function firstRoleAnswered(address: string, timeoutMs = 60_000): Promise<string> {
    const answered = waitFor(`${address} to answer ROLE`, async () => String((await roleOf(address))[0]), { timeoutMs, intervalMs: 20 });
    // Awaited by the test; a test that fails before it does leaves no unhandled rejection behind.
    answered.catch(() => undefined);
    return answered;
  }

  /** Waits until `address` is a replica of `primary` with its link up, and returns its ROLE. */
  function replicaOf(address: string, primary: string, timeoutMs = 30_000): Promise<unknown[]> {
    return waitFor(`${address} to be a replica of ${primary}:${port}, link up`, async () => {
      const role = await roleOf(address);
      return JSON.stringify(role.slice(0, 4)) === JSON.stringify(['slave', primary, port, 'connected']) ? role : undefined;
    }, { timeoutMs, intervalMs: 100 });
  }

  /** Writes `count` keys, each acknowledged by WAIT 1; records them. */
  async function writeAcknowledged(host: string, prefix: string, count: number): Promise<void> {
    const client = await connect(host, port, app);
    try {
      for (let i = 0; i < count; i++) {
        const key = `${prefix}:${i}`;
        await client.set(key, `v${i}`);
        const replicas = (await client.call('WAIT', 1, 2_000)) as number;
        expect(replicas).toBeGreaterThanOrEqual(1);
        acknowledged.set(key, `v${i}`);
      }
    } finally {
      client.disconnect();
    }
  }

  /** Every acknowledged key that `host` does not hold with its value. */
  async function missingOn(host: string): Promise<string[]> {
    const keys = [...acknowledged.keys()];
    const values = await command(host, port, app, 'MGET', ...keys) as Array<string | null>;
    return keys.filter((key, i) => values[i] !== acknowledged.get(key));
  }

  test('forms: CKQUORUM OK, 2 healthy replicas and 2 peer sentinels per sentinel, data reaches both replicas', async () => {
    await withLogs(async () => {
      const others = (self: string) => addresses.filter((a) => a !== self).map((a) => `${a}:${sentinelPort}`).sort();
      // Sentinels learn replicas from the primary's INFO and peers from hello messages: give them time.
      await waitFor('every sentinel to see 2 healthy replicas and 2 peers', async () => {
        for (const s of sentinelAddresses) {
          if ((await healthyReplicas(s)).length !== 2) return false;
          const peers = ((await sentinel(s, 'SENTINELS', masterName)) as unknown[]).map(pairs);
          if (peers.length !== 2) return false;
        }
        return true;
      }, { timeoutMs: 45_000, intervalMs: 250 });

      expect(await primaryAllSentinelsName()).toBe(addresses[0]);
      for (const s of sentinelAddresses) {
        expect(await sentinel(s, 'CKQUORUM', masterName)).toMatch(/^OK 3 usable Sentinels/);
        expect(await healthyReplicas(s)).toEqual([`${addresses[1]}:${port}`, `${addresses[2]}:${port}`]);
        const peers = ((await sentinel(s, 'SENTINELS', masterName)) as unknown[]).map(pairs);
        expect(peers.map((p) => `${p.ip}:${p.port}`).sort()).toEqual(others(s));
      }

      const primary = await connect(addresses[0], port, app);
      try {
        await primary.set('formed', 'yes');
        expect(await primary.call('WAIT', 2, 5_000)).toBe(2);
      } finally {
        primary.disconnect();
      }
      for (const replica of addresses.slice(1)) {
        expect(await command(replica, port, app, 'GET', 'formed')).toBe('yes');
        expect((await roleOf(replica))[0]).toBe('slave');
      }
    });
  }, 60_000);

  test('AUTH is enforced on data nodes and sentinels', async () => {
    for (const node of addresses) {
      // Anonymous: refused.
      const anonymous = await cli(family.cli, node, port, ['PING']);
      expect(anonymous.stdout + anonymous.stderr).toMatch(/NOAUTH/);
      await expect(command(node, port, {}, 'GET', 'formed')).rejects.toThrow(/NOAUTH/);
      // The default user is off, whatever the password, the AUTH token included.
      await expect(auth(node, port, 'anything-at-all', 'default')).rejects.toThrow(/WRONGPASS|invalid username-password/);
      await expect(auth(node, port, fleet.appPassword, 'default')).rejects.toThrow(/WRONGPASS|invalid username-password/);
      await expect(auth(node, port, fleet.appPassword)).rejects.toThrow(/WRONGPASS|invalid username-password/);
      // A wrong password for the application user.
      await expect(auth(node, port, 'not-the-token-123', app.username)).rejects.toThrow(/WRONGPASS|invalid username-password/);
      expect(await auth(node, port, fleet.appPassword, app.username)).toBe('OK');
      // The application user, with the token, over ioredis and redis-cli (password in REDISCLI_AUTH).
      expect(await command(node, port, app, 'PING')).toBe('PONG');
      expect((await cli(family.cli, node, port, ['GET', 'formed'], app)).stdout.trim()).toBe('yes');
    }
    for (const s of sentinelAddresses) {
      const anonymous = await cli(family.cli, s, sentinelPort, ['SENTINEL', 'MASTERS']);
      expect(anonymous.stdout + anonymous.stderr).toMatch(/NOAUTH/);
      await expect(command(s, sentinelPort, {}, 'SENTINEL', 'get-master-addr-by-name', masterName)).rejects.toThrow(/NOAUTH/);
      await expect(auth(s, sentinelPort, 'not-the-token-123')).rejects.toThrow(/WRONGPASS|invalid username-password/);
      expect(await command(s, sentinelPort, sentinelAuth, 'PING')).toBe('PONG');
      expect(await command(s, sentinelPort, app, 'SENTINEL', 'get-master-addr-by-name', masterName)).toEqual([addresses[0], String(port)]);
    }
  });

  test('kill -9 of the primary: a new primary accepts writes, no WAIT-1-acknowledged write is lost', async () => {
    await withLogs(async () => {
      const oldPrimary = addresses[0];
      expect(await primaryAllSentinelsName()).toBe(oldPrimary);
      await writeAcknowledged(oldPrimary, 'before-kill', 200);

      // A writer keeps writing (~1k/s, each write confirmed by WAIT 1) while the primary dies.
      const writer = await connect(oldPrimary, port, app);
      let writing = true;
      let confirmedWhileKilling = 0;
      const writerDone = (async () => {
        for (let i = 0; writing; i++) {
          try {
            await writer.set(`under-load:${i}`, `v${i}`);
            if (((await writer.call('WAIT', 1, 1_000)) as number) >= 1) {
              acknowledged.set(`under-load:${i}`, `v${i}`);
              confirmedWhileKilling++;
            }
          } catch {
            return;
          }
          await sleep(1);
        }
      })();
      await waitFor('the writer to get going', () => confirmedWhileKilling >= 100, { timeoutMs: 20_000, intervalMs: 20 });

      const killedAt = Date.now();
      fleet.process('node-0', 'redis').signal('SIGKILL');
      await fleet.process('node-0', 'redis').exited;
      writing = false;
      await writerDone;
      writer.disconnect();

      // A client finds the primary through the sentinels and writes to it.
      const newPrimary = await waitFor('a new primary, named by a sentinel, to accept a write', async () => {
        for (const s of sentinelAddresses) {
          try {
            const [ip] = (await sentinel(s, 'get-master-addr-by-name', masterName)) as string[];
            if (ip === oldPrimary) continue;
            await command(ip, port, app, 'SET', 'after-failover', 'yes');
            return ip;
          } catch {
            // not promoted yet, or this sentinel is busy: ask the next one
          }
        }
        return undefined;
      }, { timeoutMs: 30_000, intervalMs: 50 });
      const failoverMs = Date.now() - killedAt;
      primaryAfterFailover = newPrimary;
      // eslint-disable-next-line no-console
      console.log(`${family.title}: kill -9 of the primary -> first write accepted by the new primary ${newPrimary} after ${failoverMs} ms`);

      expect(addresses.slice(1)).toContain(newPrimary);
      // How long the failover took (the target is the sentinels' silence timeout + 3 s) is a figure of
      // the fault suite (`npm run faults`, 20 trials), printed above; one trial on a shared machine
      // proves the outcome: a new primary, reachable through the sentinels, with every acknowledged write.
      const lost = await missingOn(newPrimary);
      // eslint-disable-next-line no-console
      console.log(`${family.title}: ${acknowledged.size} WAIT-1-acknowledged writes before the kill, ${lost.length} lost`);
      expect(lost).toEqual([]);
    });
  }, 60_000);

  test('the old primary, restarted by the agent, rejoins as a replica; sentinels list no stale replica; the hook recorded the primary', async () => {
    await withLogs(async () => {
      const oldPrimary = addresses[0];
      const newPrimary = primaryAfterFailover;
      expect(newPrimary).not.toBe('');
      await waitFor('all sentinels to name the new primary', async () => (await primaryAllSentinelsName()) === newPrimary, { timeoutMs: 30_000 });

      // It never serves as a second primary: the first role it answers is replica.
      const bootRole = firstRoleAnswered(oldPrimary);
      fleet.start('node-0', 'redis');
      await fleet.waitReady('node-0', 'redis', 30);
      expect(await bootRole).toBe('slave');
      await replicaOf(oldPrimary, newPrimary);
      expect(await missingOn(oldPrimary)).toEqual([]);

      const replicasNow = addresses.filter((a) => a !== newPrimary).map((a) => `${a}:${port}`).sort();
      await waitFor('every sentinel to see exactly the two current replicas, healthy', async () => {
        for (const s of sentinelAddresses) {
          if (JSON.stringify(await healthyReplicas(s)) !== JSON.stringify(replicasNow)) return false;
          if (JSON.stringify(await listedReplicas(s)) !== JSON.stringify(replicasNow)) return false;
        }
        return true;
      }, { timeoutMs: 30_000, intervalMs: 250 });
      for (const s of sentinelAddresses) {
        expect(await listedReplicas(s)).toEqual(replicasNow);
        expect(await sentinel(s, 'CKQUORUM', masterName)).toMatch(/^OK 3 usable Sentinels/);
      }

      // Sentinel ran the agent's on-failover hook on every sentinel slot (local platform: a file).
      for (const slot of fleet.slotsRunning('sentinel')) {
        const recorded = path.join(fleet.dirs(slot).state, 'primary');
        await waitFor(`${slot.name}'s hook to record the new primary`, () => fs.existsSync(recorded) && fs.readFileSync(recorded, 'utf8').trim() === `${newPrimary}:${port}`, { timeoutMs: 20_000 });
      }
    });
  }, 90_000);

  test('reconcile republishes the primary the sentinels name', async () => {
    const newPrimary = primaryAfterFailover;
    const recorded = path.join(fleet.dirs('node-0').state, 'primary');
    fs.writeFileSync(recorded, `${addresses[0]}:${port}\n`);
    const fixed = await fleet.agent('node-0', ['reconcile']);
    expect({ code: fixed.code, stderr: fixed.stderr, recorded: fs.readFileSync(recorded, 'utf8').trim() }).toEqual({ code: 0, stderr: expect.any(String), recorded: `${newPrimary}:${port}` });
    // A second reconcile, with the record current, leaves it as it is.
    const again = await fleet.agent('node-0', ['reconcile']);
    expect({ code: again.code, stderr: again.stderr, recorded: fs.readFileSync(recorded, 'utf8').trim() }).toEqual({ code: 0, stderr: expect.any(String), recorded: `${newPrimary}:${port}` });
  });

  test('every node restarted (SIGTERM, then all started at once): one primary at boot, the group settles on the one sentinels name, no acknowledged write lost', async () => {
    await withLogs(async () => {
      const primaryBefore = await waitFor('the sentinels to agree', primaryAllSentinelsName, { timeoutMs: 30_000 });
      expect(primaryBefore).toBe(primaryAfterFailover);
      await writeAcknowledged(primaryBefore, 'before-restart', 100);

      await fleet.stopAll();
      for (const slot of plan.slots) {
        for (const service of slot.services) expect(fleet.process(slot, service).status).toBe(0);
      }

      // The role each data node answers first is the role it booted with.
      const bootRoles = addresses.map((address) => firstRoleAnswered(address, 90_000));
      fleet.startAll();
      await fleet.waitAllReady(60);

      // No second primary at boot: no node but the one the sentinels named booted as a primary (a
      // failover while the group restarts may leave none of them booting as one).
      const firstRoles = await Promise.all(bootRoles);
      const bootedAsPrimary = addresses.filter((_, i) => firstRoles[i] === 'master');
      expect(bootedAsPrimary.filter((address) => address !== primaryBefore)).toEqual([]);

      // On a busy machine a node can take longer to come back than Sentinel's detection time, and the
      // sentinels then fail over while the group restarts. Either way the group must settle on one
      // primary, the one every sentinel names, with both replicas connected to it.
      const primaryAfter = await waitFor(
        'one primary, named by every sentinel, both replicas connected to it',
        async () => {
          const named = await primaryAllSentinelsName();
          if (!named) return undefined;
          const roles = await Promise.all(addresses.map(roleOf));
          if (roles.filter((r) => r[0] === 'master').length !== 1 || (await roleOf(named))[0] !== 'master') return undefined;
          for (const replica of addresses.filter((a) => a !== named)) {
            const role = (await roleOf(replica)).slice(0, 4);
            if (JSON.stringify(role) !== JSON.stringify(['slave', named, port, 'connected'])) return undefined;
          }
          return named;
        },
        { timeoutMs: 60_000 },
      );
      if (primaryAfter !== primaryBefore) {
        // eslint-disable-next-line no-console
        console.log(`${family.title}: the sentinels failed over from ${primaryBefore} to ${primaryAfter} while the group restarted`);
      }

      const client: Redis = await connect(primaryAfter, port, app);
      try {
        await client.set('after-restart', 'yes');
        expect(await client.call('WAIT', 2, 5_000)).toBe(2);
      } finally {
        client.disconnect();
      }
      for (const node of addresses) expect(await missingOn(node)).toEqual([]);
      // eslint-disable-next-line no-console
      console.log(`${family.title}: full restart -> one primary (${primaryAfter}), ${acknowledged.size} acknowledged writes on all 3 nodes`);
    });
  }, 180_000);

  test('a replaced node (its state lost) comes back as a replica, and its new sentinel monitors the current primary', async () => {
    await withLogs(async () => {
      const primary = await waitFor('the sentinels to agree', primaryAllSentinelsName, { timeoutMs: 30_000 });
      const replaced = fleet.slotsRunning('redis').find((slot) => slot.address !== primary)!;
      // The machine dies; a new one starts with an empty state directory.
      fleet.process(replaced, 'sentinel').signal('SIGKILL');
      fleet.process(replaced, 'redis').signal('SIGKILL');
      await Promise.all([fleet.process(replaced, 'sentinel').exited, fleet.process(replaced, 'redis').exited]);
      fs.rmSync(fleet.dirs(replaced).state, { recursive: true, force: true });
      // The new node never serves as a second (empty) primary: the first role it answers is replica.
      const bootRole = firstRoleAnswered(replaced.address);
      fleet.start(replaced, 'sentinel');
      fleet.start(replaced, 'redis');
      await fleet.waitReady(replaced, 'sentinel', 30);
      await fleet.waitReady(replaced, 'redis', 30);

      expect(await bootRole).toBe('slave');
      // It follows the current primary, its data resynchronized from it.
      await replicaOf(replaced.address, primary);
      expect(await missingOn(replaced.address)).toEqual([]);

      const replicasNow = addresses.filter((a) => a !== primary).map((a) => `${a}:${port}`).sort();
      // Every sentinel, the new one included, follows the current primary (a new sentinel that started
      // from the deploy's primary learns the current one from its peers).
      await waitFor('every sentinel to name the current primary and know exactly 2 peers and the 2 current replicas, healthy', async () => {
        for (const s of sentinelAddresses) {
          if ((await sentinel(s, 'get-master-addr-by-name', masterName) as string[])[0] !== primary) return false;
          const peers = ((await sentinel(s, 'SENTINELS', masterName)) as unknown[]).map(pairs);
          if (peers.length !== 2 || peers.some((p) => /s_down|disconnected/.test(p.flags))) return false;
          if (JSON.stringify(await healthyReplicas(s)) !== JSON.stringify(replicasNow)) return false;
          if (JSON.stringify(await listedReplicas(s)) !== JSON.stringify(replicasNow)) return false;
        }
        return true;
      }, { timeoutMs: 40_000, intervalMs: 250 });
      for (const s of sentinelAddresses) expect(await sentinel(s, 'CKQUORUM', masterName)).toMatch(/^OK 3 usable Sentinels/);
    });
  }, 120_000);

  test('pre-stop on the primary hands over to a replica before it stops, losing no write it acknowledged', async () => {
    await withLogs(async () => {
      const primary = await waitFor('the sentinels to agree', primaryAllSentinelsName, { timeoutMs: 30_000 });
      const slot = fleet.slotAt(primary);

      // A client keeps writing to the old primary through the handover (plain SET, no WAIT).
      const writer = await connect(primary, port, app);
      const acceptedByOld = new Map<string, string>();
      let writing = true;
      const writerDone = (async () => {
        for (let i = 0; writing; i++) {
          try {
            if ((await writer.set(`handover:${i}`, `v${i}`)) === 'OK') acceptedByOld.set(`handover:${i}`, `v${i}`);
          } catch {
            // READONLY once it is a replica
          }
          await sleep(2);
        }
      })();
      await waitFor('the writer to get going', () => acceptedByOld.size >= 50, { timeoutMs: 20_000, intervalMs: 20 });

      const startedAt = Date.now();
      const handover = await fleet.agent(slot, ['pre-stop'], { CACHEFLEET_PRE_STOP_TIMEOUT: '30' }, 40_000);
      const handoverMs = Date.now() - startedAt;
      writing = false;
      await writerDone;
      writer.disconnect();
      expect({ code: handover.code, stderr: handover.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      expect((await roleOf(primary))[0]).toBe('slave');

      const successor = await waitFor('the sentinels to agree on a new primary', async () => {
        const named = await primaryAllSentinelsName();
        return named && named !== primary ? named : undefined;
      }, { timeoutMs: 30_000 });
      expect((await roleOf(successor))[0]).toBe('master');
      const roles = await Promise.all(addresses.map(roleOf));
      expect(roles.filter((r) => r[0] === 'master')).toHaveLength(1);
      expect(await missingOn(successor)).toEqual([]);
      const values = (await command(successor, port, app, 'MGET', ...acceptedByOld.keys())) as Array<string | null>;
      const lost = [...acceptedByOld.entries()].filter(([, v], i) => values[i] !== v).map(([k]) => k);
      // eslint-disable-next-line no-console
      console.log(`${family.title}: pre-stop handover took ${handoverMs} ms; ${acceptedByOld.size} writes accepted by the old primary, ${lost.length} lost`);
      expect(lost).toEqual([]);
    });
  }, 90_000);
});
