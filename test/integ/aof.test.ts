import * as fs from 'fs';
import * as path from 'path';
import { describeInteg, needsBinaries } from './support/binaries';
import { command, connect, Credentials } from './support/clients';
import { Fleet } from './support/fleet';
import { standalonePlan } from './support/plans';
import { CacheEngine, RedisEngineVersion } from '../../src/core/engine';
import { Persistence } from '../../src/core/persistence';

/**
 * A single Redis node with an append-only file keeps every acknowledged write across a kill -9
 * and a restart by the agent; `backup` streams its RDB. Address 127.0.0.41 only (the cases run one
 * after the other).
 */
describeInteg('a single Redis 7.0 node with AOF', () => {
  const address = '127.0.0.41';
  const engine = CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 });

  needsBinaries(['redis-server', 'redis-cli']);

  describe.each([
    { fsync: 'everysec', persistence: Persistence.aofEverySecond() },
    { fsync: 'always', persistence: Persistence.aofAlways() },
  ])('appendfsync $fsync', ({ fsync, persistence }) => {
    const plan = standalonePlan(`aof-${fsync}`, engine, address, persistence);
    let fleet: Fleet;
    let app: Credentials;
    let admin: Credentials;

    beforeAll(async () => {
      fleet = Fleet.create({ plan, label: `aof-${fsync}` });
      app = { username: plan.users.application, password: fleet.appPassword };
      // CONFIG is the admin user's: the application user may not read the engine's configuration.
      admin = { username: plan.users.admin, password: fleet.adminPassword };
      fleet.start('node-0', 'redis');
      await fleet.waitReady('node-0', 'redis', 30);
    }, 60_000);

    afterAll(async () => {
      await fleet?.dispose();
    }, 30_000);

    test('acknowledged writes survive kill -9 and a restart by the agent', async () => {
      const config = (await command(address, 6379, admin, 'CONFIG', 'GET', 'append*')) as string[];
      expect(config).toEqual(expect.arrayContaining(['appendonly', 'yes', 'appendfsync', fsync]));

      const client = await connect(address, 6379, app);
      const written = 2_000;
      try {
        for (let i = 0; i < written; i++) expect(await client.set(`k:${i}`, `v${i}`)).toBe('OK');
        expect(await client.incrby('counter', written)).toBe(written);
      } finally {
        client.disconnect();
      }

      const node = fleet.process('node-0', 'redis');
      node.signal('SIGKILL');
      await node.exited;
      fleet.start('node-0', 'redis');
      await fleet.waitReady('node-0', 'redis', 30);

      expect(await command(address, 6379, app, 'DBSIZE')).toBe(written + 1);
      expect(await command(address, 6379, app, 'GET', 'counter')).toBe(String(written));
      const keys = Array.from({ length: written }, (_, i) => `k:${i}`);
      const values = (await command(address, 6379, app, 'MGET', ...keys)) as string[];
      expect(values.filter((v, i) => v !== `v${i}`)).toEqual([]);
    }, 90_000);

    test('backup: the RDB streamed from the node (it has no replica) into the backup location', async () => {
      const location = path.join(fleet.root, 'backups');
      const result = await fleet.agent('node-0', ['backup'], { CACHEFLEET_BACKUP_LOCATION: location });
      expect(result.code).toBe(0);
      const set = result.stdout.trim();
      expect(set).toMatch(new RegExp(`^${location}/manual-\\d{8}t\\d{6}z$`));
      expect(fs.readFileSync(path.join(set, 'shard-0.rdb')).subarray(0, 5).toString()).toBe('REDIS');
      expect(JSON.parse(fs.readFileSync(path.join(set, 'shard-0.json'), 'utf8'))).toEqual(expect.objectContaining({ sourceRole: 'primary', keys: 2_001 }));
    }, 30_000);

    test('backup without a backup location: refused, saying where one comes from', async () => {
      const result = await fleet.agent('node-0', ['backup']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('the fleet has no backup location');
    }, 30_000);
  });
});
