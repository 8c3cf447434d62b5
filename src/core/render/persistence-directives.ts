import { Persistence, PersistenceMode } from '../persistence';
import { parseSaveRules } from '../save-rules';
import { line } from './config-syntax';

/**
 * The directives `plan.persistence` decides, in redis.conf's order: the planner folds a parameter
 * group's values of these into it, and the renderers skip engine parameters of these names. Other
 * AOF and RDB settings (`aof-use-rdb-preamble`, `auto-aof-rewrite-percentage`, …) stay ordinary
 * parameters.
 */
export const PERSISTENCE_DIRECTIVES = ['appendonly', 'appendfsync', 'save'] as const;

/** One of {@link PERSISTENCE_DIRECTIVES}. */
export type PersistenceDirective = (typeof PERSISTENCE_DIRECTIVES)[number];

/** Whether an engine parameter is one the persistence decides. */
export function isPersistenceDirective(name: string): name is PersistenceDirective {
  return (PERSISTENCE_DIRECTIVES as readonly string[]).includes(name);
}

/**
 * What a persistence sets, decided here once for redis.conf ({@link persistenceDirectives}) and the
 * live parameters alike: each directive with its value as `CONFIG SET` takes it, one argument
 * (`save` holds its `seconds changes` pairs in a row, empty for none).
 */
export function persistenceSettings(persistence: Persistence): Array<[PersistenceDirective, string]> {
  const aof = persistence.mode === PersistenceMode.AOF;
  const settings: Array<[PersistenceDirective, string]> = [['appendonly', aof ? 'yes' : 'no']];
  if (aof) settings.push(['appendfsync', persistence.appendFsync ?? 'everysec']);
  settings.push(['save', parseSaveRules('persistence.saveRules', persistence.saveRules).map((pair) => pair.join(' ')).join(' ')]);
  return settings;
}

/**
 * The persistence directives of redis.conf: {@link persistenceSettings} in the file's syntax. `save`
 * is written one `seconds changes` pair per line: every version reads that (Redis 6.2 reads only
 * that, Redis 7 and Valkey add the lines up), and `save ""` clears Redis's default rules when
 * nothing should be snapshotted.
 */
export function persistenceDirectives(persistence: Persistence): string[] {
  return persistenceSettings(persistence).flatMap(([name, value]) => {
    if (name !== 'save') return [line(name, value)];
    const numbers = value.split(' ').filter((word) => word !== '');
    if (numbers.length === 0) return [line('save', '""')];
    return numbers.filter((_, i) => i % 2 === 0).map((seconds, i) => line('save', seconds, numbers[2 * i + 1]));
  });
}
