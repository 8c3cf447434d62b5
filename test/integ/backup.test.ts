import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Cluster } from 'ioredis';
import { AwsEmulator } from './support/aws-emulator';
import { describeInteg, needsBinaries } from './support/binaries';
import { Credentials, infoFields, withClient } from './support/clients';
import { datasetDifferences, datasetOf, KeyState, writeDataset } from './support/dataset';
import { Fleet } from './support/fleet';
import { runCommand, sleep, startProcess, waitFor, ManagedProcess } from './support/processes';
import { CacheEngine, RedisEngineVersion, ValkeyEngineVersion } from '../../src/core/engine';
import { ClusterMode } from '../../src/core/fleet-options';
import { FleetPlan, planFleet } from '../../src/core/topology';
import { validateCacheClusterOptions, validateReplicationGroupOptions } from '../../src/core/validation';

/**
 * Backups and restore on real servers (the agent's `backup`, `backup-if-due` and the restore before
 * a first start), with a directory as the backup location (the Docker flavor's host folder; an S3
 * prefix, on moto_server, through the AWS CLI). Addresses 127.0.9.10–.60 and 127.0.9.100–.170
 * (test/integ/README.md).
 */
const PORT = 6379;
const redis70 = CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 });
const valkey80 = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });

function groupPlan(name: string, first: number, extra: { snapshotRetentionLimit?: number; snapshotWindow?: string } = {}): FleetPlan {
  const fleet = validateReplicationGroupOptions({ engine: redis70, replicasPerShard: 2, ...extra });
  return planFleet({ name, fleet, zoneCount: 3, addressOf: (p) => `127.0.9.${first + p.index}` });
}

function singlePlan(name: string, address: string, extra: { snapshotRetentionLimit?: number; snapshotWindow?: string } = {}): FleetPlan {
  const fleet = validateCacheClusterOptions({ engine: redis70, ...extra });
  return planFleet({ name, fleet, zoneCount: 1, addressOf: () => address });
}

function clusterPlan(name: string, first: number): FleetPlan {
  const fleet = validateReplicationGroupOptions({
    engine: valkey80, clusterMode: ClusterMode.ENABLED, shards: 3, replicasPerShard: 1, snapshotRetentionLimit: 1,
  });
  return planFleet({ name, fleet, zoneCount: 3, addressOf: (p) => `127.0.9.${first + p.hostNumber}` });
}

function restoredRange(plan: FleetPlan, shard: number): string {
  const [first, last] = plan.cluster!.shards[shard].slotRange;
  return `${first}-${last}`;
}

function manifest(location: string, set: string, shard = 0): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(location, set, `shard-${shard}.json`), 'utf8'));
}

/** Starts a node and waits for its agent to end: a start refused before the engine runs. */
async function refusedStart(fleet: Fleet, slot: string): Promise<{ code: number | null; log: string }> {
  const started = fleet.start(slot, 'redis');
  let timer: NodeJS.Timeout | undefined;
  const status = await Promise.race([started.exited, new Promise<'running'>((resolve) => { timer = setTimeout(() => resolve('running'), 60_000); })]);
  clearTimeout(timer);
  return { code: status === 'running' || typeof status !== 'number' ? null : status, log: started.log() };
}

