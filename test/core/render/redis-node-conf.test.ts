import { directives, plannedWithParameters, PLANS, REDIS_7, redisPlan } from './fixtures';
import { renderLiveParameters } from '../../../src/core/render/live-parameters';
import { renderRedisConf } from '../../../src/core/render/redis-conf';
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
      'client-output-buffer-limit replica {{replica-output-buffer-hard}} {{replica-output-buffer-soft}} 60',
      'masteruser cachefleet-replication',
      'masterauth "{{internal-password}}"',
    ]);
  });

  test('the replicas\' output-buffer limit: sized by the node unless the parameter group sets it, then redis.conf\'s alone', () => {
    const fitted = plannedWithParameters({});
    expect(fitted.replicaOutputBufferFromMemory).toBe(true);
    expect(renderRedisConf(fitted)).not.toMatch(/^client-output-buffer-limit replica /m);
    expect(renderRedisConf(fitted)).toMatch(/^client-output-buffer-limit normal 0 0 0$/m);
    expect(renderLiveParameters(fitted)).not.toMatch(/client-output-buffer-limit\treplica /);
    for (const name of ['client-output-buffer-limit-replica-hard-limit', 'client-output-buffer-limit-replica-soft-limit', 'client-output-buffer-limit-replica-soft-seconds']) {
      const set = plannedWithParameters({ [name]: name.endsWith('seconds') ? '30' : '134217728' });
      expect({ name, fromMemory: set.replicaOutputBufferFromMemory }).toEqual({ name, fromMemory: false });
      expect(renderRedisNodeConf(set)).not.toMatch(/client-output-buffer-limit/);
      expect(renderRedisConf(set)).toMatch(/^client-output-buffer-limit replica \d+ \d+ \d+$/m);
    }
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
