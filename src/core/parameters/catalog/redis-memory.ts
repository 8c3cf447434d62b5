import { engineParameter } from './parameter-spec';
import { INT_MAX, integer, LLONG_MAX, memory, memoryOrPercent, oneOf, yesNo } from './value-types';

/**
 * Redis and Valkey parameters about memory: eviction, expiry, lazy freeing and defragmentation.
 * Ranges are what the engine accepts (a self-managed node is not bound by ElastiCache's service
 * limits), unless a comment says why a tighter one protects the fleet.
 */

export const maxmemoryPolicy = engineParameter({
  name: 'maxmemory-policy',
  type: oneOf('volatile-lru', 'allkeys-lru', 'volatile-lfu', 'allkeys-lfu', 'volatile-random', 'allkeys-random', 'volatile-ttl', 'noeviction'),
  defaultValue: 'volatile-lru',
  defaultDiffers: {
    engineDefault: 'noeviction',
    reason: "ElastiCache's default: a full cache evicts keys that have a TTL instead of refusing writes",
  },
  description: 'Which keys are evicted when memory reaches maxmemory.',
});

export const maxmemorySamples = engineParameter({
  name: 'maxmemory-samples',
  // Valkey refuses more than 64; Redis accepts more but gains nothing.
  type: integer(1n, 64n),
  defaultValue: '3',
  defaultDiffers: { engineDefault: '5', reason: "ElastiCache's default (fewer keys sampled per eviction: less CPU, a coarser LRU)" },
  description: 'How many keys each eviction samples to approximate LRU, LFU and TTL order.',
});

export const maxmemoryEvictionTenacity = engineParameter({
  name: 'maxmemory-eviction-tenacity',
  type: integer(0n, 100n),
  defaultValue: '10',
  since: '6.2',
  description: 'How hard one command works to evict down to maxmemory before returning (0 to 100).',
});

export const maxmemoryClients = engineParameter({
  name: 'maxmemory-clients',
  type: memoryOrPercent(),
  defaultValue: '0',
  since: '7.0',
  description: 'Total client-buffer memory above which the largest clients are disconnected (0: no limit).',
});

export const lfuLogFactor = engineParameter({
  name: 'lfu-log-factor',
  type: integer(0n, INT_MAX),
  defaultValue: '10',
  description: 'How many hits saturate the LFU counter (higher: finer counting of frequent keys).',
});

export const lfuDecayTime = engineParameter({
  name: 'lfu-decay-time',
  type: integer(0n, INT_MAX),
  defaultValue: '1',
  description: 'Minutes after which an idle key\'s LFU counter is halved.',
});

export const activeExpireEffort = engineParameter({
  name: 'active-expire-effort',
  type: integer(1n, 10n),
  defaultValue: '1',
  description: 'CPU effort of the background expiry of keys past their TTL (1 to 10).',
});

export const lazyfreeLazyEviction = engineParameter({
  name: 'lazyfree-lazy-eviction',
  type: yesNo(),
  defaultValue: 'no',
  description: 'Frees evicted keys in a background thread.',
});

export const lazyfreeLazyExpire = engineParameter({
  name: 'lazyfree-lazy-expire',
  type: yesNo(),
  defaultValue: 'no',
  description: 'Frees expired keys in a background thread.',
});

export const lazyfreeLazyServerDel = engineParameter({
  name: 'lazyfree-lazy-server-del',
  type: yesNo(),
  defaultValue: 'no',
  description: 'Frees values overwritten or deleted as a side effect of a command (SET, RENAME…) in a background thread.',
});

export const lazyfreeLazyUserDel = engineParameter({
  name: 'lazyfree-lazy-user-del',
  type: yesNo(),
  defaultValue: 'no',
  description: 'Makes DEL free in the background, like UNLINK.',
});

export const lazyfreeLazyUserFlush = engineParameter({
  name: 'lazyfree-lazy-user-flush',
  type: yesNo(),
  defaultValue: 'no',
  since: '6.2',
  description: 'Makes FLUSHALL, FLUSHDB, SCRIPT FLUSH and FUNCTION FLUSH asynchronous unless told SYNC.',
});

