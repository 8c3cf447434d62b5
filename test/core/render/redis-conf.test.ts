import { directives, PLANS, REDIS_6, REDIS_7, redisPlan, VALKEY_8 } from './fixtures';
import { Persistence } from '../../../src/core/persistence';
import { renderRedisConf } from '../../../src/core/render/redis-conf';

const ADDRESSES = ['10.0.0.10', '10.0.1.10'];

describe('renderRedisConf', () => {
  test('the fixed directives, persistence, then the parameters in their order', () => {
    // GIVEN
    const plan = redisPlan({
      dataAddresses: ADDRESSES,
      port: 6380,
      engineParameters: [
        ['maxmemory-policy', 'allkeys-lru'],
        ['notify-keyspace-events', 'Ex'],
        ['client-output-buffer-limit', 'replica 512mb 128mb 60'],
      ],
    });

    // WHEN
    const text = renderRedisConf(plan);

    // THEN
    expect(directives(text)).toEqual([
      'port 6380',
      'protected-mode no',
      'daemonize no',
      'logfile ""',
      'enable-debug-command yes',
      'enable-module-command yes',
      'enable-protected-configs yes',
      'appendonly yes',
      'appendfsync everysec',
      'save ""',
      'maxmemory-policy allkeys-lru',
      'notify-keyspace-events Ex',
      'client-output-buffer-limit replica 512mb 128mb 60',
    ]);
  });

  test('DEBUG, MODULE and protected CONFIG are left to the ACL (the admin user) from Redis 7.0 on; Redis 6.2 has no such gate', () => {
    const gates = (engine: typeof REDIS_6) => directives(renderRedisConf(redisPlan({ engine, dataAddresses: ADDRESSES })))
      .filter((l) => l.startsWith('enable-'));
    const all = ['enable-debug-command yes', 'enable-module-command yes', 'enable-protected-configs yes'];
    expect(gates(REDIS_7)).toEqual(all);
    expect(gates(VALKEY_8)).toEqual(all);
    // Redis 6.2 would refuse to start on a directive it does not know.
    expect(gates(REDIS_6)).toEqual([]);
  });

  test('holds no address, no path, no secret and no placeholder', () => {
    const text = renderRedisConf(PLANS.replicationGroup());
    expect(text).not.toMatch(/10\.0\.|\{\{|^(bind|dir|aclfile|masterauth|requirepass|include|user) /m);
  });

  test('the header names the fleet and the engine', () => {
    expect(renderRedisConf(PLANS.replicationGroup()).split('\n')[0]).toBe(
      '# cachefleet: engine configuration of the data nodes of "sessions" (valkey 8.0.2).',
    );
  });

  test('an empty value is written as ""', () => {
    const plan = redisPlan({ dataAddresses: ADDRESSES, engineParameters: [['notify-keyspace-events', '']] });
    expect(directives(renderRedisConf(plan))).toContain('notify-keyspace-events ""');
  });

  test('a value cannot start another directive', () => {
    const plan = redisPlan({ dataAddresses: ADDRESSES, engineParameters: [['maxmemory-policy', 'noeviction\nrequirepass x']] });
    const lines = directives(renderRedisConf(plan));
    expect(lines).toContain('maxmemory-policy "noeviction\\nrequirepass x"');
    expect(lines.some((l) => l.startsWith('requirepass'))).toBe(false);
  });

  test('plan.persistence wins: engine parameters named appendonly, appendfsync or save are skipped', () => {
    // GIVEN
    const plan = redisPlan({
      dataAddresses: ADDRESSES,
      persistence: Persistence.rdb({ saveRules: '900 1' }),
      engineParameters: [
        ['appendonly', 'yes'],
        ['appendfsync', 'always'],
        ['save', '60 1'],
        ['aof-use-rdb-preamble', 'no'],
        ['timeout', '300'],
      ],
    });

    // WHEN
    const lines = directives(renderRedisConf(plan));

    // THEN
    expect(lines.filter((l) => /^(appendonly|appendfsync|save) /.test(l))).toEqual(['appendonly no', 'save 900 1']);
    // Other persistence settings are ordinary parameters.
    expect(lines).toContain('aof-use-rdb-preamble no');
    expect(lines).toContain('timeout 300');
  });

  test.each(['port', 'bind', 'dir', 'aclfile', 'maxmemory', 'masterauth', 'masteruser', 'replica-announce-ip', 'include', 'user', 'requirepass', 'replicaof', 'slaveof', 'protected-mode', 'enable-debug-command', 'enable-module-command', 'enable-protected-configs'])(
    'a parameter named %s is a planner bug',
    (name) => {
      const plan = redisPlan({ dataAddresses: ADDRESSES, engineParameters: [[name, 'x']] });
      expect(() => renderRedisConf(plan)).toThrow(`engine parameter "${name}" of fleet "sessions" names a directive the renderers set`);
    },
  );

  test('a parameter given twice is a planner bug', () => {
    const plan = redisPlan({ dataAddresses: ADDRESSES, engineParameters: [['timeout', '1'], ['timeout', '2']] });
    expect(() => renderRedisConf(plan)).toThrow('engine parameter "timeout" of fleet "sessions" appears twice');
  });

  test('client-output-buffer-limit takes one line per client class, each class once', () => {
    const limits: Array<[string, string]> = [
      ['client-output-buffer-limit', 'normal 0 0 0'],
      ['client-output-buffer-limit', 'replica 268435456 67108864 60'],
    ];
    expect(directives(renderRedisConf(redisPlan({ dataAddresses: ADDRESSES, engineParameters: limits })))).toEqual(
      expect.arrayContaining(['client-output-buffer-limit normal 0 0 0', 'client-output-buffer-limit replica 268435456 67108864 60']),
    );
    const twice = redisPlan({ dataAddresses: ADDRESSES, engineParameters: [...limits, ['client-output-buffer-limit', 'normal 1 1 1']] });
    expect(() => renderRedisConf(twice)).toThrow('engine parameter "client-output-buffer-limit normal" of fleet "sessions" appears twice');
  });

  test('the planner\'s plan: every catalog parameter once, persistence from the plan', () => {
    const lines = directives(renderRedisConf(PLANS.replicationGroup()));
    expect(lines.filter((l) => /^(appendonly|appendfsync|save) /.test(l))).toEqual(['appendonly yes', 'appendfsync everysec', 'save ""']);
    expect(lines).toEqual(expect.arrayContaining(['min-replicas-to-write 1', 'min-replicas-max-lag 8', 'notify-keyspace-events ""', 'maxmemory-policy volatile-lru']));
  });

  test('refuses a Memcached plan', () => {
    expect(() => renderRedisConf(PLANS.memcached())).toThrow('redis.conf is not part of a memcached fleet');
  });

  test.each(Object.entries(PLANS).filter(([name]) => name !== 'memcached'))('snapshot: %s', (_, plan) => {
    expect(renderRedisConf(plan())).toMatchSnapshot();
  });
});
