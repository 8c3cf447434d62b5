import * as fs from 'fs';
import * as path from 'path';
import Redis from 'ioredis';
import { describeInteg, needsBinaries } from './support/binaries';
import { command, Credentials, infoFields, pairs, withClient } from './support/clients';
import { Fleet } from './support/fleet';
import { loopbackAddresses, REDIS_7_0, VALKEY_8_0 } from './support/plans';
import { waitFor } from './support/processes';
import { planFleet, SlotPosition } from '../../src/core/topology';
import { validateReplicationGroupOptions } from '../../src/core/validation';

/**
 * Users and privileges on real servers, for Redis 7.0 and Valkey 8.0: a replication group of
 * 1 primary + 1 replica and 3 sentinels (one on a sentinel-only slot), planned and rendered by core
 * and run by the node agent. The AUTH token reaches data and discovery but not administration
 * (`CONFIG`, `MODULE`, `DEBUG`, `SHUTDOWN`, `REPLICAOF`, `SENTINEL FAILOVER`/`SET`/`REMOVE`…); the
 * admin user, with its own secret, reaches everything; a Sentinel-aware client (ioredis) still finds
 * and follows the primary with the token alone; and the agent's own operations (readiness, live
 * parameters, backup, the pre-stop handover) still work, as the admin user.
 *
 * Redis 6.2 (the `redis6.x` family) cannot run here; its files are checked by the renderers' tests.
 * The tests of one engine build on each other, in order. Addresses: Redis 127.0.0.151-153,
 * Valkey 127.0.0.156-158.
 */
