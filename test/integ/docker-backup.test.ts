import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import { describeInteg, needsBinaries } from './support/binaries';
import { withClient } from './support/clients';
import { datasetDifferences, datasetOf, writeDataset } from './support/dataset';
import { allHealthy, primaryBySentinels, sentinelsSettled } from './support/docker-group';
import { runCommand, waitFor } from './support/processes';
import { TerraformContainers } from './support/terraform-json';
import { CacheEngine, RedisEngineVersion } from '../../src/core/engine';
import { ReplicationGroup } from '../../src/docker';
import { dockerStack } from '../docker/synth';

/**
 * The Docker flavor's backups, from the synthesized Terraform JSON to running servers: the host
 * folder of `backupPath` mounted into the data nodes, an on-demand backup through
 * the nodes' own scheduled backup in the window (one set, whichever node claims it), and
 * `docker exec <node> cachefleet-launch backup <name>`, then a new fleet created with
 * `restoreFrom` (the set's folder, mounted read-only) holding every key. Passwords come from a host
 * directory (`secretsHostPath`), so no Terraform variable is needed. Addresses 127.0.11.10–14 (the
 * fleet backed up) and 127.0.11.20–24 (the fleet restored), the containers in the JSON's order
 * (test/integ/README.md).
 */
jest.setTimeout(300_000);

const SECRETS = '/etc/cachefleet/orders';
const BACKUPS = '/var/backups/orders';
const TOKEN = { app: 'Orders-Backup_Token-1234', admin: 'Orders-Backup_Admin-1234' };
const KEYS = 20_000;

/** The daily window around now (UTC), so that the nodes take today's scheduled backup at once. */
function windowAroundNow(): string {
  const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
  return `${hhmm(Date.now() - 5 * 60_000)}-${hhmm(Date.now() + 60 * 60_000)}`;
}

function synthesize(restoreFrom?: string): string {
  const stack = dockerStack();
  new ReplicationGroup(stack, 'Orders', {
    engine: CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 }),
    publishPorts: false,
    secretsHostPath: SECRETS,
    snapshotRetentionLimit: 7,
    snapshotWindow: windowAroundNow(),
    backupPath: BACKUPS,
    restoreFrom,
  });
  return Testing.synth(stack);
}

function addresses(first: number): string[] {
  return Array.from({ length: 5 }, (_, i) => `127.0.11.${first + i}`);
}

describeInteg('Docker flavor: backups to a host folder, and a fleet restored from one', () => {
  needsBinaries(['redis-server', 'redis-cli', 'redis-check-rdb', 'sha256sum']);
  const app = { username: 'app', password: TOKEN.app };
  let secrets: string;
  let backups: string;
  const fleets: TerraformContainers[] = [];

  beforeAll(() => {
    secrets = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-backup-secrets-'));
    fs.chmodSync(secrets, 0o700);
    fs.writeFileSync(path.join(secrets, 'app-password'), `${TOKEN.app}\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(secrets, 'admin-password'), `${TOKEN.admin}\n`, { mode: 0o600 });
    backups = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-backup-folder-'));
  });

  afterAll(async () => {
    for (const fleet of fleets) await fleet.dispose();
    for (const dir of [secrets, backups]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function run(json: string, hostPaths: Record<string, string>, first: number, label: string): Promise<TerraformContainers> {
    const fleet = TerraformContainers.prepare(json, { variables: {}, hostPaths }, addresses(first), label);
    fleets.push(fleet);
    for (const container of fleet.containers) fleet.start(container.name);
    await allHealthy(fleet);
    await sentinelsSettled(fleet, 'orders', TOKEN.app, 1);
    return fleet;
  }

  test('docker exec … backup takes the set from the replica into the host folder; a new fleet restored from it holds every key', async () => {
    const source = await run(synthesize(), { [SECRETS]: secrets, [BACKUPS]: backups }, 10, 'docker-backup');
    const primary = await primaryBySentinels(source, 'orders', TOKEN.app);
    await withClient(primary.split(':')[0], 6379, app, async (client) => {
      client.options.commandTimeout = 60_000;
      await writeDataset(client, KEYS);
      expect(await client.call('WAIT', 1, 30_000)).toBe(1);
    });
    const before = await datasetOf(primary.split(':')[0], 6379, app);

    // Both data nodes look for today's scheduled backup beside their engine: one takes it.
    const scheduled = await waitFor('the scheduled backup', () => {
      const sets = fs.readdirSync(backups).filter((name) => name.startsWith('scheduled-'));
      return sets.length > 0 && fs.existsSync(path.join(backups, sets[0], 'shard-0.json')) && sets;
    }, { timeoutMs: 120_000, intervalMs: 500 });
    expect(scheduled).toHaveLength(1);
    expect(fs.readdirSync(path.join(backups, scheduled[0])).sort()).toEqual(['lock', 'shard-0.json', 'shard-0.rdb']);

    const node = source.labelled('cachefleet.service', 'redis')[0];
    const taken = await source.exec(node.name, ['backup', 'docker-1']);
    expect({ code: taken.code, stderr: taken.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    const manifest = JSON.parse(fs.readFileSync(path.join(backups, 'docker-1', 'shard-0.json'), 'utf8'));
    expect(manifest).toEqual(expect.objectContaining({ fleet: 'orders', shards: 1, keys: KEYS, sourceRole: 'replica' }));
    expect(fs.statSync(path.join(backups, 'docker-1', 'shard-0.rdb')).size).toBe(manifest.size);
    const check = await runCommand('redis-check-rdb', [path.join(backups, 'docker-1', 'shard-0.rdb')], { timeoutMs: 60_000 });
    expect({ code: check.code, ok: /RDB looks OK/.test(check.stdout + check.stderr) }).toEqual({ code: 0, ok: true });
    await source.dispose();

    const setOnHost = `${BACKUPS}/docker-1`;
    const restored = await run(synthesize(setOnHost), { [SECRETS]: secrets, [BACKUPS]: backups, [setOnHost]: path.join(backups, 'docker-1') }, 20, 'docker-restored');
    const restoredPrimary = (await primaryBySentinels(restored, 'orders', TOKEN.app)).split(':')[0];
    expect(datasetDifferences(before, await datasetOf(restoredPrimary, 6379, app), 2_000)).toEqual([]);
  });
});
