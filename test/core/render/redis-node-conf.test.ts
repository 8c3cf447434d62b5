import { directives, PLANS, REDIS_7, redisPlan } from './fixtures';
import { renderRedisNodeConf } from '../../../src/core/render/redis-node-conf';

describe('renderRedisNodeConf', () => {
  test('binds and announces the slot address, with the paths, memory and replication credentials of the node', () => {
    // GIVEN
    const plan = redisPlan({ engine: REDIS_7, dataAddresses: ['10.0.0.10', '10.0.1.10'], port: 6380 });

    // WHEN
    const lines = directives(renderRedisNodeConf(plan));

    // THEN
    expect(lines).toEqual([
      'bind {{address}}',
      'replica-announce-ip {{address}}',
      'replica-announce-port 6380',
      'dir "{{data-dir}}"',
      'aclfile "{{acl-file}}"',
      'maxmemory {{maxmemory}}',
      'masteruser cachefleet-replication',
      'masterauth "{{internal-password}}"',
    ]);
  });

  test('a standalone node carries the same directives (a group may later replicate it)', () => {
    expect(directives(renderRedisNodeConf(PLANS.standalone()))).toContain('masteruser cachefleet-replication');
  });

  test('no role, pid file or daemon setting: the agent decides the role, the process stays in the foreground', () => {
    expect(renderRedisNodeConf(PLANS.replicationGroup())).not.toMatch(/^(replicaof|slaveof|pidfile|daemonize) /m);
  });

  test('the header has no placeholder', () => {
    expect(renderRedisNodeConf(PLANS.replicationGroup()).split('\n')[0]).toBe('# cachefleet: a data node of "sessions"; the node agent fills its placeholders at boot.');
  });

  test('refuses a Memcached plan', () => {
    expect(() => renderRedisNodeConf(PLANS.memcached())).toThrow('redis-node.conf is not part of a memcached fleet');
  });
});
