import { directives, PLANS, REDIS_6, REDIS_7, redisPlan, VALKEY_8 } from './fixtures';
import { CacheEngine, RedisEngineVersion } from '../../../src/core/engine';
import { renderSentinelConf } from '../../../src/core/render/sentinel-conf';

const REDIS_72 = CacheEngine.redis({ version: RedisEngineVersion.VER_7_2 });

/** What a Sentinel-aware client may send a sentinel: discovery and events, nothing that changes it. */
const CLIENT_RULES = '+ping +auth +hello +command +info +role +client|setname +client|getname +client|id ' +
  '+subscribe +psubscribe +unsubscribe +punsubscribe +sentinel|get-master-addr-by-name +sentinel|masters +sentinel|master ' +
  '+sentinel|replicas +sentinel|slaves +sentinel|sentinels +sentinel|ckquorum';

describe('renderSentinelConf', () => {
  test('a replication group: listen, announce, users, then the monitored primary and its settings', () => {
    // GIVEN
    const plan = redisPlan({
      name: 'orders',
      dataAddresses: ['10.0.0.10', '10.0.1.10'],
      sentinelOnlyAddresses: ['10.0.2.10'],
      port: 6380,
      sentinelPort: 26380,
      sentinel: { quorum: 2, downAfterMillis: 1500, failoverTimeoutMillis: 10_000, parallelSyncs: 1 },
      applicationUser: 'svc',
    });

    // WHEN
    const lines = directives(renderSentinelConf(plan));

    // THEN
    expect(lines).toEqual([
      'port 26380',
      'bind {{address}}',
      'daemonize no',
      'logfile ""',
      'dir "{{sentinel-dir}}"',
      'sentinel announce-ip {{address}}',
      'sentinel announce-port 26380',
      'sentinel resolve-hostnames no',
      'sentinel announce-hostnames no',
      'sentinel deny-scripts-reconfig yes',
      // Valkey (the fixtures' engine) has CLIENT SETINFO.
      `user default on #{{app-password-sha256}} resetchannels &* -@all ${CLIENT_RULES} +client|setinfo`,
      `user svc on #{{app-password-sha256}} resetchannels &* -@all ${CLIENT_RULES} +client|setinfo`,
      'user cachefleet-admin on #{{admin-password-sha256}} ~* &* +@all',
      'user cachefleet-sentinel on #{{internal-password-sha256}} resetkeys resetchannels &__sentinel__:hello -@all ' +
        '+ping +client|setname +publish +sentinel|is-master-down-by-addr',
      'sentinel sentinel-user cachefleet-sentinel',
      'sentinel sentinel-pass "{{internal-password}}"',
      'sentinel monitor orders 10.0.0.10 6380 2',
      'sentinel down-after-milliseconds orders 1500',
      'sentinel failover-timeout orders 10000',
      'sentinel parallel-syncs orders 1',
      'sentinel auth-user orders cachefleet-sentinel',
      'sentinel auth-pass orders "{{internal-password}}"',
      'sentinel client-reconfig-script orders "{{on-failover-hook}}"',
    ]);
  });

  test('monitors the slot that starts as primary, with the plan\'s timings', () => {
    // GIVEN
    const base = redisPlan({ dataAddresses: ['10.0.0.10', '10.0.1.10', '10.0.2.10'], sentinel: { quorum: 3, downAfterMillis: 5000, parallelSyncs: 2 } });
    const plan = { ...base, slots: base.slots.map((slot) => ({ ...slot, role: slot.index === 1 ? 'primary' as const : 'replica' as const })) };

    // WHEN
    const lines = directives(renderSentinelConf(plan));

    // THEN
    expect(lines).toContain('sentinel monitor sessions 10.0.1.10 6379 3');
    expect(lines).toContain('sentinel down-after-milliseconds sessions 5000');
    expect(lines).toContain('sentinel parallel-syncs sessions 2');
  });

  test('CLIENT SETINFO (sent by ioredis on connect) for the engines that have it: Valkey, Redis 7.2 on; not Redis 7.0 or 6.2', () => {
    const appOnSentinels = (engine: typeof REDIS_7) =>
      directives(renderSentinelConf(redisPlan({ engine, dataAddresses: ['10.0.0.10', '10.0.1.10'] }))).filter((l) => / #\{\{app-password-sha256\}\} /.test(l));
    for (const line of appOnSentinels(VALKEY_8)) expect(line).toMatch(/ \+client\|setinfo$/);
    for (const line of appOnSentinels(REDIS_72)) expect(line).toMatch(/ \+client\|setinfo$/);
    for (const line of [...appOnSentinels(REDIS_7), ...appOnSentinels(REDIS_6)]) expect(line).not.toContain('setinfo');
  });

  test('the AUTH token and the admin password appear only as hashes', () => {
    const text = renderSentinelConf(PLANS.replicationGroup());
    expect(text).not.toContain('{{app-password}}');
    expect(text).not.toContain('{{admin-password}}');
  });

  test('the AUTH token opens no administration: only the admin user may fail over, reconfigure or stop a sentinel', () => {
    const users = directives(renderSentinelConf(PLANS.replicationGroup())).filter((l) => l.startsWith('user '));
    const withAppToken = users.filter((l) => l.includes('#{{app-password-sha256}}'));
    expect(withAppToken.map((l) => l.split(' ')[1])).toEqual(['default', 'app']);
    for (const rules of withAppToken) {
      expect(rules).toContain(' -@all ');
      expect(rules).not.toMatch(/\+@all|\+sentinel( |$)|\+sentinel\|(failover|set|remove|monitor|reset|config|debug|flushconfig)|\+shutdown|\+acl|\+publish/);
    }
    expect(users.filter((l) => / \+@all$/.test(l))).toEqual(['user cachefleet-admin on #{{admin-password-sha256}} ~* &* +@all']);
  });

  test('a group without failover has no sentinel.conf', () => {
    expect(() => renderSentinelConf(PLANS.standalone())).toThrow('fleet "one" has no sentinel: it does not fail over');
  });

  test('refuses a Memcached plan', () => {
    expect(() => renderSentinelConf(PLANS.memcached())).toThrow('sentinel.conf is not part of a memcached fleet');
  });

  test.each([['replicationGroup', PLANS.replicationGroup], ['withSentinelSlot', PLANS.withSentinelSlot]])('snapshot: %s', (_, plan) => {
    expect(renderSentinelConf(plan())).toMatchSnapshot();
  });
});
