import { engineParameter, ParameterSpec } from './parameter-spec';
import { INT_MAX, integer, letters, LLONG_MAX, memory, oneOf, yesNo } from './value-types';

/** Redis and Valkey parameters about clients, connections, threads and events. */

export const timeout = engineParameter({
  name: 'timeout',
  type: integer(0n, INT_MAX),
  defaultValue: '0',
  elastiCache: 'ElastiCache refuses 1 to 19; a self-managed node takes any value the engine does.',
  description: 'Seconds of idleness after which a client connection is closed (0: never).',
});

export const tcpKeepalive = engineParameter({
  name: 'tcp-keepalive',
  type: integer(0n, INT_MAX),
  defaultValue: '300',
  description: 'Seconds between TCP keepalive probes to clients, which also detect dead peers (0: off).',
});

export const tcpBacklog = engineParameter({
  name: 'tcp-backlog',
  type: integer(0n, INT_MAX),
  defaultValue: '511',
  apply: 'restart',
  description: "Length of the listen queue; the node agent raises the kernel's somaxconn to at least this.",
});

export const maxclients = engineParameter({
  name: 'maxclients',
  type: integer(1n, 4294967295n),
  defaultValue: '65000',
  defaultDiffers: {
    engineDefault: '10000',
    reason: "ElastiCache's value; where the open-file limit is lower, the engine lowers it itself at start and logs a warning",
  },
  elastiCache: 'Not modifiable in ElastiCache.',
  description: 'Most simultaneous client connections.',
});

export const clientQueryBufferLimit = engineParameter({
  name: 'client-query-buffer-limit',
  type: memory(1024n ** 2n, LLONG_MAX),
  defaultValue: '1073741824',
  description: 'Largest query buffer of one client; a client that exceeds it is disconnected.',
});

export const protoMaxBulkLen = engineParameter({
  name: 'proto-max-bulk-len',
  type: memory(1024n ** 2n, LLONG_MAX),
  defaultValue: '536870912',
  description: 'Largest single bulk string (one argument of a command) a client may send.',
});

/** ElastiCache's three parameters of one `client-output-buffer-limit <class> <hard> <soft> <seconds>` line. */
function outputBufferLimits(
  elastiCacheClass: string,
  redisClass: string,
  defaults: { hard: string; soft: string; seconds: string },
  who: string,
): ParameterSpec[] {
  const part = (position: number) => ({ directive: 'client-output-buffer-limit', group: redisClass, position });
  const nodeTypeNote = elastiCacheClass === 'replica'
    ? 'ElastiCache sizes it per node type and does not let you change it; cachefleet uses the engine\'s value.'
    : undefined;
  return [
    engineParameter({
      name: `client-output-buffer-limit-${elastiCacheClass}-hard-limit`,
      type: memory(0n, LLONG_MAX),
      defaultValue: defaults.hard,
      part: part(0),
      elastiCache: nodeTypeNote,
      description: `Output buffer size at which ${who} are disconnected at once (0: no limit).`,
    }),
    engineParameter({
      name: `client-output-buffer-limit-${elastiCacheClass}-soft-limit`,
      type: memory(0n, LLONG_MAX),
      defaultValue: defaults.soft,
      part: part(1),
      elastiCache: nodeTypeNote,
      description: `Output buffer size at which ${who} are disconnected once it lasts the soft seconds (0: no limit).`,
    }),
    engineParameter({
      name: `client-output-buffer-limit-${elastiCacheClass}-soft-seconds`,
      type: integer(0n, INT_MAX),
      defaultValue: defaults.seconds,
      part: part(2),
      description: `Seconds ${who} may stay above the soft limit.`,
    }),
  ];
}

export const CLIENT_OUTPUT_BUFFER_LIMITS = [
  ...outputBufferLimits('normal', 'normal', { hard: '0', soft: '0', seconds: '0' }, 'normal clients'),
  ...outputBufferLimits('replica', 'replica', { hard: '268435456', soft: '67108864', seconds: '60' }, 'replicas'),
  ...outputBufferLimits('pubsub', 'pubsub', { hard: '33554432', soft: '8388608', seconds: '60' }, 'pub/sub subscribers'),
];

