import { directives, plannedWithParameters, redisPlan, VALKEY_8 } from './fixtures';
import { ValidationError } from '../../../src/core/errors';
import { Persistence } from '../../../src/core/persistence';
import { liveParameters } from '../../../src/core/render/live-parameters';
import { isPersistenceDirective, PERSISTENCE_DIRECTIVES, persistenceDirectives, persistenceSettings } from '../../../src/core/render/persistence-directives';
import { renderRedisConf } from '../../../src/core/render/redis-conf';

describe('persistenceDirectives', () => {
  test('none: no AOF, no snapshot (save "" clears the default rules)', () => {
    expect(persistenceDirectives(Persistence.none())).toEqual(['appendonly no', 'save ""']);
  });

  test('RDB with the default rules: one save line per rule', () => {
    expect(persistenceDirectives(Persistence.rdb())).toEqual(['appendonly no', 'save 3600 1', 'save 300 100', 'save 60 10000']);
  });

  test('RDB with custom rules', () => {
    expect(persistenceDirectives(Persistence.rdb({ saveRules: ' 900  1 ' }))).toEqual(['appendonly no', 'save 900 1']);
  });

  test('AOF every second', () => {
    expect(persistenceDirectives(Persistence.aofEverySecond())).toEqual(['appendonly yes', 'appendfsync everysec', 'save ""']);
  });

  test('AOF always', () => {
    expect(persistenceDirectives(Persistence.aofAlways())).toContain('appendfsync always');
  });

  test.each(['900', '900 x', '0 1', '60 10 30'])('malformed save rules %j are refused when the persistence is made', (saveRules) => {
    expect(() => Persistence.rdb({ saveRules })).toThrow(
      new ValidationError('saveRules', saveRules, 'must be pairs of whole numbers "seconds changes" (seconds at least 1), such as "3600 1 300 100"'),
    );
  });
});

/** Every persistence a fleet can have. */
const EVERY_PERSISTENCE: Array<[string, Persistence]> = [
  ['none', Persistence.none()],
  ['RDB, the default rules', Persistence.rdb()],
  ['RDB, one rule', Persistence.rdb({ saveRules: '900 1' })],
  ['AOF every second', Persistence.aofEverySecond()],
  ['AOF always', Persistence.aofAlways()],
];

/** The persistence lines of a rendered redis.conf, read back as CONFIG SET takes them: one `save` of every pair, `""` as empty. */
function persistenceOfConf(text: string): Array<[string, string]> {
  const settings: Array<[string, string]> = [];
  for (const line of directives(text)) {
    const [name, ...args] = line.split(' ');
    if (!isPersistenceDirective(name)) continue;
    const value = args.join(' ') === '""' ? '' : args.join(' ');
    const earlier = settings.find(([seen]) => seen === name);
    if (earlier) earlier[1] = `${earlier[1]} ${value}`;
    else settings.push([name, value]);
  }
  return settings;
}

describe('persistenceSettings: one decision for redis.conf and the live parameters', () => {
  test('the directives it decides, in redis.conf\'s order', () => {
    expect(PERSISTENCE_DIRECTIVES).toEqual(['appendonly', 'appendfsync', 'save']);
  });

  test.each<[string, Persistence, Array<[string, string]>]>([
    ['none', Persistence.none(), [['appendonly', 'no'], ['save', '']]],
    ['RDB, the default rules', Persistence.rdb(), [['appendonly', 'no'], ['save', '3600 1 300 100 60 10000']]],
    ['AOF every second', Persistence.aofEverySecond(), [['appendonly', 'yes'], ['appendfsync', 'everysec'], ['save', '']]],
    ['AOF always', Persistence.aofAlways(), [['appendonly', 'yes'], ['appendfsync', 'always'], ['save', '']]],
  ])('%s', (_what, persistence, settings) => {
    expect(persistenceSettings(persistence)).toEqual(settings);
  });

  test.each(EVERY_PERSISTENCE)('%s: redis.conf and the live parameters say the same', (_what, persistence) => {
    // GIVEN
    const plan = redisPlan({ engine: VALKEY_8, dataAddresses: ['10.0.0.10', '10.0.0.11'], persistence });

    // WHEN
    const conf = persistenceOfConf(renderRedisConf(plan));
    const live = liveParameters(plan).filter(([name]) => isPersistenceDirective(name));

    // THEN
    expect(conf).toEqual(persistenceSettings(persistence));
    expect(live).toEqual(persistenceSettings(persistence));
  });

  test.each<[string, Record<string, string>]>([
    ['appendonly yes', { appendonly: 'yes' }],
    ['appendfsync always', { appendfsync: 'always' }],
    ['save rules', { save: '600 5' }],
    ['appendonly no', { appendonly: 'no' }],
  ])('a parameter group that decides persistence (%s): both say what the planner folded in, and no engine parameter repeats it', (_what, parameters) => {
    const plan = plannedWithParameters(parameters);
    expect(persistenceOfConf(renderRedisConf(plan))).toEqual(persistenceSettings(plan.persistence));
    expect(liveParameters(plan).filter(([name]) => isPersistenceDirective(name))).toEqual(persistenceSettings(plan.persistence));
  });
});
