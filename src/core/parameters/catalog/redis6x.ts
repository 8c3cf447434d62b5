import { FamilyCatalog, ParameterSpec, underOldName, withDefault, withType } from './parameter-spec';
import { aclPubsubDefault, notifyKeyspaceEvents } from './redis-clients';
import { REDIS6_ENCODING_NAMES } from './redis-encodings';
import { REDIS_REFUSALS } from './redis-refusals';
import { replDisklessSync } from './redis-replication';
import { REDIS7_PARAMETERS } from './redis7';
import { letters } from './value-types';
import { compareVersions } from './versions';

/**
 * Where Redis 6 differs from Redis 7 in a parameter both have: its own default (ElastiCache does not
 * expose these, so the engine's default is the catalog's) or fewer allowed values.
 */
const REDIS6_VARIANTS: { [name: string]: ParameterSpec } = {
  // Redis 6.2 writes the snapshot of a full resync to disk first; 7.0 made diskless the default.
  [replDisklessSync.name]: withDefault(replDisklessSync, 'no'),
  // allchannels is Redis 6.2's own default, so nothing differs deliberately here.
  [aclPubsubDefault.name]: withDefault(aclPubsubDefault, 'allchannels'),
  // Redis 7 added the d (module) and n (new key) event classes.
  [notifyKeyspaceEvents.name]: withType(notifyKeyspaceEvents, letters('KEg$lshzxetmA')),
};

/** Redis 7's parameters minus the ones Redis 7 added, the encodings under their ziplist names. */
const REDIS6_PARAMETERS = REDIS7_PARAMETERS.flatMap((spec): ParameterSpec[] => {
  const ziplistName = REDIS6_ENCODING_NAMES[spec.name];
  if (ziplistName) return [underOldName(spec, ziplistName)];
  if (spec.since !== undefined && compareVersions(spec.since, '7.0') >= 0) return [];
  return [REDIS6_VARIANTS[spec.name] ?? spec];
});

/** ElastiCache's `redis6.x` family: Redis 6.0 and 6.2. */
export const REDIS6X: FamilyCatalog = {
  family: 'redis6.x',
  engineName: 'Redis',
  firstVersion: '6.0',
  entries: REDIS6_PARAMETERS,
  refusals: REDIS_REFUSALS,
  crossChecks: [],
};