export const trackingTableMaxKeys = engineParameter({
  name: 'tracking-table-max-keys',
  type: integer(0n, LLONG_MAX),
  defaultValue: '1000000',
  description: 'Most keys tracked for client-side caching; beyond it, clients get invalidations for random keys (0: no limit).',
});

export const ioThreads = engineParameter({
  name: 'io-threads',
  type: integer(1n, 128n),
  defaultValue: '1',
  apply: 'restart',
  elastiCache: 'ElastiCache sets its enhanced I/O threads per node type; here, set it to a few less than the vCPUs on large nodes.',
  description: 'Threads that write replies (and read queries with io-threads-do-reads) beside the main thread (1: main thread only).',
});

export const ioThreadsDoReads = engineParameter({
  name: 'io-threads-do-reads',
  type: yesNo(),
  defaultValue: 'no',
  apply: 'restart',
  description: 'Makes the I/O threads read and parse queries too, not only write replies.',
});

export const databases = engineParameter({
  name: 'databases',
  type: integer(1n, INT_MAX),
  defaultValue: '16',
  apply: 'restart',
  description: 'Number of logical databases (SELECT 0 to n-1).',
});

export const hz = engineParameter({
  name: 'hz',
  // The engine clamps values outside 1 to 500 to that range; refusing them says so at synth time.
  type: integer(1n, 500n),
  defaultValue: '10',
  description: 'Frequency of background tasks (expiry, timeouts, rehashing), per second.',
});

export const dynamicHz = engineParameter({
  name: 'dynamic-hz',
  type: yesNo(),
  defaultValue: 'yes',
  description: 'Raises hz temporarily while many clients are connected.',
});

export const luaTimeLimit = engineParameter({
  name: 'lua-time-limit',
  type: integer(0n, LLONG_MAX),
  defaultValue: '5000',
  elastiCache: 'Not modifiable in ElastiCache. Redis 7 also calls it busy-reply-threshold.',
  description: 'Milliseconds a script or function may run before the server answers BUSY to other clients.',
});

export const notifyKeyspaceEvents = engineParameter({
  name: 'notify-keyspace-events',
  type: letters('KEg$lshzxetmdnA'),
  defaultValue: '',
  description: 'Keyspace events published over pub/sub: K or E plus event classes, such as Ex for expirations (empty: none).',
});

export const aclPubsubDefault = engineParameter({
  name: 'acl-pubsub-default',
  type: oneOf('allchannels', 'resetchannels'),
  defaultValue: 'allchannels',
  since: '6.2',
  defaultDiffers: {
    engineDefault: 'resetchannels',
    reason: "ElastiCache's default: an ACL user whose rules name no channels may use all pub/sub channels, as with Redis 6",
  },
  description: 'The pub/sub channels of an ACL user whose rules name none: all, or none.',
});

export const acllogMaxLen = engineParameter({
  name: 'acllog-max-len',
  type: integer(0n, LLONG_MAX),
  defaultValue: '128',
  description: 'Entries kept in the ACL LOG of refused commands and authentications.',
});

export const shutdownTimeout = engineParameter({
  name: 'shutdown-timeout',
  type: integer(0n, INT_MAX),
  defaultValue: '10',
  since: '7.0',
  description: 'Seconds a shutting-down primary waits for its replicas to catch up.',
});

/** The client parameters of every Redis and Valkey family, in rendering order. */
export const REDIS_CLIENT_PARAMETERS = [
  timeout,
  tcpKeepalive,
  tcpBacklog,
  maxclients,
  clientQueryBufferLimit,
  protoMaxBulkLen,
  ...CLIENT_OUTPUT_BUFFER_LIMITS,
  trackingTableMaxKeys,
  ioThreads,
  ioThreadsDoReads,
  databases,
  hz,
  dynamicHz,
  luaTimeLimit,
  notifyKeyspaceEvents,
  aclPubsubDefault,
  acllogMaxLen,
  shutdownTimeout,
];
