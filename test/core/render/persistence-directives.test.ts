import { ValidationError } from '../../../src/core/errors';
import { Persistence } from '../../../src/core/persistence';
import { persistenceDirectives } from '../../../src/core/render/persistence-directives';

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
