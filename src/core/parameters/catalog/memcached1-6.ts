import { memcachedReservedMemoryPercent } from './agent';
import { CrossCheck, FamilyCatalog, MemcachedArgument, MemcachedStats, ParameterSpec } from './parameter-spec';
import { decimal, explained, INT_MAX, integer, oneOf, powerOfTwo, ValueType, zeroOne } from './value-types';

/**
 * ElastiCache's `memcached1.6` parameters, each mapped to a memcached 1.6 argument. Memcached reads
 * its settings only at start, so every change needs a restart.
 *
 * ElastiCache keeps memcached 1.4's behaviour by default (`no_modern` 1: no segmented LRU, no LRU
 * crawler, no slab rebalancing, the jenkins hash) so that groups made years ago keep working. A new
 * self-managed fleet has no such history: cachefleet takes memcached 1.6's own defaults, which its
 * authors recommend; set `no_modern` to 1 for ElastiCache's behaviour.
 */

const MODERN_DEFAULT = "ElastiCache's default follows no_modern=1 (memcached 1.4's behaviour); cachefleet keeps memcached 1.6's own";

interface MemcachedParameter {
  readonly name: string;
  readonly type: ValueType;
  readonly defaultValue: string;
  readonly argument: MemcachedArgument;
  readonly stats: MemcachedStats;
  readonly description: string;
  readonly elastiCache?: string;
  readonly defaultDiffers?: ParameterSpec['defaultDiffers'];
  readonly presets?: ParameterSpec['presets'];
}

function memcachedParameter(parameter: MemcachedParameter): ParameterSpec {
  const { argument, stats, ...spec } = parameter;
  return { ...spec, apply: 'restart', target: 'engine', memcached: { argument, stats } };
}

const option = (name: string): MemcachedArgument => ({ kind: 'option', option: name });
const flag = (name: string): MemcachedArgument => ({ kind: 'flag', flag: name });
const extended = (name: string): MemcachedArgument => ({ kind: 'extended', name });
const extendedSwitch = (name: string, hasOff = true): MemcachedArgument => ({ kind: 'extended-switch', name, hasOff });
const YES_NO = { 0: 'no', 1: 'yes' };

/** What `no_modern` 1 sets, as memcached 1.6.18 shows it under `-o no_modern`. */
const MEMCACHED_14_BEHAVIOUR = {
  slab_reassign: '0',
  slab_automove: '0',
  lru_crawler: '0',
  lru_maintainer: '0',
  maxconns_fast: '0',
  hash_algorithm: 'jenkins',
  slab_chunk_max: '1048576',
};

