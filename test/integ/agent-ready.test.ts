import { describeInteg, needsBinaries } from './support/binaries';
import { command } from './support/clients';
import { Fleet } from './support/fleet';
import { loopbackAddresses, replicationGroupPlan, VALKEY_8_0 } from './support/plans';
import { waitFor } from './support/processes';

/**
 * `cachefleet-node wait-ready` scales to the data: a replica whose full sync takes longer than the
 * stall period, but makes progress all along, is ready when the sync ends; one that makes no progress
 * fails after the stall period; the overall deadline (the aws boot's, from the deploy's signal
 * timeout) ends even a progressing wait. The primary's RDB is slowed with `rdb-key-save-delay`, so a
 * 10 MB dataset takes about 10 s to reach the replica. Addresses 127.0.0.161-163; no sentinel runs.
 */

const KEYS = 10_000;
/** Seconds without progress before wait-ready gives up: far shorter than the sync. */
const STALL = 3;

describeInteg('wait-ready: a replica in a slow full sync', () => {
  needsBinaries(['valkey-server', 'valkey-cli']);
  const addresses = loopbackAddresses(161, 3);
  const plan = replicationGroupPlan('ready', VALKEY_8_0.engine, addresses);
  let fleet: Fleet;
  const app = () => ({ username: plan.users.application, password: fleet.appPassword });
  const admin = () => ({ username: plan.users.admin, password: fleet.adminPassword });

  /** wait-ready on a slot, with the stall period and a deadline <seconds> from now; returns its result and duration. */
  async function waitReady(slot: string, deadlineSeconds: number) {
    const started = Date.now();
    const result = await fleet.agent(slot, ['wait-ready', 'redis'], {
      // The old fixed timeout (also the stall period's default): a wait that ignored progress would end here.
      CACHEFLEET_READY_TIMEOUT: String(STALL),
      CACHEFLEET_READY_STALL: String(STALL),
      CACHEFLEET_READY_DEADLINE: String(Math.floor(Date.now() / 1000) + deadlineSeconds),
    }, (deadlineSeconds + 10) * 1000);
    return { code: result.code, stderr: result.stderr, seconds: (Date.now() - started) / 1000 };
  }

  beforeAll(async () => {
    fleet = Fleet.create({ plan, label: 'agent-ready', env: { CACHEFLEET_SENTINEL_WAIT: '0' } });
    fleet.start('node-0', 'redis');
    await fleet.waitReady('node-0', 'redis');
    const primary = addresses[0];
    // No replica yet: let the primary take writes without one; send the RDB at once, 1 ms per key.
    await command(primary, 6379, admin(), 'CONFIG', 'SET', 'min-replicas-to-write', '0');
    await command(primary, 6379, admin(), 'CONFIG', 'SET', 'repl-diskless-sync-delay', '0');
    await command(primary, 6379, app(), 'EVAL', `for i = 1, ${KEYS} do redis.call('SET', 'key:' .. i, string.rep('v', 1000)) end`, '0');
    await command(primary, 6379, admin(), 'CONFIG', 'SET', 'rdb-key-save-delay', '1000');
  }, 60_000);

  afterAll(async () => fleet?.dispose(), 30_000);

  test('a replica still syncing and making progress is not a failure: ready when its sync ends, with the data', async () => {
    fleet.start('node-1', 'redis');
    const result = await waitReady('node-1', 120);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    // It took several stall periods (the sync takes at least KEYS ms): each sample saw more bytes read.
    expect(result.seconds).toBeGreaterThan(2 * STALL);
    // Ready means a replica with its link up and the whole dataset.
    expect(((await command(addresses[1], 6379, app(), 'ROLE')) as unknown[]).slice(0, 4)).toEqual(['slave', addresses[0], 6379, 'connected']);
    expect(await command(addresses[1], 6379, app(), 'DBSIZE')).toBe(KEYS);
  }, 90_000);

  test('the overall deadline ends a wait that still makes progress', async () => {
    fleet.start('node-2', 'redis');
    // The wait starts once the full sync is under way (on a busy machine the engine takes a while to
    // start and ask for it): its deadline then falls in the middle of a sync that makes progress.
    await waitFor('node-2 to be in its full sync', async () =>
      /master_sync_in_progress:1/.test(String(await command(addresses[2], 6379, app(), 'INFO', 'replication').catch(() => ''))), { timeoutMs: 30_000, intervalMs: 100 });
    const result = await waitReady('node-2', STALL + 2);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/redis is not ready after \d+s, at its deadline \(.*master_sync_in_progress=1/);
    // Ended by its deadline (STALL + 2 s from the start), not by the sync's end (KEYS ms of RDB).
    expect(result.seconds).toBeLessThan(STALL + 2 + 5);
  }, 60_000);

  test('a replica that makes no progress fails after the stall period', async () => {
    const primary = fleet.process('node-0', 'redis');
    await fleet.process('node-1', 'redis').stop();
    // A stopped primary accepts the connection and answers nothing: the replica's sync cannot move.
    primary.signal('SIGSTOP');
    try {
      fleet.start('node-1', 'redis');
      const result = await waitReady('node-1', 120);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(new RegExp(`redis is not ready after \\d+s: no progress for ${STALL}s`));
      expect(result.seconds).toBeLessThan(STALL + 8);
    } finally {
      primary.signal('SIGCONT');
    }
  }, 60_000);
});
