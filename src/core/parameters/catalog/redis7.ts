import { reservedMemoryPercent } from './agent';
import { FamilyCatalog, renamedRefusals } from './parameter-spec';
import { REDIS_CLIENT_PARAMETERS } from './redis-clients';
import { REDIS_ELASTICACHE_PARAMETERS } from './redis-elasticache';
import { REDIS6_ENCODING_NAMES, REDIS_ENCODING_PARAMETERS } from './redis-encodings';
import { REDIS_MEMORY_PARAMETERS } from './redis-memory';
import { REDIS_OBSERVABILITY_PARAMETERS } from './redis-observability';
import { REDIS_PERSISTENCE_PARAMETERS } from './redis-persistence';
import { REDIS_REFUSALS } from './redis-refusals';
import { REDIS_REPLICATION_PARAMETERS } from './redis-replication';

/**
 * Every Redis 7 parameter (and Valkey 7.2's, which are the same), in rendering order. The Redis 6
 * and Valkey 8 families are derived from it.
 */
export const REDIS7_PARAMETERS = [
  ...REDIS_MEMORY_PARAMETERS,
  ...REDIS_ENCODING_PARAMETERS,
  ...REDIS_CLIENT_PARAMETERS,
  ...REDIS_PERSISTENCE_PARAMETERS,
  ...REDIS_REPLICATION_PARAMETERS,
  ...REDIS_OBSERVABILITY_PARAMETERS,
  ...REDIS_ELASTICACHE_PARAMETERS,
  reservedMemoryPercent,
];

/** Redis 7 renamed the ziplist encodings: their old names point to the new ones. */
const REDIS7_REFUSALS = {
  ...REDIS_REFUSALS,
  ...renamedRefusals(Object.fromEntries(Object.entries(REDIS6_ENCODING_NAMES).map(([listpack, ziplist]) => [ziplist, listpack]))),
};

/** ElastiCache's `redis7` family: Redis 7.0 to 7.2 (ElastiCache's 7.1 is 7.0-compatible). */
export const REDIS7: FamilyCatalog = {
  family: 'redis7',
  engineName: 'Redis',
  firstVersion: '7.0',
  entries: REDIS7_PARAMETERS,
  refusals: REDIS7_REFUSALS,
  crossChecks: [],
};