const MEMCACHED16_PARAMETERS: ParameterSpec[] = [
  // First: it is a preset, and the explicit arguments after it must win over it.
  memcachedParameter({
    name: 'no_modern',
    type: zeroOne(),
    defaultValue: '0',
    argument: extendedSwitch('no_modern', false),
    stats: { notReported: 'a preset: it shows in the settings it changes (slab_reassign, lru_crawler, hash_algorithm…)' },
    presets: { 1: MEMCACHED_14_BEHAVIOUR },
    elastiCache: `ElastiCache's default is 1. ${MODERN_DEFAULT}.`,
    description: "Reverts to memcached 1.4's defaults: no segmented LRU, LRU crawler or slab rebalancing, the jenkins hash.",
  }),
  memcachedParameter({
    name: 'max_item_size',
    type: integer(1024n, 1024n ** 3n),
    defaultValue: '1048576',
    argument: option('max-item-size'),
    stats: { key: 'item_size_max' },
    description: 'Largest item in bytes; a multiple of slab_chunk_max, at most half the item memory.',
  }),
  memcachedParameter({
    name: 'slab_chunk_max',
    // memcached 1.6 reads bytes here, whatever its help text says, and needs it to divide its 1 MiB slab pages.
    type: powerOfTwo(1024, 1048576),
    defaultValue: '524288',
    argument: extended('slab_chunk_max'),
    stats: { key: 'slab_chunk_max' },
    description: 'Largest slab chunk in bytes; larger items are chained from several chunks.',
  }),
  memcachedParameter({
    name: 'chunk_size',
    type: integer(1n, 1048576n),
    defaultValue: '48',
    argument: option('slab-min-size'),
    stats: { key: 'chunk_size' },
    description: "Bytes for the smallest item's key, value and flags: the size of the first slab class.",
  }),
  memcachedParameter({
    name: 'chunk_size_growth_factor',
    type: decimal(1, 100),
    defaultValue: '1.25',
    argument: option('slab-growth-factor'),
    stats: { key: 'growth_factor' },
    description: 'Factor between the chunk sizes of successive slab classes.',
  }),
  memcachedParameter({
    name: 'max_simultaneous_connections',
    type: integer(1n, INT_MAX),
    defaultValue: '65000',
    argument: option('conn-limit'),
    stats: { key: 'maxconns' },
    defaultDiffers: {
      engineDefault: '1024',
      reason: "ElastiCache's value: a fleet serves many application servers, and memcached's 1024 is quickly reached",
    },
    elastiCache: 'Not modifiable in ElastiCache.',
    description: 'Most simultaneous connections; memcached refuses to start when it cannot raise its open-file limit to this.',
  }),
  memcachedParameter({
    name: 'backlog_queue_limit',
    type: integer(1n, INT_MAX),
    defaultValue: '1024',
    argument: option('listen-backlog'),
    stats: { key: 'tcp_backlog' },
    elastiCache: 'Not modifiable in ElastiCache.',
    description: 'Length of the listen queue of connections not yet accepted.',
  }),
  memcachedParameter({
    name: 'binding_protocol',
    // memcached's binary protocol is deprecated; ElastiCache offers these two.
    type: oneOf('auto', 'ascii'),
    defaultValue: 'auto',
    argument: option('protocol'),
    stats: { key: 'binding_protocol', values: { auto: 'auto-negotiate', ascii: 'ascii' } },
    description: 'Protocols clients may use: auto (text and binary) or ascii (text only).',
  }),
  memcachedParameter({
    name: 'cas_disabled',
    type: zeroOne(),
    defaultValue: '0',
    argument: flag('disable-cas'),
    stats: { key: 'cas_enabled', values: { 0: 'yes', 1: 'no' } },
    description: 'Turns off check-and-set (gets/cas), saving 8 bytes per item.',
  }),
  memcachedParameter({
    name: 'error_on_memory_exhausted',
    type: zeroOne(),
    defaultValue: '0',
    argument: flag('disable-evictions'),
    stats: { key: 'evictions', values: { 0: 'on', 1: 'off' } },
    description: 'Answers an error when memory is full instead of evicting items.',
  }),
  memcachedParameter({
    name: 'disable_flush_all',
    type: zeroOne(),
    defaultValue: '0',
    argument: flag('disable-flush-all'),
    stats: { key: 'flush_enabled', values: { 0: 'yes', 1: 'no' } },
    description: 'Refuses the flush_all command.',
  }),
  memcachedParameter({
    name: 'requests_per_event',
    type: integer(1n, INT_MAX),
    defaultValue: '20',
    argument: option('max-reqs-per-event'),
    stats: { key: 'reqs_per_event' },
    elastiCache: 'Not modifiable in ElastiCache.',
    description: 'Requests served from one connection before others get a turn.',
  }),
  memcachedParameter({
    name: 'num_threads',
    type: integer(1n, 128n),
    defaultValue: '4',
    argument: option('threads'),
    stats: { key: 'num_threads' },
    elastiCache: 'ElastiCache sets it per node type (about one per vCPU) and does not let you change it; cachefleet uses memcached\'s 4.',
    description: 'Worker threads; more than the node\'s vCPUs only adds contention.',
  }),
  memcachedParameter({
    name: 'hash_algorithm',
    type: oneOf('murmur3', 'jenkins', 'xxh3'),
    defaultValue: 'murmur3',
    argument: extended('hash_algorithm'),
    stats: { key: 'hash_algorithm' },
    elastiCache: `ElastiCache's default is jenkins. ${MODERN_DEFAULT}.`,
    description: 'Hash function of the item table.',
  }),
  memcachedParameter({
    name: 'hashpower_init',
    // Below 16 the table would start smaller than memcached's own start, and it must exceed the
    // item-lock table, which reaches 2^15 with many threads.
    type: integer(16n, 32n),
    defaultValue: '16',
    argument: extended('hashpower'),
    stats: { key: 'hashpower_init' },
    defaultDiffers: {
      engineDefault: '0',
      reason: "ElastiCache's value; memcached's 0 means its built-in start of 2^16 buckets, the same table",
    },
    elastiCache: 'Not modifiable in ElastiCache.',
    description: 'Starting size of the item hash table as a power of two (it grows as needed).',
  }),
  memcachedParameter({
    name: 'slab_reassign',
    type: zeroOne(),
    defaultValue: '1',
    argument: extendedSwitch('slab_reassign'),
    stats: { key: 'slab_reassign', values: YES_NO },
    elastiCache: `ElastiCache's default is 0. ${MODERN_DEFAULT}.`,
    description: 'Lets memory pages move between slab classes as item sizes change.',
  }),
  memcachedParameter({
    name: 'slab_automove',
    type: integer(0n, 2n),
    defaultValue: '1',
    argument: extended('slab_automove'),
    stats: { key: 'slab_automove' },
    elastiCache: `ElastiCache's default is 0. ${MODERN_DEFAULT}.`,
    description: 'Background page moving between slab classes: 0 off, 1 gradual, 2 on every eviction (testing only).',
  }),
  memcachedParameter({
    name: 'lru_crawler',
    type: zeroOne(),
    defaultValue: '1',
    argument: extendedSwitch('lru_crawler'),
    stats: { key: 'lru_crawler', values: YES_NO },
    elastiCache: `ElastiCache's default is 0. ${MODERN_DEFAULT}.`,
    description: 'A background thread that reclaims the memory of expired items.',
  }),
  memcachedParameter({
    name: 'lru_maintainer',
    type: zeroOne(),
    defaultValue: '1',
    argument: extendedSwitch('lru_maintainer'),
    stats: { key: 'lru_maintainer_thread', values: YES_NO },
    elastiCache: `ElastiCache's default is 0. ${MODERN_DEFAULT}.`,
    description: 'A background thread that moves items between the hot, warm and cold LRUs.',
  }),
  memcachedParameter({
    name: 'maxconns_fast',
    type: zeroOne(),
    defaultValue: '1',
    argument: extendedSwitch('maxconns_fast'),
    stats: { key: 'maxconns_fast', values: YES_NO },
    elastiCache: `ElastiCache's default is 0. ${MODERN_DEFAULT}.`,
    description: 'Past the connection limit, answers new connections with an error at once instead of queueing them.',
  }),
  memcachedParameter({
    name: 'idle_timeout',
    type: integer(0n, 86400n),
    defaultValue: '0',
    argument: extended('idle_timeout'),
    stats: { key: 'idle_timeout' },
    description: 'Seconds of idleness after which a client connection is closed (0: never).',
  }),
  memcachedParameter({
    name: 'track_sizes',
    type: zeroOne(),
    defaultValue: '0',
    argument: extendedSwitch('track_sizes', false),
    stats: { key: 'track_sizes', values: YES_NO },
    description: 'Keeps the item size histogram that `stats sizes` shows.',
  }),
  memcachedParameter({
    name: 'watcher_logbuf_size',
    type: integer(1n, 1048576n),
    defaultValue: '256',
    argument: extended('watcher_logbuf_size'),
    stats: { key: 'watcher_logbuf_size', multiplier: 1024 },
    description: 'Kilobytes of log buffer per `watch` connection; a full buffer drops log lines.',
  }),
  {
    name: 'worker_logbuf_size',
    type: explained(
      oneOf('64'),
      "must be 64: memcached's worker_logbuf_size option also replaces its slab classes with a single class of that many bytes (its option parser lacks a break), so cachefleet never passes it and memcached keeps its 64 KB",
    ),
    defaultValue: '64',
    apply: 'restart',
    target: 'none',
    description: 'Kilobytes of log buffer per worker thread, read by the `watch` logger.',
  },
  memcachedParameter({
    name: 'large_memory_pages',
    type: zeroOne(),
    defaultValue: '0',
    argument: flag('enable-largepages'),
    stats: { notReported: 'a start-up request to the kernel, not a setting memcached keeps' },
    elastiCache: 'Not modifiable in ElastiCache.',
    description: 'Asks for large memory pages for the item memory, where the kernel has them.',
  }),
  memcachedParameter({
    name: 'lock_down_paged_memory',
    type: zeroOne(),
    defaultValue: '0',
    argument: flag('lock-memory'),
    stats: { notReported: 'a start-up request to the kernel (mlockall), not a setting memcached keeps' },
    elastiCache: 'Not modifiable in ElastiCache.',
    description: 'Locks all memory so it is never swapped (needs the memlock limit).',
  }),
  memcachedParameter({
    name: 'maximize_core_file_limit',
    type: zeroOne(),
    defaultValue: '0',
    argument: flag('enable-coredumps'),
    stats: { notReported: 'a process limit set at start, not a setting memcached keeps' },
    description: 'Raises the core file limit so a crash leaves a full core dump.',
  }),
  {
    name: 'inline_ascii_resp',
    type: explained(oneOf('0'), 'must be 0: memcached 1.5.16 removed inline ASCII responses, so 1.6 never has them'),
    defaultValue: '0',
    apply: 'restart',
    target: 'none',
    elastiCache: 'Still listed by ElastiCache, with no effect on memcached 1.6.',
    description: 'Memcached 1.5: stored the ASCII VALUE line inside each item.',
  },
  memcachedReservedMemoryPercent,
];

