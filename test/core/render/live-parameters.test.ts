import { PLANS, redisPlan, VALKEY_8 } from './fixtures';
import { directiveApplyMode } from '../../../src/core/parameters/resolve';
import { Persistence } from '../../../src/core/persistence';
import { renderBundle } from '../../../src/core/render/bundle';
import { liveParameters, renderLiveParameters, restartRelevantText } from '../../../src/core/render/live-parameters';

const ADDRESSES = ['10.0.0.10', '10.0.0.11', '10.0.0.12'];

describe('directiveApplyMode', () => {
  test.each([
    ['valkey8', 'maxmemory-policy', 'live'],
    ['valkey8', 'timeout', 'live'],
    ['valkey8', 'databases', 'restart'],
    ['redis7', 'io-threads', 'restart'],
    ['redis7', 'client-output-buffer-limit', 'live'],
    // The renderers' own directives: nothing promises CONFIG SET takes them.
    ['redis7', 'port', 'restart'],
    ['redis7', 'no-such-directive', 'restart'],
  ])('%s %s: %s', (family, directive, mode) => {
    expect(directiveApplyMode(family, directive)).toBe(mode);
  });
});

describe('liveParameters', () => {
  test('persistence first, as CONFIG SET takes it, then the live parameters; restart-only ones left out', () => {
    // GIVEN
    const plan = redisPlan({
      engine: VALKEY_8,
      dataAddresses: ADDRESSES,
      persistence: Persistence.aofAlways(),
      engineParameters: [['maxmemory-policy', 'allkeys-lru'], ['databases', '32'], ['notify-keyspace-events', '""'], ['client-output-buffer-limit', 'pubsub 32mb 8mb 60']],
    });

    // WHEN
    const live = liveParameters(plan);

    // THEN
    expect(live).toEqual([
      ['appendonly', 'yes'],
      ['appendfsync', 'always'],
      ['save', ''],
      ['maxmemory-policy', 'allkeys-lru'],
      ['notify-keyspace-events', ''],
      ['client-output-buffer-limit', 'pubsub 32mb 8mb 60'],
    ]);
    expect(renderLiveParameters(plan)).toBe('appendonly\tyes\nappendfsync\talways\nsave\t\nmaxmemory-policy\tallkeys-lru\nnotify-keyspace-events\t\nclient-output-buffer-limit\tpubsub 32mb 8mb 60\n');
  });

  test('RDB save rules are one argument of pairs', () => {
    const plan = redisPlan({ engine: VALKEY_8, dataAddresses: ADDRESSES, persistence: Persistence.rdb({ saveRules: '3600 1 300 100' }) });
    expect(liveParameters(plan).slice(0, 2)).toEqual([['appendonly', 'no'], ['save', '3600 1 300 100']]);
  });

  test('Memcached has none', () => {
    expect(() => liveParameters(PLANS.memcached())).toThrow(/live-parameters/);
    expect(renderBundle(PLANS.memcached())['live-parameters']).toBeUndefined();
  });
});

describe('restartRelevantText', () => {
  const text = (engineParameters: Array<[string, string]>, addresses = ADDRESSES) => {
    const plan = redisPlan({ engine: VALKEY_8, dataAddresses: addresses, engineParameters });
    return restartRelevantText(plan, renderBundle(plan));
  };

  test('a live parameter change leaves it unchanged', () => {
    expect(text([['maxmemory-policy', 'allkeys-lru']])).toBe(text([['maxmemory-policy', 'volatile-ttl']]));
  });

  test('a restart-only parameter change changes it', () => {
    expect(text([['databases', '16']])).not.toBe(text([['databases', '32']]));
  });

  test('adding a replica leaves it unchanged (running nodes need no restart for it)', () => {
    expect(text([], ADDRESSES.slice(0, 3))).toBe(text([], [...ADDRESSES, '10.0.0.13']));
  });
});
