import { engineParameter } from './parameter-spec';
import { INT_MAX, integer, LLONG_MAX, memory, oneOf, saveRules, yesNo } from './value-types';

/**
 * Redis and Valkey parameters about persistence. `appendonly`, `appendfsync` and `save` overlap with
 * the fleets' `persistence` prop: the planner decides which wins (the prop, else these when the user
 * set them, else AOF every second).
 */

export const appendonly = engineParameter({
  name: 'appendonly',
  type: yesNo(),
  defaultValue: 'no',
  elastiCache: 'ElastiCache no longer lets you change it; here it is the AOF switch (the `persistence` prop is the preferred way).',
  description: 'Logs every write to the append-only file, replayed at start.',
});

export const appendfsync = engineParameter({
  name: 'appendfsync',
  type: oneOf('always', 'everysec', 'no'),
  defaultValue: 'everysec',
  elastiCache: 'ElastiCache no longer lets you change it.',
  description: 'When the append-only file is fsynced: after every write, every second, or when the OS decides.',
});

export const save = engineParameter({
  name: 'save',
  type: saveRules(),
  defaultValue: '',
  defaultDiffers: {
    engineDefault: '3600 1 300 100 60 10000',
    reason: 'persistence is chosen by the `persistence` prop (AOF every second by default), and ElastiCache runs no save rules either',
  },
  elastiCache: 'Not an ElastiCache parameter: ElastiCache snapshots on its backup schedule.',
  description: 'RDB snapshot rules: a snapshot after <seconds> when at least <changes> writes happened (empty: none).',
});

export const noAppendfsyncOnRewrite = engineParameter({
  name: 'no-appendfsync-on-rewrite',
  type: yesNo(),
  defaultValue: 'no',
  description: 'Skips fsync of the append-only file while a rewrite or snapshot runs (lower latency, more loss on power failure).',
});

export const autoAofRewritePercentage = engineParameter({
  name: 'auto-aof-rewrite-percentage',
  type: integer(0n, INT_MAX),
  defaultValue: '100',
  description: 'Growth of the append-only file since its last rewrite, in percent, that starts a rewrite (0: never).',
});

export const autoAofRewriteMinSize = engineParameter({
  name: 'auto-aof-rewrite-min-size',
  type: memory(0n, LLONG_MAX),
  defaultValue: '67108864',
  description: 'Size below which the append-only file is never rewritten automatically.',
});

export const aofUseRdbPreamble = engineParameter({
  name: 'aof-use-rdb-preamble',
  type: yesNo(),
  defaultValue: 'yes',
  description: 'Starts a rewritten append-only file with an RDB snapshot, which loads faster.',
});

export const aofLoadTruncated = engineParameter({
  name: 'aof-load-truncated',
  type: yesNo(),
  defaultValue: 'yes',
  description: 'Starts from an append-only file cut short by a crash (its last, partial command dropped) instead of refusing.',
});

export const aofTimestampEnabled = engineParameter({
  name: 'aof-timestamp-enabled',
  type: yesNo(),
  defaultValue: 'no',
  since: '7.0',
  description: 'Writes timestamps into the append-only file, for point-in-time recovery.',
});

export const aofRewriteIncrementalFsync = engineParameter({
  name: 'aof-rewrite-incremental-fsync',
  type: yesNo(),
  defaultValue: 'yes',
  description: 'Fsyncs a rewritten append-only file every 4 MB, avoiding one large latency spike.',
});

export const rdbSaveIncrementalFsync = engineParameter({
  name: 'rdb-save-incremental-fsync',
  type: yesNo(),
  defaultValue: 'yes',
  description: 'Fsyncs an RDB snapshot every 4 MB while it is written, avoiding one large latency spike.',
});

export const rdbcompression = engineParameter({
  name: 'rdbcompression',
  type: yesNo(),
  defaultValue: 'yes',
  description: 'Compresses strings in RDB snapshots with LZF.',
});

export const rdbchecksum = engineParameter({
  name: 'rdbchecksum',
  type: yesNo(),
  defaultValue: 'yes',
  apply: 'restart',
  description: 'Ends RDB snapshots with a CRC64 checksum, checked when they are loaded.',
});

export const stopWritesOnBgsaveError = engineParameter({
  name: 'stop-writes-on-bgsave-error',
  type: yesNo(),
  defaultValue: 'yes',
  description: 'Refuses writes while the last background snapshot failed, so a broken disk is noticed.',
});

export const rdbDelSyncFiles = engineParameter({
  name: 'rdb-del-sync-files',
  type: yesNo(),
  defaultValue: 'no',
  description: 'Deletes the RDB files written only for replication when persistence is off.',
});

/** The persistence parameters of every Redis and Valkey family, in rendering order. */
export const REDIS_PERSISTENCE_PARAMETERS = [
  appendonly,
  appendfsync,
  save,
  noAppendfsyncOnRewrite,
  autoAofRewritePercentage,
  autoAofRewriteMinSize,
  aofUseRdbPreamble,
  aofLoadTruncated,
  aofTimestampEnabled,
  aofRewriteIncrementalFsync,
  rdbSaveIncrementalFsync,
  rdbcompression,
  rdbchecksum,
  stopWritesOnBgsaveError,
  rdbDelSyncFiles,
];