/** memcached refuses an item size that is not a whole number of chunks of slab_chunk_max. */
const itemSizeFitsChunks: CrossCheck = (values) => {
  const itemSize = Number(values.get('max_item_size'));
  const chunkMax = Number(values.get('slab_chunk_max'));
  if (itemSize >= chunkMax && itemSize % chunkMax === 0) return undefined;
  return {
    max_item_size: { value: String(itemSize), allowed: `must be a multiple of slab_chunk_max (${chunkMax})` },
    slab_chunk_max: { value: String(chunkMax), allowed: `must divide max_item_size (${itemSize}) evenly and be at most it` },
  };
};

const RESERVED_SHARE = "set `reserved-memory-percent` (0 to 90), the share of each node's memory kept from memcached";

/** ElastiCache Memcached names that a self-managed node does not take, and why. */
const MEMCACHED_REFUSALS: { [name: string]: string } = {
  memcached_connections_overhead: `is ElastiCache's fixed reserve in megabytes; cachefleet reserves a share instead: ${RESERVED_SHARE}`,
  max_cache_memory: "is computed at boot by the node agent: the node's memory less `reserved-memory-percent`",
  config_max: "configures ElastiCache's Auto Discovery entries, which cachefleet does not serve (clients get every node's endpoint)",
  config_size_max: "configures ElastiCache's Auto Discovery entries, which cachefleet does not serve (clients get every node's endpoint)",
  expirezero_does_not_evict: 'was removed in memcached 1.5 (and from ElastiCache\'s memcached1.5 family)',
  modern: 'was removed in memcached 1.5, whose features are on by default: set `no_modern` to 1 for the old behaviour',
};

/** ElastiCache's `memcached1.6` family. */
export const MEMCACHED16: FamilyCatalog = {
  family: 'memcached1.6',
  engineName: 'Memcached',
  firstVersion: '1.6',
  entries: MEMCACHED16_PARAMETERS,
  refusals: MEMCACHED_REFUSALS,
  crossChecks: [itemSizeFitsChunks],
};
