import { engineParameter } from './parameter-spec';
import { INT_MAX, integer, LLONG_MAX, memory } from './value-types';

/**
 * Redis and Valkey parameters that choose the compact encodings of small collections. Redis 7
 * renamed the ziplist ones to listpack; the Redis 6 family knows them by their old names
 * ({@link REDIS6_ENCODING_NAMES}).
 */

export const hashMaxListpackEntries = engineParameter({
  name: 'hash-max-listpack-entries',
  type: integer(0n, LLONG_MAX),
  defaultValue: '512',
  since: '7.0',
  description: 'Hashes with at most this many fields use the compact listpack encoding.',
});

export const hashMaxListpackValue = engineParameter({
  name: 'hash-max-listpack-value',
  type: integer(0n, LLONG_MAX),
  defaultValue: '64',
  since: '7.0',
  description: 'Hashes whose fields and values are at most this many bytes use the compact listpack encoding.',
});

export const listMaxListpackSize = engineParameter({
  name: 'list-max-listpack-size',
  // -5 to -1 are node sizes (64 KB down to 4 KB), positive numbers are entries per node.
  type: integer(-5n, INT_MAX),
  defaultValue: '-2',
  since: '7.0',
  description: 'Size of each list node: -5 to -1 for 64, 32, 16, 8 or 4 KB, a positive number for that many entries.',
});

export const listCompressDepth = engineParameter({
  name: 'list-compress-depth',
  type: integer(0n, INT_MAX),
  defaultValue: '0',
  description: 'List nodes left uncompressed at each end of a list (0: no compression).',
});

export const setMaxIntsetEntries = engineParameter({
  name: 'set-max-intset-entries',
  type: integer(0n, LLONG_MAX),
  defaultValue: '512',
  description: 'Sets of integers with at most this many members use the compact intset encoding.',
});

export const setMaxListpackEntries = engineParameter({
  name: 'set-max-listpack-entries',
  type: integer(0n, LLONG_MAX),
  defaultValue: '128',
  since: '7.2',
  description: 'Sets of strings with at most this many members use the compact listpack encoding.',
});

export const setMaxListpackValue = engineParameter({
  name: 'set-max-listpack-value',
  type: integer(0n, LLONG_MAX),
  defaultValue: '64',
  since: '7.2',
  description: 'Sets whose members are at most this many bytes use the compact listpack encoding.',
});

export const zsetMaxListpackEntries = engineParameter({
  name: 'zset-max-listpack-entries',
  type: integer(0n, LLONG_MAX),
  defaultValue: '128',
  since: '7.0',
  description: 'Sorted sets with at most this many members use the compact listpack encoding.',
});

export const zsetMaxListpackValue = engineParameter({
  name: 'zset-max-listpack-value',
  type: integer(0n, LLONG_MAX),
  defaultValue: '64',
  since: '7.0',
  description: 'Sorted sets whose members are at most this many bytes use the compact listpack encoding.',
});

export const hllSparseMaxBytes = engineParameter({
  name: 'hll-sparse-max-bytes',
  type: memory(0n, LLONG_MAX),
  defaultValue: '3000',
  description: 'HyperLogLogs up to this many bytes keep the sparse encoding (above about 16000 the dense one is smaller).',
});

export const streamNodeMaxBytes = engineParameter({
  name: 'stream-node-max-bytes',
  type: memory(0n, LLONG_MAX),
  defaultValue: '4096',
  description: 'Largest stream node in bytes (0: no limit).',
});

export const streamNodeMaxEntries = engineParameter({
  name: 'stream-node-max-entries',
  type: integer(0n, LLONG_MAX),
  defaultValue: '100',
  description: 'Most entries in one stream node (0: no limit).',
});

/** The encoding parameters of the Redis 7 and Valkey families, in rendering order. */
export const REDIS_ENCODING_PARAMETERS = [
  hashMaxListpackEntries,
  hashMaxListpackValue,
  listMaxListpackSize,
  listCompressDepth,
  setMaxIntsetEntries,
  setMaxListpackEntries,
  setMaxListpackValue,
  zsetMaxListpackEntries,
  zsetMaxListpackValue,
  hllSparseMaxBytes,
  streamNodeMaxBytes,
  streamNodeMaxEntries,
];

/** Redis 7's listpack names and the ziplist names Redis 6 knows them by. */
export const REDIS6_ENCODING_NAMES: { readonly [listpackName: string]: string } = {
  'hash-max-listpack-entries': 'hash-max-ziplist-entries',
  'hash-max-listpack-value': 'hash-max-ziplist-value',
  'list-max-listpack-size': 'list-max-ziplist-size',
  'zset-max-listpack-entries': 'zset-max-ziplist-entries',
  'zset-max-listpack-value': 'zset-max-ziplist-value',
};

