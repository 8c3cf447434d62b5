import { describeInteg, needsBinaries } from './support/binaries';
import { command } from './support/clients';
import { Fleet } from './support/fleet';
import { memcachedPlan } from './support/plans';
import { waitFor } from './support/processes';
import { redisPlan } from '../core/render/fixtures';

/**
 * `cachefleet-node health <service>`, the Docker flavor's health check: one look, not a wait, and
 * still a true signal. A primary and a replica in sync are healthy; a replica whose link is down, an
 * engine that is gone and one that hangs (stopped by SIGSTOP: it accepts connections and never
 * answers) are not, each within the query timeout; Memcached is healthy while it listens.
 * Addresses 127.0.0.251-252 (a Valkey 8.0 primary and replica without Sentinel) and 127.0.0.254
 * (Memcached).
 */

describeInteg('health: one look at the engine', () => {
  needsBinaries(['valkey-server', 'valkey-cli', 'memcached']);
  const plan = redisPlan({ name: 'health', dataAddresses: ['127.0.0.251', '127.0.0.252'], failover: false });
  let fleet: Fleet;
  const admin = () => ({ username: plan.users.admin, password: fleet.adminPassword });

  async function health(slot: string, service = 'redis') {
    const started = Date.now();
    const result = await fleet.agent(slot, ['health', service], { CACHEFLEET_QUERY_TIMEOUT: '2' }, 20_000);
    return { code: result.code, stderr: result.stderr, seconds: (Date.now() - started) / 1000 };
  }

  beforeAll(async () => {
    fleet = Fleet.create({ plan, label: 'agent-health' });
    fleet.startAll();
    await fleet.waitAllReady(30);
  }, 60_000);

  afterAll(async () => {
    await fleet?.dispose();
  });

  test('a primary and a replica whose link is up are healthy', async () => {
    await waitFor('the replica\'s link to be up', async () => /master_link_status:up/.test(String(await command('127.0.0.252', 6379, admin(), 'INFO', 'replication'))));
    expect(await health('node-0')).toMatchObject({ code: 0 });
    expect(await health('node-1')).toMatchObject({ code: 0 });
  });

  test('a hung engine is unhealthy within the query timeout, and healthy again once it runs', async () => {
    const engine = fleet.process('node-0', 'redis');
    const pid = Number(String(await command('127.0.0.251', 6379, admin(), 'INFO', 'server')).match(/process_id:(\d+)/)![1]);
    process.kill(pid, 'SIGSTOP');
    try {
      const hung = await health('node-0');
      expect(hung.code).toBe(1);
      expect(hung.stderr).toContain('unhealthy: the engine on 127.0.0.251:6379 does not answer within 2s');
      expect(hung.seconds).toBeLessThan(6);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(engine.running).toBe(true);
    await waitFor('the primary to answer again', async () => (await health('node-0')).code === 0);
  });

  test('a replica whose primary is gone is unhealthy once it restarts without it (no longer its first boot)', async () => {
    await fleet.process('node-0', 'redis').stop();
    await fleet.process('node-1', 'redis').stop();
    fleet.start('node-1', 'redis');
    await waitFor('the replica to answer', async () => (await command('127.0.0.252', 6379, admin(), 'PING').catch(() => undefined)) === 'PONG');
    const result = await health('node-1');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unhealthy: a replica whose link to 127.0.0.251:6379 is down');

    fleet.start('node-0', 'redis');
    await waitFor('the replica to be healthy again with its primary back', async () => (await health('node-1')).code === 0, { timeoutMs: 30_000 });
  });

  test('an engine that is gone is unhealthy', async () => {
    await fleet.process('node-1', 'redis').stop();
    const result = await health('node-1');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unhealthy: the engine on 127.0.0.252:6379 answers \'Could not connect');
  });
});

describeInteg('health: Memcached', () => {
  needsBinaries(['memcached']);
  let fleet: Fleet;

  beforeAll(async () => {
    fleet = Fleet.create({ plan: memcachedPlan('health-mc', ['127.0.0.254']), label: 'agent-health-mc' });
    fleet.startAll();
    await fleet.waitAllReady(30);
  }, 60_000);

  afterAll(async () => {
    await fleet?.dispose();
  });

  test('healthy while it listens, unhealthy once it is gone', async () => {
    expect((await fleet.agent('node-0', ['health', 'memcached'])).code).toBe(0);
    await fleet.process('node-0', 'memcached').stop();
    const gone = await fleet.agent('node-0', ['health', 'memcached']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('unhealthy: memcached does not listen on 127.0.0.254:11211');
  });
});
