import { BACKUP_LIMITS, parseSnapshotWindow } from '../../src/core/backup';
import { CacheEngine, MemcachedEngineVersion, RedisEngineVersion } from '../../src/core/engine';
import { ClusterMode } from '../../src/core/fleet-options';
import { renderFleetEnv } from '../../src/core/render/env-files';
import { planFleet } from '../../src/core/topology';
import { validateCacheClusterOptions, validateReplicationGroupOptions } from '../../src/core/validation';
import { thrown } from '../shared/thrown';

const redis = CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 });
const memcached = CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 });

function fleetEnv(props: { snapshotRetentionLimit?: number; snapshotWindow?: string }): Record<string, string> {
  const fleet = validateReplicationGroupOptions({ engine: redis, ...props });
  const plan = planFleet({ name: 'orders', fleet, zoneCount: 3, addressOf: (p) => `10.0.0.${10 + p.index}` });
  return Object.fromEntries(renderFleetEnv(plan).split('\n').filter((line) => line.startsWith('CF_BACKUP_')).map((line) => {
    const [name, value] = line.split('=');
    return [name, value.replace(/'/g, '')];
  }));
}

describe('scheduled backups, as core plans them', () => {
  test('the window in minutes after midnight UTC, a window past midnight included', () => {
    expect(parseSnapshotWindow('snapshotWindow', '03:00-04:00')).toEqual({ startMinute: 180, minutes: 60 });
    expect(parseSnapshotWindow('snapshotWindow', '23:30-00:45')).toEqual({ startMinute: 1410, minutes: 75 });
  });

  test('the node gets the retention and the window; no backup props, no schedule', () => {
    expect(fleetEnv({ snapshotRetentionLimit: 7, snapshotWindow: '23:30-00:45' })).toEqual({
      CF_BACKUP_RETENTION_DAYS: '7', CF_BACKUP_WINDOW_START: '1410', CF_BACKUP_WINDOW_MINUTES: '75',
    });
    expect(fleetEnv({ snapshotRetentionLimit: 400 })).toEqual({
      CF_BACKUP_RETENTION_DAYS: '400', CF_BACKUP_WINDOW_START: '180', CF_BACKUP_WINDOW_MINUTES: '60',
    });
    expect(fleetEnv({})).toEqual({ CF_BACKUP_RETENTION_DAYS: '0', CF_BACKUP_WINDOW_START: '', CF_BACKUP_WINDOW_MINUTES: '' });
  });

  test('cluster mode and a single node take the same props', () => {
    expect(validateReplicationGroupOptions({ engine: redis, clusterMode: ClusterMode.ENABLED, snapshotRetentionLimit: 1 }).backup)
      .toEqual({ retentionDays: 1, windowStartMinute: 180, windowMinutes: 60, window: BACKUP_LIMITS.defaultWindow });
    expect(validateCacheClusterOptions({ engine: redis, snapshotWindow: '10:00-11:30' }).backup)
      .toEqual({ retentionDays: 0, windowStartMinute: 600, windowMinutes: 90, window: '10:00-11:30' });
  });

  test.each([
    [{ snapshotWindow: '3:00-4:00' }, 'snapshotWindow', "must be a daily UTC window `hh:mm-hh:mm` of at least 60 minutes (such as '03:00-04:00'), got: \"3:00-4:00\""],
    [{ snapshotWindow: '03:00-03:59' }, 'snapshotWindow', "must be a daily UTC window `hh:mm-hh:mm` of at least 60 minutes (such as '03:00-04:00'), got: \"03:00-03:59\""],
    [{ snapshotWindow: '24:00-01:00' }, 'snapshotWindow', "must be a daily UTC window `hh:mm-hh:mm` of at least 60 minutes (such as '03:00-04:00'), got: \"24:00-01:00\""],
    [{ snapshotRetentionLimit: -1 }, 'snapshotRetentionLimit', 'must be a whole number of days from 0 (no scheduled backup) to 36500, got: -1'],
    [{ snapshotRetentionLimit: 1.5 }, 'snapshotRetentionLimit', 'must be a whole number of days from 0 (no scheduled backup) to 36500, got: 1.5'],
  ])('%j is refused, naming the prop', (props, prop, message) => {
    const error = thrown(() => validateReplicationGroupOptions({ engine: redis, ...props }));
    expect({ prop: error.propPath, message: error.message }).toEqual({ prop, message: `\`${prop}\` ${message}` });
  });

  test.each([
    [{ snapshotRetentionLimit: 7 }, 'snapshotRetentionLimit'],
    [{ snapshotWindow: '03:00-04:00' }, 'snapshotWindow'],
  ])('Memcached: %j is refused, naming the prop', (props, prop) => {
    const error = thrown(() => validateCacheClusterOptions({ engine: memcached, numCacheNodes: 2, ...props }));
    expect({ prop: error.propPath, allowed: error.allowed }).toEqual({ prop, allowed: 'must be unset for Memcached, which keeps no data to back up' });
  });
});
