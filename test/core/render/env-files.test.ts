import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PLANS, redisPlan, REDIS_6 } from './fixtures';
import { renderFleetEnv, renderSlotEnv, shellQuote, tokenCharacters } from '../../../src/core/render/env-files';
import { NODE_OPEN_FILES } from '../../../src/core/render/plan-facts';
import { AUTH_TOKEN_RULE } from '../../../src/core/validation';

/** Sources a file with the real shell and prints the named variables, one per line. */
function source(text: string, names: string[]): Record<string, string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-env-'));
  try {
    const file = path.join(dir, 'vars.env');
    fs.writeFileSync(file, text);
    const script = `set -eu; . "$1"; ${names.map((name) => `printf '%s\\0' "$${name}"`).join('; ')}`;
    const out = execFileSync('/bin/sh', ['-c', script, 'sh', file], { encoding: 'utf8' });
    const values = out.split('\0');
    return Object.fromEntries(names.map((name, i) => [name, values[i]]));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const FLEET_VARIABLES = [
  'CF_FLEET_NAME', 'CF_KIND', 'CF_ENGINE', 'CF_ENGINE_VERSION', 'CF_BINARY_PREFIX', 'CF_IMAGE_BINARY_PREFIX', 'CF_PACKAGE', 'CF_CONTAINER_IMAGE',
  'CF_ENGINE_USER', 'CF_CONTAINER_USER', 'CF_PORT', 'CF_SENTINEL_PORT', 'CF_MASTER_NAME', 'CF_QUORUM', 'CF_SENTINELS', 'CF_DATA_NODES',
  'CF_CLUSTER_BUS_PORT', 'CF_CLUSTER_NODE_TIMEOUT', 'CF_CLUSTER_REPLICAS', 'CF_CLUSTER_SHARDS', 'CF_CLUSTER_NODES', 'CF_CLUSTER_FORMER',
  'CF_APP_USER', 'CF_SENTINEL_USER', 'CF_REPLICATION_USER', 'CF_ADMIN_USER', 'CF_RESERVED_MEMORY_PERCENT',
  'CF_TCP_BACKLOG', 'CF_RDB_FILE', 'CF_BACKUP_RETENTION_DAYS', 'CF_BACKUP_WINDOW_START', 'CF_BACKUP_WINDOW_MINUTES', 'CF_CONN_LIMIT', 'CF_OPEN_FILES',
  'CF_TOKEN_MIN_LENGTH', 'CF_TOKEN_MAX_LENGTH', 'CF_TOKEN_CHARACTERS', 'CF_TOKEN_RULE',
];

describe('shellQuote', () => {
  test.each([
    ['plain', '\'plain\''],
    ['', '\'\''],
    ['it\'s', '\'it\'\\\'\'s\''],
  ])('%j -> %s', (value, quoted) => {
    expect(shellQuote(value)).toBe(quoted);
  });

  test('the shell reads back exactly what was quoted', () => {
    const nasty = 'a \'b\' "c" $HOME `id` \\ $(id) ; * \n end';
    expect(source(`V=${shellQuote(nasty)}\n`, ['V'])).toEqual({ V: nasty });
  });
});

describe('renderFleetEnv', () => {
  test('a replication group: every variable of docs/node-agent.md', () => {
    // WHEN
    const values = source(renderFleetEnv(PLANS.withSentinelSlot()), FLEET_VARIABLES);

    // THEN
    expect(values).toEqual({
      CF_FLEET_NAME: 'orders',
      CF_KIND: 'replication',
      CF_ENGINE: 'redis',
      CF_ENGINE_VERSION: '7.0.15',
      CF_BINARY_PREFIX: 'redis',
      CF_IMAGE_BINARY_PREFIX: 'redis',
      CF_PACKAGE: '',
      CF_CONTAINER_IMAGE: 'public.ecr.aws/docker/library/redis:7.0.15',
      CF_ENGINE_USER: 'redis',
      CF_CONTAINER_USER: '999:999',
      CF_PORT: '6379',
      CF_SENTINEL_PORT: '26379',
      CF_MASTER_NAME: 'orders',
      CF_QUORUM: '2',
      CF_SENTINELS: '10.0.0.10:26379 10.0.1.10:26379 10.0.2.10:26379',
      CF_DATA_NODES: '10.0.0.10:6379 10.0.1.10:6379',
      CF_CLUSTER_BUS_PORT: '',
      CF_CLUSTER_NODE_TIMEOUT: '',
      CF_CLUSTER_REPLICAS: '',
      CF_CLUSTER_SHARDS: '',
      CF_CLUSTER_NODES: '',
      CF_CLUSTER_FORMER: '',
      CF_APP_USER: 'app',
      CF_SENTINEL_USER: 'cachefleet-sentinel',
      CF_REPLICATION_USER: 'cachefleet-replication',
      CF_ADMIN_USER: 'cachefleet-admin',
      CF_RESERVED_MEMORY_PERCENT: '25',
      CF_TCP_BACKLOG: '511',
      CF_RDB_FILE: 'dump.rdb',
      CF_BACKUP_RETENTION_DAYS: '0',
      CF_BACKUP_WINDOW_START: '',
      CF_BACKUP_WINDOW_MINUTES: '',
      CF_CONN_LIMIT: '',
      CF_OPEN_FILES: String(NODE_OPEN_FILES),
      CF_TOKEN_MIN_LENGTH: '16',
      CF_TOKEN_MAX_LENGTH: '128',
      CF_TOKEN_CHARACTERS: '!#-.0-?A-~',
      CF_TOKEN_RULE: AUTH_TOKEN_RULE.allowed,
    });
  });

  test('the listen backlog is the parameter group\'s when it sets one (default vs override)', () => {
    const backlog = (plan: ReturnType<typeof redisPlan>) => source(renderFleetEnv(plan), ['CF_TCP_BACKLOG']).CF_TCP_BACKLOG;
    expect(backlog(redisPlan({ dataAddresses: ['10.0.0.10'] }))).toBe('511');
    expect(backlog(redisPlan({ dataAddresses: ['10.0.0.10'], engineParameters: [['tcp-backlog', '4096']] }))).toBe('4096');
  });

  test('AUTH_TOKEN_RULE is one bracket expression the agent can match as a shell pattern', () => {
    expect(AUTH_TOKEN_RULE.pattern).toBe(`^[${tokenCharacters()}]+$`);
  });

  test('the Amazon Linux package, its binary prefix and its own user when one exists', () => {
    const values = source(renderFleetEnv(redisPlan({ engine: REDIS_6, dataAddresses: ['10.0.0.10'] })), ['CF_PACKAGE', 'CF_BINARY_PREFIX', 'CF_ENGINE_USER']);
    expect(values).toEqual({ CF_PACKAGE: 'redis6', CF_BINARY_PREFIX: 'redis6', CF_ENGINE_USER: 'redis' });
  });

  test('Memcached: no sentinel and no users, written empty so that `set -u` holds', () => {
    const text = renderFleetEnv(PLANS.memcached());
    expect(text).toContain('CF_SENTINEL_PORT=\'\'\n');
    expect(source(text, FLEET_VARIABLES)).toMatchObject({
      CF_KIND: 'memcached',
      CF_ENGINE: 'memcached',
      CF_PACKAGE: 'memcached',
      CF_BINARY_PREFIX: 'memcached',
      CF_ENGINE_USER: 'memcached',
      CF_CONTAINER_USER: '11211:11211',
      CF_SENTINELS: '',
      CF_QUORUM: '',
      CF_APP_USER: '',
      CF_DATA_NODES: '10.0.0.10:11211 10.0.1.10:11211 10.0.2.10:11211',
      CF_TCP_BACKLOG: '1024',
      CF_RDB_FILE: '',
      CF_CONN_LIMIT: '65000',
    });
  });

  test('one NAME=\'value\' per line after the header comment', () => {
    const lines = renderFleetEnv(PLANS.replicationGroup()).trimEnd().split('\n');
    expect(lines[0]).toBe('# cachefleet: fleet "sessions", sourced by the node agent.');
    expect(lines.slice(1).map((line) => line.split('=')[0])).toEqual(FLEET_VARIABLES);
    expect(lines.slice(1).every((line) => /^CF_[A-Z_]+='[^']*'$/.test(line))).toBe(true);
  });
});

describe('renderSlotEnv', () => {
  test('the slot\'s variables', () => {
    const plan = PLANS.withSentinelSlot();
    expect(source(renderSlotEnv(plan, plan.slots[0]), ['CF_SLOT', 'CF_ADDRESS', 'CF_ROLE', 'CF_SHARD', 'CF_ZONE_INDEX', 'CF_SERVICES'])).toEqual({
      CF_SLOT: 'node-0',
      CF_ADDRESS: '10.0.0.10',
      CF_ROLE: 'primary',
      CF_SHARD: '0',
      CF_ZONE_INDEX: '0',
      CF_SERVICES: 'redis sentinel',
    });
    expect(source(renderSlotEnv(plan, plan.slots[2]), ['CF_SLOT', 'CF_ROLE', 'CF_SERVICES'])).toEqual({
      CF_SLOT: 'sentinel-0',
      CF_ROLE: 'sentinel',
      CF_SERVICES: 'sentinel',
    });
  });

  test('a slot of another fleet is refused', () => {
    const other = PLANS.memcached().slots[0];
    expect(() => renderSlotEnv(PLANS.standalone(), { ...other, name: 'node-9' })).toThrow('slot "node-9" is not a slot of fleet "one"');
  });
});
