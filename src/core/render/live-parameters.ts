import { directiveApplyMode } from '../parameters/resolve';
import { FleetPlan } from '../topology';
import { BUNDLE_FILES } from './bundle-files';
import { isPersistenceDirective, persistenceSettings } from './persistence-directives';
import { requireEngine } from './plan-facts';

/**
 * The directives of redis.conf that a running node takes through `CONFIG SET`, with their values as
 * CONFIG SET's one argument: `[directive, value]`, in redis.conf's order. A directive given once
 * per first argument (`client-output-buffer-limit`) appears once per line. Persistence is live on
 * every engine version (`appendonly`, `appendfsync`, `save` as one argument of pairs).
 */
export function liveParameters(plan: FleetPlan): Array<[string, string]> {
  requireEngine(plan, 'redis', 'live-parameters');
  const live: Array<[string, string]> = persistenceSettings(plan.persistence);
  for (const [name, value] of plan.engineParameters) {
    if (isPersistenceDirective(name)) continue;
    if (directiveApplyMode(plan.engine.parameterGroupFamily, name) !== 'live') continue;
    const trimmed = value.trim();
    live.push([name, trimmed === '""' ? '' : trimmed]);
  }
  return live;
}

/**
 * `live-parameters`: one `<directive><TAB><value>` line per {@link liveParameters} entry. The agent's
 * `apply-parameters` sends each line whose value changed as `CONFIG SET <directive> <value>`, so a
 * parameter group change reaches running nodes without a restart.
 */
export function renderLiveParameters(plan: FleetPlan): string {
  return liveParameters(plan).map(([name, value]) => `${name}\t${value}\n`).join('');
}

/**
 * The files whose change a running engine takes only at a restart. Not `fleet.env` and the slot
 * files: they change when slots are added or removed, which running nodes do not need to see (the
 * sentinels discover new peers and replicas, the agent reads the new files at the next boot).
 */
const RESTART_FILES = [
  BUNDLE_FILES.redisConf,
  BUNDLE_FILES.redisNodeConf,
  BUNDLE_FILES.usersAcl,
  BUNDLE_FILES.sentinelConf,
  BUNDLE_FILES.memcachedArgs,
];

/**
 * The bundle's text that only a restart can apply: the engine files, with the redis.conf lines of
 * live directives left out. A flavor that replaces nodes on a configuration change keys the
 * replacement on this, so a live change or a change of the slot count never replaces a node.
 */
export function restartRelevantText(plan: FleetPlan, files: Record<string, string>): string {
  const live = plan.engine.supportsReplication ? new Set(liveParameters(plan).map(([name]) => name)) : new Set<string>();
  return RESTART_FILES.filter((name) => files[name] !== undefined)
    .map((name) => {
      const text = name === BUNDLE_FILES.redisConf
        ? files[name].split('\n').filter((line) => !live.has(line.trim().split(/\s+/)[0])).join('\n')
        : files[name];
      return `${name}\0${text}\0`;
    })
    .join('');
}