describeInteg('backups and restore (a directory location)', () => {
  needsBinaries(['redis-server', 'redis-cli', 'redis-check-rdb', 'valkey-server', 'valkey-cli', 'valkey-check-rdb', 'sha256sum', 'aws', 'moto_server']);
  const location = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-backups-'));
  const fleets: Fleet[] = [];
  const processes: ManagedProcess[] = [];
  afterAll(async () => {
    for (const p of processes) await p.stop('SIGTERM', 5_000);
    for (const fleet of fleets) await fleet.dispose();
    fs.rmSync(location, { recursive: true, force: true });
  }, 120_000);

  function track(fleet: Fleet): Fleet {
    fleets.push(fleet);
    return fleet;
  }

  describe('a Sentinel group of 1 + 2 (Redis 7.0, AOF)', () => {
    const plan = groupPlan('orders', 10, { snapshotRetentionLimit: 3 });
    let source: Fleet;
    let app: Credentials;
    let before: Map<string, KeyState>;

    beforeAll(async () => {
      source = track(Fleet.create({ plan, label: 'backup-source', env: { CACHEFLEET_BACKUP_LOCATION: location } }));
      app = { username: plan.users.application, password: source.appPassword };
      source.startAll();
      await source.withLogs(() => source.waitAllReady(90));
      await withClient('127.0.9.10', PORT, app, async (client) => {
        client.options.commandTimeout = 60_000;
        await writeDataset(client, 100_000);
        expect(await client.call('WAIT', 2, 30_000)).toBe(2);
      });
      before = await datasetOf('127.0.9.10', PORT, app);
    }, 240_000);

    test('a backup streams a replica\'s RDB, with a manifest that matches it; the RDB is standard', async () => {
      const result = await source.agent('node-0', ['backup', 'set-1'], {}, 180_000);
      expect({ code: result.code, out: result.stdout.trim() }).toEqual({ code: 0, out: `${location}/set-1` });

      const rdb = path.join(location, 'set-1', 'shard-0.rdb');
      const bytes = fs.readFileSync(rdb);
      expect(manifest(location, 'set-1')).toEqual(expect.objectContaining({
        fleet: 'orders',
        engine: 'redis',
        shards: 1,
        shard: 0,
        keys: 100_000,
        size: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        sourceRole: 'replica',
        sourceNode: expect.stringMatching(/^127\.0\.9\.1[12]:6379$/),
      }));

      const check = await runCommand('redis-check-rdb', [rdb], { timeoutMs: 120_000 });
      expect({ code: check.code, ok: /RDB looks OK/.test(check.stdout + check.stderr) }).toEqual({ code: 0, ok: true });

      // A stock server of the same version, nothing of cachefleet's, loads it as it is.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-stock-'));
      fs.copyFileSync(rdb, path.join(dir, 'dump.rdb'));
      const stock = startProcess('stock', 'redis-server', ['--bind', '127.0.9.60', '--port', String(PORT), '--dir', dir, '--save', '', '--appendonly', 'no'], process.env, path.join(dir, 'log'));
      processes.push(stock);
      await waitFor('the stock server', async () => withClient('127.0.9.60', PORT, {}, async (c) => (await c.dbsize()) === 100_000 || undefined), { timeoutMs: 60_000 });
      expect(datasetDifferences(before, await datasetOf('127.0.9.60', PORT, {}), 2_000)).toEqual([]);
      await stock.stop('SIGTERM', 5_000);
      fs.rmSync(dir, { recursive: true, force: true });
    }, 300_000);

    test('two nodes asked at once: one takes the set, the other says so and succeeds', async () => {
      const results = await Promise.all(['node-1', 'node-2'].map((slot) => source.agent(slot, ['backup', 'set-2'], {}, 180_000)));
      expect(results.map((r) => r.code)).toEqual([0, 0]);
      expect(results.map((r) => r.stdout.trim()).filter((out) => out !== '')).toEqual([`${location}/set-2`]);
      expect(fs.readdirSync(path.join(location, 'set-2')).sort()).toEqual(['lock', 'shard-0.json', 'shard-0.rdb']);
    }, 300_000);

    test('every node and volume deleted, a new group restored from the set holds every key, value and expiry', async () => {
      await source.dispose();
      const restoredPlan = groupPlan('orders', 20, { snapshotRetentionLimit: 3 });
      const restored = track(Fleet.create({ plan: restoredPlan, label: 'backup-restored', env: { CACHEFLEET_RESTORE_FROM: `${location}/set-1` } }));
      restored.startAll();
      await restored.withLogs(() => restored.waitAllReady(120));
      const restoredApp = { username: restoredPlan.users.application, password: restored.appPassword };
      expect(datasetDifferences(before, await datasetOf('127.0.9.20', PORT, restoredApp), 2_000)).toEqual([]);
      for (const replica of ['127.0.9.21', '127.0.9.22']) {
        await waitFor(`${replica} in sync`, async () => withClient(replica, PORT, restoredApp, async (c) => (await c.dbsize()) === 100_000 || undefined), { timeoutMs: 60_000 });
      }
      // Only the primary read the backup; the replicas copied it.
      expect(fs.existsSync(path.join(restored.dirs('node-0').state, 'redis', 'restored-from'))).toBe(true);
      expect(fs.existsSync(path.join(restored.dirs('node-1').state, 'redis', 'restored-from'))).toBe(false);
      await restored.dispose();
    }, 300_000);
  });

  describe('a restore that must not happen (a single Redis 7.0 node)', () => {
    test('onto a volume that holds data: refused, the data unchanged', async () => {
      const plan = singlePlan('kept', '127.0.9.40');
      const fleet = track(Fleet.create({ plan, label: 'backup-kept' }));
      const app = { username: plan.users.application, password: fleet.appPassword };
      fleet.start('node-0', 'redis');
      await fleet.waitReady('node-0', 'redis', 30);
      await withClient('127.0.9.40', PORT, app, async (c) => {
        for (let i = 0; i < 10; i++) await c.set(`own:${i}`, `${i}`);
      });
      const own = await datasetOf('127.0.9.40', PORT, app);
      await fleet.stopAll();

      const again = track(Fleet.create({ plan, label: 'backup-kept-again', env: { CACHEFLEET_RESTORE_FROM: `${location}/set-1` } }));
      fs.rmSync(again.dirs('node-0').state, { recursive: true, force: true });
      fs.cpSync(fleet.dirs('node-0').state, again.dirs('node-0').state, { recursive: true });
      again.start('node-0', 'redis');
      await again.waitReady('node-0', 'redis', 30);
      // Exactly its own 10 keys, unchanged: none of set-1's 100,000 keys was added.
      expect(datasetDifferences(own, await datasetOf('127.0.9.40', PORT, app), 0)).toEqual([]);
      await again.stopAll();
    }, 120_000);

    test.each([
      ['a truncated RDB', 'truncated', (set: string) => fs.truncateSync(path.join(set, 'shard-0.rdb'), 4096), 'shard-0.rdb'],
      ['an RDB whose SHA-256 is not the manifest\'s', 'altered', (set: string) => {
        const file = path.join(set, 'shard-0.rdb');
        const bytes = fs.readFileSync(file);
        bytes[bytes.length - 100] = 255 - bytes[bytes.length - 100];
        fs.writeFileSync(file, bytes);
      }, 'shard-0.rdb'],
      ['a missing object', 'missing', (set: string) => fs.rmSync(path.join(set, 'shard-0.json')), 'shard-0.json'],
    ])('%s: the node does not start, and says which object', async (_title, label, spoil, object) => {
      const set = path.join(location, `spoilt-${label}`);
      fs.cpSync(path.join(location, 'set-1'), set, { recursive: true });
      spoil(set);
      const plan = singlePlan('spoilt', '127.0.9.41');
      const fleet = track(Fleet.create({ plan, label: `backup-${label}`, env: { CACHEFLEET_RESTORE_FROM: set } }));
      const { code, log } = await refusedStart(fleet, 'node-0');
      expect(code).not.toBe(0);
      expect(code).not.toBeNull();
      expect(log).toContain(`${set}/${object}`);
      await expect(withClient('127.0.9.41', PORT, {}, (c) => c.ping())).rejects.toThrow();
    }, 120_000);
  });

  describe('an S3 location (moto_server, the AWS CLI)', () => {
    let emulator: AwsEmulator;
    let env: Record<string, string>;
    beforeAll(async () => {
      emulator = await AwsEmulator.start(fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-s3-')));
      // Straight to moto's S3, which refuses a conditional write over an existing key as S3 does.
      env = { ...emulator.cliEnv(), AWS_ENDPOINT_URL: emulator.motoUrl, AWS_DEFAULT_REGION: 'eu-west-1', CACHEFLEET_RETRIES: '2', CACHEFLEET_RETRY_DELAY: '1' };
      const made = await runCommand('aws', ['s3api', 'create-bucket', '--bucket', 'fleet-backups', '--create-bucket-configuration', 'LocationConstraint=eu-west-1'], { env: { ...process.env, ...env } });
      expect(made.code).toBe(0);
    }, 60_000);
    afterAll(async () => {
      await emulator?.stop();
    }, 30_000);

    test('a backup to a prefix, claimed once; a new node restored from it holds the same keys', async () => {
      const plan = singlePlan('carts', '127.0.9.43');
      const fleet = track(Fleet.create({ plan, label: 'backup-s3', env: { ...env, CACHEFLEET_BACKUP_LOCATION: 's3://fleet-backups/carts' } }));
      const app = { username: plan.users.application, password: fleet.appPassword };
      fleet.start('node-0', 'redis');
      await fleet.waitReady('node-0', 'redis', 30);
      await withClient('127.0.9.43', PORT, app, (c) => writeDataset(c, 5_000));
      const source = await datasetOf('127.0.9.43', PORT, app);

      const taken = await fleet.agent('node-0', ['backup', 's3-set'], {}, 120_000);
      expect({ code: taken.code, out: taken.stdout.trim() }).toEqual({ code: 0, out: 's3://fleet-backups/carts/s3-set' });
      const again = await fleet.agent('node-0', ['backup', 's3-set'], {}, 120_000);
      expect({ code: again.code, out: again.stdout.trim(), said: /taken by another node/.test(again.stderr) }).toEqual({ code: 0, out: '', said: true });
      const listed = await runCommand('aws', ['s3', 'ls', 's3://fleet-backups/carts/s3-set/'], { env: { ...process.env, ...env } });
      expect(listed.stdout.split('\n').filter(Boolean).map((line) => line.trim().split(/\s+/).pop()).sort()).toEqual(['lock', 'shard-0.json', 'shard-0.rdb']);

      const restoredPlan = singlePlan('carts', '127.0.9.44');
      const restored = track(Fleet.create({ plan: restoredPlan, label: 'backup-s3-restored', env: { ...env, CACHEFLEET_RESTORE_FROM: 's3://fleet-backups/carts/s3-set' } }));
      restored.start('node-0', 'redis');
      await restored.waitReady('node-0', 'redis', 60);
      expect(datasetDifferences(source, await datasetOf('127.0.9.44', PORT, { username: restoredPlan.users.application, password: restored.appPassword }), 2_000)).toEqual([]);

      const missing = track(Fleet.create({ plan: singlePlan('carts', '127.0.9.45'), label: 'backup-s3-missing', env: { ...env, CACHEFLEET_RESTORE_FROM: 's3://fleet-backups/carts/no-such-set' } }));
      const { code, log } = await refusedStart(missing, 'node-0');
      expect(code).not.toBe(0);
      expect(code).not.toBeNull();
      expect(log).toContain('s3://fleet-backups/carts/no-such-set/shard-0.json');
    }, 240_000);
  });

  describe('scheduled backups in the window', () => {
    test('one a day, rotated: exactly snapshotRetentionLimit sets stay', async () => {
      // The window opened 5 minutes ago, on a whole minute: its day names the set, and the retention counts back from it.
      const start = new Date(Math.floor((Date.now() - 5 * 60_000) / 60_000) * 60_000);
      const end = new Date(Date.now() + 60 * 60_000);
      const hhmm = (d: Date) => d.toISOString().slice(11, 16);
      const plan = singlePlan('daily', '127.0.9.42', { snapshotRetentionLimit: 3, snapshotWindow: `${hhmm(start)}-${hhmm(end)}` });
      const daily = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-daily-'));
      const day = (offset: number) => new Date(start.getTime() - offset * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
      for (let offset = 1; offset <= 5; offset++) fs.mkdirSync(path.join(daily, `scheduled-${day(offset)}`));
      fs.mkdirSync(path.join(daily, 'manual-kept'));
      const fleet = track(Fleet.create({ plan, label: 'backup-daily', env: { CACHEFLEET_BACKUP_LOCATION: daily } }));
      fleet.start('node-0', 'redis');
      await fleet.waitReady('node-0', 'redis', 30);

      const first = await fleet.agent('node-0', ['backup-if-due'], {}, 120_000);
      expect(first.code).toBe(0);
      const second = await fleet.agent('node-0', ['backup-if-due'], {}, 120_000);
      expect(second.code).toBe(0);
      expect(fs.readdirSync(daily).sort()).toEqual(['manual-kept', `scheduled-${day(0)}`, `scheduled-${day(1)}`, `scheduled-${day(2)}`].sort());
      expect(manifest(daily, `scheduled-${day(0)}`)).toEqual(expect.objectContaining({ sourceRole: 'primary', keys: 0 }));
      expect((await fleet.agent('node-0', ['metrics'])).stdout).toMatch(/ BackupFailed=0$/m);

      // A location the node cannot write: the scheduled backup fails, and the metric says so.
      const blocked = path.join(daily, 'a-file');
      fs.writeFileSync(blocked, '');
      const failed = await fleet.agent('node-0', ['backup-if-due'], { CACHEFLEET_BACKUP_LOCATION: path.join(blocked, 'below') }, 120_000);
      expect(failed.code).toBe(1);
      expect((await fleet.agent('node-0', ['metrics'])).stdout).toMatch(/ BackupFailed=1$/m);
      fs.rmSync(blocked);
      await fleet.stopAll();

      // Outside its window a node takes nothing.
      const later = new Date(start.getTime() + 3 * 3_600_000);
      const closed = singlePlan('daily', '127.0.9.42', { snapshotRetentionLimit: 3, snapshotWindow: `${hhmm(later)}-${hhmm(new Date(later.getTime() + 3_600_000))}` });
      const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-closed-'));
      const idle = track(Fleet.create({ plan: closed, label: 'backup-closed', env: { CACHEFLEET_BACKUP_LOCATION: elsewhere } }));
      idle.start('node-0', 'redis');
      await idle.waitReady('node-0', 'redis', 30);
      expect((await idle.agent('node-0', ['backup-if-due'], {}, 60_000)).code).toBe(0);
      expect(fs.readdirSync(elsewhere)).toEqual([]);
      fs.rmSync(daily, { recursive: true, force: true });
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }, 180_000);
  });

  describe('cluster mode: 3 shards × 1 replica (Valkey 8.0)', () => {
    test('each shard backs up from its replica and restores onto its shard', async () => {
      const plan = clusterPlan('sessions', 100);
      const fleet = track(Fleet.create({ plan, label: 'backup-cluster', env: { CACHEFLEET_BACKUP_LOCATION: location } }));
      const app = { username: plan.users.application, password: fleet.appPassword };
      fleet.startAll();
      await fleet.withLogs(() => fleet.waitAllReady(120));
      const primaries = plan.slots.filter((s) => s.role === 'primary').map((s) => s.address);
      const seeds = primaries.map((host) => ({ host, port: PORT }));
      const client = new Cluster(seeds, { redisOptions: { username: app.username, password: app.password } });
      try {
        await writeDataset(client, 30_000);
      } finally {
        client.disconnect();
      }
      for (const primary of primaries) await withClient(primary, PORT, app, (c) => c.call('WAIT', 1, 30_000));
      const shardsBefore = await Promise.all(primaries.map((primary) => datasetOf(primary, PORT, app)));
      expect(shardsBefore.reduce((n, s) => n + s.size, 0)).toBe(30_000);

      const result = await fleet.agent('node-0', ['backup', 'cluster-1'], {}, 180_000);
      expect(result.code).toBe(0);
      for (let shard = 0; shard < 3; shard++) {
        const range = restoredRange(plan, shard);
        expect(manifest(location, 'cluster-1', shard)).toEqual(expect.objectContaining({ shards: 3, shard, slots: range, sourceRole: 'replica', keys: shardsBefore[shard].size }));
        const check = await runCommand('valkey-check-rdb', [path.join(location, 'cluster-1', `shard-${shard}.rdb`)], { timeoutMs: 60_000 });
        expect({ shard, code: check.code, ok: /RDB looks OK/.test(check.stdout + check.stderr) }).toEqual({ shard, code: 0, ok: true });
      }
      await fleet.dispose();

      // Shard 2's primary starts last. Until then shard 0's restored primary serves the slots of its
      // keys alone (the engine claims them as it loads them): no cluster yet. Neither the late
      // primary's restore nor the waiting replicas may take it for one and start the shard empty.
      const restoredPlan = clusterPlan('sessions', 150);
      const restored = track(Fleet.create({ plan: restoredPlan, label: 'backup-cluster-restored', env: { CACHEFLEET_RESTORE_FROM: `${location}/cluster-1` } }));
      const restoredApp = { username: restoredPlan.users.application, password: restored.appPassword };
      const restoredPrimaries = restoredPlan.slots.filter((s) => s.role === 'primary').map((s) => s.address);
      const latePrimary = restoredPlan.slots.find((s) => s.role === 'primary' && s.shard === 2)!;
      const clusterInfo = async (address: string) => infoFields(await withClient(address, PORT, restoredApp, (c) => c.call('CLUSTER', 'INFO')) as string);
      for (const slot of restoredPlan.slots) if (slot !== latePrimary) restored.start(slot, 'redis');
      const alone = 'the restored primaries of shards 0 and 1 serving their keys\' slots, and every replica answering';
      await restored.withLogs(() => waitFor(alone, async () => {
        const started = restoredPlan.slots.filter((s) => s !== latePrimary);
        const infos = await Promise.all(started.map(async (s) => [s.address, await clusterInfo(s.address)] as const));
        const assigned = new Map(infos.map(([address, info]) => [address, Number(info.cluster_slots_assigned)]));
        return restoredPrimaries.slice(0, 2).every((address) => assigned.get(address)! > 0);
      }, { timeoutMs: 120_000, intervalMs: 250 }));
      await sleep(3_000); // the waiting nodes' agents take a few passes (one a second) over that state
      restored.start(latePrimary, 'redis');
      await restored.withLogs(() => restored.waitAllReady(180));
      for (let shard = 0; shard < 3; shard++) {
        expect(datasetDifferences(shardsBefore[shard], await datasetOf(restoredPrimaries[shard], PORT, restoredApp), 2_000)).toEqual([]);
      }
      for (const slot of restoredPlan.slots) {
        const info = await clusterInfo(slot.address);
        expect({ node: slot.name, state: info.cluster_state, assigned: info.cluster_slots_assigned, known: info.cluster_known_nodes })
          .toEqual({ node: slot.name, state: 'ok', assigned: '16384', known: String(restoredPlan.slots.length) });
      }
      await restored.dispose();
    }, 600_000);
  });
});