describeInteg.each([
  { family: REDIS_7_0, first: 151 },
  { family: VALKEY_8_0, first: 156 },
])('$family.title: the application user, the admin user, and Sentinel', ({ family, first }) => {
  const addresses = loopbackAddresses(first, 3);
  const plan = planFleet({
    name: `acl-${family.engine.engineType}`,
    fleet: validateReplicationGroupOptions({ engine: family.engine, replicasPerShard: 1 }),
    zoneCount: 3,
    addressOf: (position: SlotPosition) => addresses[position.index],
  });
  const masterName = plan.sentinel!.masterName;
  const port = plan.port;
  const sentinels = plan.sentinel!.endpoints.map((endpoint) => ({ host: endpoint.split(':')[0], port: Number(endpoint.split(':')[1]) }));

  let fleet: Fleet;
  let app: Credentials;
  let tokenOnly: Credentials;
  let admin: Credentials;

  needsBinaries([family.server, family.cli, 'timeout']);

  beforeAll(async () => {
    fleet = Fleet.create({ plan, label: `acl-${family.engine.engineType}` });
    app = { username: plan.users.application, password: fleet.appPassword };
    tokenOnly = { password: fleet.appPassword };
    admin = { username: plan.users.admin, password: fleet.adminPassword };
    fleet.startAll();
    // wait-ready asks each engine its ROLE and INFO and each sentinel who the primary is: as the admin user.
    await withLogs(() => fleet.waitAllReady(30));
    // Sentinels learn of the replica and of each other within seconds; the tests below need both.
    await withLogs(() => waitFor('every sentinel to see a healthy replica and its 2 peers', async () => {
      for (const s of sentinels) {
        const replicas = ((await command(s.host, s.port, tokenOnly, 'SENTINEL', 'REPLICAS', masterName)) as unknown[]).map(pairs);
        if (replicas.length !== 1 || replicas[0].flags !== 'slave' || replicas[0]['master-link-status'] !== 'ok') return false;
        if (((await command(s.host, s.port, tokenOnly, 'SENTINEL', 'SENTINELS', masterName)) as unknown[]).length !== 2) return false;
      }
      return true;
    }, { timeoutMs: 30_000 }));
  }, 90_000);

  afterAll(async () => {
    await fleet?.dispose();
  }, 30_000);

  /** Adds the fleet's logs to a failure. */
  const withLogs = <T>(fn: () => Promise<T>): Promise<T> => fleet.withLogs(fn);

  /** The primary every sentinel names, asked with the AUTH token alone. */
  async function agreedPrimary(): Promise<string | undefined> {
    const answers = await Promise.all(sentinels.map((s) => command(s.host, s.port, tokenOnly, 'SENTINEL', 'get-master-addr-by-name', masterName) as Promise<string[]>));
    const named = new Set(answers.map(([ip, p]) => `${ip}:${p}`));
    return named.size === 1 ? answers[0][0] : undefined;
  }

  /** What a refused command's error says; fails the test when the command is accepted. */
  async function refusal(host: string, p: number, credentials: Credentials, ...args: Array<string | number>): Promise<string> {
    try {
      const reply = await command(host, p, credentials, String(args[0]), ...args.slice(1));
      throw new Error(`${args.join(' ')} was accepted: ${JSON.stringify(reply)}`);
    } catch (error) {
      return (error as Error).message;
    }
  }

  test.each([
    ['CONFIG SET dir /tmp', ['CONFIG', 'SET', 'dir', '/tmp']],
    ['CONFIG GET masterauth (the internal password)', ['CONFIG', 'GET', 'masterauth']],
    ['MODULE LOAD', ['MODULE', 'LOAD', '/nonexistent/module.so']],
    ['DEBUG SLEEP 0', ['DEBUG', 'SLEEP', '0']],
    ['SHUTDOWN', ['SHUTDOWN', 'NOSAVE']],
    ['REPLICAOF', ['REPLICAOF', '127.0.0.1', '1']],
    ['ACL SETUSER', ['ACL', 'SETUSER', 'intruder', 'on', '>intruder-password-123', '+@all']],
    ['CLIENT KILL', ['CLIENT', 'KILL', 'USER', 'cachefleet-sentinel']],
    ['MONITOR', ['MONITOR']],
    ['BGSAVE', ['BGSAVE']],
    ['FAILOVER', ['FAILOVER']],
  ])('the application user gets NOPERM on %s', async (_what, args) => {
    const primary = (await waitFor('the sentinels to agree', agreedPrimary))!;
    expect(await refusal(primary, port, app, ...args)).toMatch(/^NOPERM/);
  });

  test('the application user still does what applications do: data, INFO, ROLE, its connection\'s CLIENT subcommands', async () => {
    const primary = (await waitFor('the sentinels to agree', agreedPrimary))!;
    await withClient(primary, port, app, async (client) => {
      expect(await client.set('acl:k', 'v')).toBe('OK');
      expect(await client.get('acl:k')).toBe('v');
      expect(await client.call('KEYS', 'acl:*')).toEqual(['acl:k']);
      expect(infoFields(String(await client.call('INFO', 'replication'))).role).toBe('master');
      expect(((await client.call('ROLE')) as unknown[])[0]).toBe('master');
      expect(await client.call('CLIENT', 'SETNAME', 'acl-test')).toBe('OK');
      expect(await client.call('CLIENT', 'GETNAME')).toBe('acl-test');
      expect(typeof (await client.call('CLIENT', 'ID'))).toBe('number');
      expect(await client.call('PUBLISH', 'acl-channel', 'x')).toBe(0);
    });
  });

  test('the admin user may do what the application user may not: CONFIG SET dir, MODULE LOAD, DEBUG', async () => {
    const primary = (await waitFor('the sentinels to agree', agreedPrimary))!;
    await withClient(primary, port, admin, async (client) => {
      const [, dir] = (await client.call('CONFIG', 'GET', 'dir')) as string[];
      expect(await client.call('CONFIG', 'SET', 'dir', '/tmp')).toBe('OK');
      expect(await client.call('CONFIG', 'SET', 'dir', dir)).toBe('OK');
      expect(await client.call('DEBUG', 'SLEEP', '0')).toBe('OK');
      // Allowed, and fails only because there is no such module.
      await expect(client.call('MODULE', 'LOAD', '/nonexistent/module.so')).rejects.toThrow(/^ERR Error loading the extension/);
      expect(((await client.call('CONFIG', 'GET', 'masterauth')) as string[])[1]).toBe(fleet.internalPassword);
    });
  });

  test('sentinels: the AUTH token (as the application user or as default) finds the primary but cannot fail over or reconfigure', async () => {
    const primary = (await waitFor('the sentinels to agree', agreedPrimary))!;
    for (const s of sentinels) {
      for (const credentials of [app, tokenOnly]) {
        expect(await command(s.host, s.port, credentials, 'SENTINEL', 'get-master-addr-by-name', masterName)).toEqual([primary, String(port)]);
        expect((await command(s.host, s.port, credentials, 'SENTINEL', 'REPLICAS', masterName)) as unknown[]).toHaveLength(1);
        expect(await refusal(s.host, s.port, credentials, 'SENTINEL', 'FAILOVER', masterName)).toMatch(/^NOPERM/);
        expect(await refusal(s.host, s.port, credentials, 'SENTINEL', 'SET', masterName, 'quorum', '1')).toMatch(/^NOPERM/);
        expect(await refusal(s.host, s.port, credentials, 'SENTINEL', 'REMOVE', masterName)).toMatch(/^NOPERM/);
        expect(await refusal(s.host, s.port, credentials, 'SENTINEL', 'MONITOR', 'other', '127.0.0.1', '1', '1')).toMatch(/^NOPERM/);
        expect(await refusal(s.host, s.port, credentials, 'SENTINEL', 'RESET', masterName)).toMatch(/^NOPERM/);
        expect(await refusal(s.host, s.port, credentials, 'SHUTDOWN')).toMatch(/^NOPERM/);
      }
    }
    // Nothing was changed by the attempts: the group is as it was.
    expect(await agreedPrimary()).toBe(primary);
    const quorum = (await command(sentinels[0].host, sentinels[0].port, tokenOnly, 'SENTINEL', 'MASTER', masterName)) as string[];
    expect(quorum[quorum.indexOf('quorum') + 1]).toBe(String(plan.sentinel!.quorum));
  });

  test('sentinels: the admin user may reconfigure them', async () => {
    const s = sentinels[0];
    const setting = String(plan.sentinel!.downAfterMillis);
    // Set to the value it has: allowed, and the group keeps its timings.
    expect(await command(s.host, s.port, admin, 'SENTINEL', 'SET', masterName, 'down-after-milliseconds', setting)).toBe('OK');
  });

  test('ioredis as a Sentinel client, with the AUTH token only: finds the primary, writes, and reads from a replica', async () => {
    const options = {
      sentinels,
      name: masterName,
      sentinelUsername: app.username,
      sentinelPassword: app.password,
      username: app.username,
      password: app.password,
      // ioredis' ready check (INFO) and its connection name (CLIENT SETNAME) on both kinds of server.
      enableReadyCheck: true,
      connectionName: 'acl-sentinel-client',
      failoverDetector: true,
      maxRetriesPerRequest: 1,
      sentinelRetryStrategy: () => null,
    };
    // The refusals the tests above provoked are forgotten: what ACL LOG holds after this test is the clients'.
    const everyServer = [...plan.slots.filter((slot) => slot.services.includes('redis')).map((slot) => ({ host: slot.address, port })), ...sentinels];
    for (const target of everyServer) await command(target.host, target.port, admin, 'ACL', 'LOG', 'RESET');
    const writer = new Redis({ ...options });
    const reader = new Redis({ ...options, role: 'slave' as const });
    const tokenAlone = new Redis({ ...options, sentinelUsername: undefined });
    try {
      expect(await writer.set('acl:via-sentinel', 'v1')).toBe('OK');
      expect(await tokenAlone.get('acl:via-sentinel')).toBe('v1');
      const seen = await waitFor('the replica to have the write', async () => (await reader.get('acl:via-sentinel')) === 'v1', { timeoutMs: 30_000 });
      expect(seen).toBe(true);
      expect(((await reader.call('ROLE')) as unknown[])[0]).toBe('slave');
      // Nothing ioredis sent (its ready check's INFO, CLIENT SETNAME, SENTINEL queries, the
      // +switch-master subscription of its failover detector) was denied, on any server.
      const denied: string[] = [];
      for (const target of everyServer) {
        const entries = ((await command(target.host, target.port, admin, 'ACL', 'LOG')) as unknown[]).map(pairs);
        denied.push(...entries.map((entry) => `${target.host}:${target.port} ${entry.username} ${entry.reason} ${entry.object}`));
      }
      expect(denied).toEqual([]);
    } finally {
      writer.disconnect();
      reader.disconnect();
      tokenAlone.disconnect();
    }
  });

  test('the agent\'s own operations, as the admin user: live parameters, backup', async () => {
    await withLogs(async () => {
      const primary = (await waitFor('the sentinels to agree', agreedPrimary))!;
      const slot = fleet.slotAt(primary);
      const dirs = fleet.dirs(slot);
      const live = path.join(dirs.config, 'live-parameters');
      const running = path.join(dirs.run, 'live-parameters.running');
      fs.copyFileSync(live, running);
      fs.writeFileSync(live, `${fs.readFileSync(live, 'utf8')}timeout\t321\n`);
      const applied = await fleet.agent(slot, ['apply-parameters', running]);
      expect({ code: applied.code, stderr: applied.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      expect(await command(primary, port, admin, 'CONFIG', 'GET', 'timeout')).toEqual(['timeout', '321']);

      // The backup streams a replica's RDB with the admin user's credentials (SYNC, INFO).
      const location = path.join(fleet.root, 'backups');
      const backup = await fleet.agent(slot, ['backup', 'acl'], { CACHEFLEET_BACKUP_LOCATION: location }, 60_000);
      expect({ code: backup.code, stderr: backup.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      expect(fs.readFileSync(path.join(location, 'acl', 'shard-0.rdb')).subarray(0, 5).toString()).toBe('REDIS');
    });
  }, 90_000);

  test('the agent\'s pre-stop, as the admin user: CLIENT PAUSE, SENTINEL FAILOVER, REPLICAOF; the old primary ends a replica', async () => {
    await withLogs(async () => {
      const primary = (await waitFor('the sentinels to agree', agreedPrimary))!;
      const handover = await fleet.agent(fleet.slotAt(primary), ['pre-stop'], { CACHEFLEET_PRE_STOP_TIMEOUT: '30' }, 40_000);
      // Every command it sent was allowed: the ACL LOGs show it (the last test of this file).
      expect({ code: handover.code, stderr: handover.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      const next = await waitFor('the sentinels to agree on a new primary', async () => {
        const named = await agreedPrimary();
        return named !== undefined && named !== primary ? named : undefined;
      }, { timeoutMs: 30_000 });
      expect(next).not.toBe(primary);
      expect(((await command(primary, port, admin, 'ROLE')) as unknown[])[0]).toBe('slave');
    });
  }, 90_000);

  test('no user of the agent was denied anything (ACL LOG of every node and sentinel)', async () => {
    const logs = [
      ...plan.slots.filter((slot) => slot.services.some((service) => service !== 'sentinel')).map((slot) => ({ host: slot.address, port })),
      ...sentinels,
    ];
    for (const target of logs) {
      const entries = ((await command(target.host, target.port, admin, 'ACL', 'LOG')) as unknown[][]).map((entry) => {
        const fields: Record<string, unknown> = {};
        for (let i = 0; i + 1 < entry.length; i += 2) fields[String(entry[i])] = entry[i + 1];
        return fields;
      });
      const internal = [plan.users.admin, plan.users.sentinel, plan.users.replication];
      expect(entries.filter((entry) => internal.includes(String(entry.username))).map((entry) => `${target.host}:${target.port} ${entry.username} ${entry.object}`)).toEqual([]);
    }
  });
});
