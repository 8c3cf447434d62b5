import { Persistence, PersistenceMode } from '../persistence';
import { parseSaveRules } from '../save-rules';
import { PERSISTENCE_PARAMETERS } from '../topology';
import { line } from './config-syntax';

/**
 * The directives `plan.persistence` decides: the planner folds a parameter group's values of these
 * into it, so engine parameters of these names are skipped. Other AOF and RDB settings
 * (`aof-use-rdb-preamble`, `auto-aof-rewrite-percentage`, …) stay ordinary parameters.
 */
export const PERSISTENCE_DIRECTIVES: readonly string[] = PERSISTENCE_PARAMETERS;

/**
 * The persistence directives of redis.conf. `save` is written one `seconds changes` pair per line:
 * every version reads that (Redis 6.2 reads only that, Redis 7 and Valkey add the lines up), and
 * `save ""` clears Redis's default rules when nothing should be snapshotted.
 */
export function persistenceDirectives(persistence: Persistence): string[] {
  const aof = persistence.mode === PersistenceMode.AOF;
  const lines = [line('appendonly', aof ? 'yes' : 'no')];
  if (aof) lines.push(line('appendfsync', persistence.appendFsync ?? 'everysec'));
  const pairs = parseSaveRules('persistence.saveRules', persistence.saveRules);
  if (pairs.length === 0) lines.push(line('save', '""'));
  for (const [seconds, changes] of pairs) lines.push(line('save', seconds, changes));
  return lines;
}
