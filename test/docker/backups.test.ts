import { containersByName, dockerStack, slotContainersByName, synthJson } from './synth';
import { CacheEngine, MemcachedEngineVersion, RedisEngineVersion } from '../../src/core/engine';
import { CacheCluster, ReplicationGroup } from '../../src/docker';
import { CONTAINER_PATHS } from '../../src/docker/private/fleet';
import { thrown } from '../shared/thrown';

/**
 * Backups in the Docker flavor: the host folder of `backupPath` mounted into every data node as the
 * agent's backup location, the set of `restoreFrom` mounted read-only as its restore source.
 */

const redis = CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 });
const memcached = CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 });

describe('docker backups', () => {
  test('backupPath and restoreFrom reach every data node, and no sentinel', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Orders', {
      engine: redis,
      snapshotRetentionLimit: 7,
      backupPath: '/var/backups/orders',
      restoreFrom: '/var/backups/orders/scheduled-20261201',
    });
    const containers = slotContainersByName(synthJson(stack));
    const data = Object.entries<any>(containers).filter(([, c]) => c.command[1] === 'redis');
    const sentinels = Object.entries<any>(containers).filter(([, c]) => c.command[1] === 'sentinel');
    expect(data.length).toBe(2);
    expect(sentinels.length).toBeGreaterThan(0);
    for (const [, container] of data) {
      expect(container.env).toEqual(expect.arrayContaining([
        `CACHEFLEET_BACKUP_LOCATION=${CONTAINER_PATHS.backups}`,
        `CACHEFLEET_RESTORE_FROM=${CONTAINER_PATHS.restore}`,
      ]));
      expect(container.volumes).toEqual(expect.arrayContaining([
        { host_path: '/var/backups/orders', container_path: CONTAINER_PATHS.backups },
        { host_path: '/var/backups/orders/scheduled-20261201', container_path: CONTAINER_PATHS.restore, read_only: true },
      ]));
    }
    for (const [, container] of sentinels) {
      expect(container.env.filter((e: string) => /BACKUP|RESTORE/.test(e))).toEqual([]);
      expect(container.volumes.filter((v: any) => v.host_path !== undefined)).toEqual([]);
    }
  });

  test('without backupPath no container mounts a backup folder', () => {
    const stack = dockerStack();
    new CacheCluster(stack, 'Single', { engine: redis });
    for (const container of Object.values<any>(containersByName(synthJson(stack)))) {
      expect((container.env ?? []).filter((e: string) => /BACKUP_LOCATION|RESTORE_FROM/.test(e))).toEqual([]);
    }
  });

  test.each([
    ['a retention without a folder', { engine: redis, snapshotRetentionLimit: 3 }, 'backupPath', 'must be set when snapshotRetentionLimit is above 0 (it is 3): the directory of the Docker host where the scheduled backups go'],
    ['a relative folder', { engine: redis, backupPath: 'relative/dir' }, 'backupPath', 'must be an absolute directory path of the Docker host other than "/", without "..", commas, colons or control characters, such as "/var/backups/sessions"'],
    ['a path that climbs', { engine: redis, restoreFrom: '/var/backups/../etc' }, 'restoreFrom', 'must be an absolute directory path of the Docker host other than "/", without "..", commas, colons or control characters, such as "/var/backups/sessions/scheduled-20261201"'],
    ['Memcached with a backup folder', { engine: memcached, backupPath: '/var/backups/pages' }, 'backupPath', 'must be unset for Memcached, which keeps no data to back up'],
    ['Memcached with a restore', { engine: memcached, restoreFrom: '/var/backups/pages/x' }, 'restoreFrom', 'must be unset for Memcached, which keeps no data to back up'],
  ])('%s is refused, naming the construct and the prop', (_title, props, prop, allowed) => {
    const error = thrown(() => new CacheCluster(dockerStack(), 'Single', props));
    expect({ prop: error.propPath, allowed: error.allowed, path: error.constructPath }).toEqual({ prop, allowed, path: expect.stringContaining('Single') });
  });
});
