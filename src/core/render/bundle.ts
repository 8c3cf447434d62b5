import { FleetPlan } from '../topology';
import { BUNDLE_FILES } from './bundle-files';

export { BUNDLE_FILES };
import { renderFleetEnv, renderSlotEnv } from './env-files';
import { renderLiveParameters } from './live-parameters';
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
