import { PLANS } from './fixtures';
import { BUNDLE_FILES, renderBundle, slotEnvPath } from '../../../src/core/render/bundle';
import { renderSlotEnv } from '../../../src/core/render/env-files';
import { renderRedisConf } from '../../../src/core/render/redis-conf';

describe('renderBundle', () => {
  test('a replication group: env files, engine files and sentinel.conf', () => {
    expect(Object.keys(renderBundle(PLANS.withSentinelSlot())).sort()).toEqual([
      'fleet.env',
      'live-parameters',
      'redis-node.conf',
      'redis.conf',
      'sentinel.conf',
      'slots/node-0.env',
      'slots/node-1.env',
      'slots/sentinel-0.env',
      'users.acl',
    ]);
  });

  test('standalone: no sentinel.conf', () => {
    expect(Object.keys(renderBundle(PLANS.standalone())).sort()).toEqual(['fleet.env', 'live-parameters', 'redis-node.conf', 'redis.conf', 'slots/node-0.env', 'users.acl']);
  });

  test('Memcached: memcached.args and no Redis file', () => {
    expect(Object.keys(renderBundle(PLANS.memcached())).sort()).toEqual([
      'fleet.env',
      'memcached.args',
      'slots/node-0.env',
      'slots/node-1.env',
      'slots/node-2.env',
    ]);
  });

  test('each file is its renderer\'s output', () => {
    const plan = PLANS.replicationGroup();
    const bundle = renderBundle(plan);
    expect(bundle[BUNDLE_FILES.redisConf]).toBe(renderRedisConf(plan));
    expect(bundle[slotEnvPath('node-2')]).toBe(renderSlotEnv(plan, plan.slots[2]));
  });

  test('is pure: the same plan renders the same bundle', () => {
    expect(renderBundle(PLANS.replicationGroup())).toEqual(renderBundle(PLANS.replicationGroup()));
  });
});
