import * as crypto from 'crypto';
import { FleetPlan } from '../topology';
import { BUNDLE_FILES } from './bundle-files';

export { BUNDLE_FILES };
import { renderFleetEnv, renderSlotEnv } from './env-files';
import { renderLiveParameters, restartRelevantText } from './live-parameters';
import { renderMemcachedArgs } from './memcached-args';
import { renderRedisConf } from './redis-conf';
import { renderRedisNodeConf } from './redis-node-conf';
import { renderSentinelConf } from './sentinel-conf';
import { renderUsersAcl } from './users-acl';

/** The path of a slot's variables in the bundle. */
export function slotEnvPath(slotName: string): string {
  return `slots/${slotName}.env`;
}

/**
 * Every file of a fleet's bundle, by path relative to the bundle's directory: only the files its
 * engine needs (no Redis files for Memcached, no `sentinel.conf` without failover). The flavors ship
 * it as is, once per group.
 */
export function renderBundle(plan: FleetPlan): Record<string, string> {
  const files: Record<string, string> = { [BUNDLE_FILES.fleetEnv]: renderFleetEnv(plan) };
  for (const slot of plan.slots) files[slotEnvPath(slot.name)] = renderSlotEnv(plan, slot);
  if (plan.engine.supportsReplication) {
    files[BUNDLE_FILES.redisConf] = renderRedisConf(plan);
    files[BUNDLE_FILES.redisNodeConf] = renderRedisNodeConf(plan);
    files[BUNDLE_FILES.usersAcl] = renderUsersAcl(plan);
    files[BUNDLE_FILES.liveParameters] = renderLiveParameters(plan);
    if (plan.sentinel) files[BUNDLE_FILES.sentinelConf] = renderSentinelConf(plan);
  } else {
    files[BUNDLE_FILES.memcachedArgs] = renderMemcachedArgs(plan);
  }
  return files;
}

/**
 * The SHA-256 (hex) of a set of files, by path and content: the same files always give the same
 * digest, whatever the order they were listed in.
 */
export function bundleDigest(files: Record<string, string>): string {
  const hash = crypto.createHash('sha256');
  for (const name of Object.keys(files).sort()) hash.update(`${name}\0${files[name]}\0`);
  return hash.digest('hex');
}

/**
 * A short hash of what only a restart applies: the rendered configuration less its live parameters,
 * and whatever else a flavor ships that a running node takes only at a restart (`alsoRestartOn`: the
 * Docker flavor's agent). A change of it restarts the nodes one at a time; another change of the
 * bundle (a live parameter, the slot count) does not.
 */
export function restartFingerprint(plan: FleetPlan, ...alsoRestartOn: string[]): string {
  const hash = crypto.createHash('sha256').update(restartRelevantText(plan, renderBundle(plan)));
  for (const text of alsoRestartOn) hash.update(`\0${text}`);
  return hash.digest('hex').slice(0, 16);
}