export const replicaLazyFlush = engineParameter({
  name: 'replica-lazy-flush',
  type: yesNo(),
  defaultValue: 'yes',
  defaultDiffers: {
    engineDefault: 'no',
    reason: "ElastiCache's default: a replica frees its old dataset in the background during a full resync instead of blocking",
  },
  description: 'Frees a replica\'s old dataset in a background thread when it loads a full resync.',
});

export const replicaIgnoreMaxmemory = engineParameter({
  name: 'replica-ignore-maxmemory',
  type: yesNo(),
  defaultValue: 'yes',
  description: 'Replicas leave eviction to the primary (whose DELs they replay) instead of evicting on their own.',
});

export const activedefrag = engineParameter({
  name: 'activedefrag',
  type: yesNo(),
  defaultValue: 'no',
  description: 'Defragments memory in the background (needs the jemalloc build every supported image uses).',
});

export const activeDefragIgnoreBytes = engineParameter({
  name: 'active-defrag-ignore-bytes',
  type: memory(0n, LLONG_MAX),
  defaultValue: '104857600',
  description: 'Fragmentation waste below which active defragmentation does not start.',
});

export const activeDefragThresholdLower = engineParameter({
  name: 'active-defrag-threshold-lower',
  type: integer(0n, 1000n),
  defaultValue: '10',
  description: 'Fragmentation percentage at which active defragmentation starts.',
});

export const activeDefragThresholdUpper = engineParameter({
  name: 'active-defrag-threshold-upper',
  type: integer(0n, 1000n),
  defaultValue: '100',
  description: 'Fragmentation percentage at which active defragmentation uses its maximum effort.',
});

export const activeDefragCycleMin = engineParameter({
  name: 'active-defrag-cycle-min',
  type: integer(1n, 99n),
  defaultValue: '5',
  defaultDiffers: { engineDefault: '1', reason: "ElastiCache's default: defragmentation, once started, gets at least 5% of a CPU" },
  description: 'Minimum CPU percentage active defragmentation uses.',
});

export const activeDefragCycleMax = engineParameter({
  name: 'active-defrag-cycle-max',
  type: integer(1n, 99n),
  defaultValue: '75',
  defaultDiffers: { engineDefault: '25', reason: "ElastiCache's default: heavy fragmentation is worked off faster, at up to 75% of a CPU" },
  description: 'Maximum CPU percentage active defragmentation uses.',
});

export const activeDefragMaxScanFields = engineParameter({
  name: 'active-defrag-max-scan-fields',
  type: integer(1n, LLONG_MAX),
  defaultValue: '1000',
  description: 'Collections with more fields than this are defragmented in a separate, incremental step.',
});

export const jemallocBgThread = engineParameter({
  name: 'jemalloc-bg-thread',
  type: yesNo(),
  defaultValue: 'yes',
  description: 'Lets jemalloc purge freed memory in a background thread.',
});

export const activerehashing = engineParameter({
  name: 'activerehashing',
  type: yesNo(),
  defaultValue: 'yes',
  elastiCache: 'ElastiCache 7 hides it (always yes); a self-managed node may turn it off for latency-critical work.',
  description: 'Spends 1 ms of every 100 ms rehashing the main hash tables, so their memory is reclaimed early.',
});

/** The memory parameters of every Redis and Valkey family, in rendering order. */
export const REDIS_MEMORY_PARAMETERS = [
  maxmemoryPolicy,
  maxmemorySamples,
  maxmemoryEvictionTenacity,
  maxmemoryClients,
  lfuLogFactor,
  lfuDecayTime,
  activeExpireEffort,
  lazyfreeLazyEviction,
  lazyfreeLazyExpire,
  lazyfreeLazyServerDel,
  lazyfreeLazyUserDel,
  lazyfreeLazyUserFlush,
  replicaLazyFlush,
  replicaIgnoreMaxmemory,
  activedefrag,
  activeDefragIgnoreBytes,
  activeDefragThresholdLower,
  activeDefragThresholdUpper,
  activeDefragCycleMin,
  activeDefragCycleMax,
  activeDefragMaxScanFields,
  jemallocBgThread,
  activerehashing,
];
