import { engineParameter, FamilyCatalog, ParameterSpec, withDefault } from './parameter-spec';
import { ioThreadsDoReads } from './redis-clients';
import {
  lazyfreeLazyEviction,
  lazyfreeLazyExpire,
  lazyfreeLazyServerDel,
  lazyfreeLazyUserDel,
  lazyfreeLazyUserFlush,
  replicaLazyFlush,
} from './redis-memory';
import { replBacklogSize } from './redis-replication';
import { VALKEY7 } from './valkey7';
import { integer, LLONG_MAX, yesNo } from './value-types';

/** Valkey 8.0 changed these defaults; ElastiCache follows it (or, for lazyfree, no longer exposes them). */
const VALKEY8_DEFAULTS: { [name: string]: ParameterSpec } = Object.fromEntries(
  [
    withDefault(lazyfreeLazyEviction, 'yes'),
    withDefault(lazyfreeLazyExpire, 'yes'),
    withDefault(lazyfreeLazyServerDel, 'yes'),
    withDefault(lazyfreeLazyUserDel, 'yes'),
    withDefault(lazyfreeLazyUserFlush, 'yes'),
    // ElastiCache's yes is Valkey 8's own default: nothing differs deliberately any more.
    withDefault(replicaLazyFlush, 'yes'),
    withDefault(ioThreadsDoReads, 'yes'),
    withDefault(replBacklogSize, '10485760'),
  ].map((spec) => [spec.name, spec]),
);

const commandlogThreshold = (name: string, what: string) =>
  engineParameter({
    name,
    type: integer(-1n, LLONG_MAX),
    defaultValue: '1048576',
    since: '8.1',
    description: `Bytes above which a ${what} enters the command log (-1: none).`,
  });

const commandlogLength = (name: string, what: string) =>
  engineParameter({
    name,
    type: integer(0n, LLONG_MAX),
    defaultValue: '128',
    since: '8.1',
    description: `Entries the command log keeps for large ${what}.`,
  });

/** What Valkey 8 added to Valkey 7.2's parameters. */
const VALKEY8_ADDITIONS: ParameterSpec[] = [
  engineParameter({
    name: 'extended-redis-compatibility',
    type: yesNo(),
    defaultValue: 'yes',
    since: '8.0',
    defaultDiffers: {
      engineDefault: 'no',
      reason: "ElastiCache's default: Valkey presents itself as Redis 7.2.4 (HELLO, INFO), so clients and tools that check for Redis keep working",
    },
    description: 'Makes Valkey present itself as Redis 7.2.4 in HELLO, INFO and error messages.',
  }),
  engineParameter({
    name: 'hide-user-data-from-log',
    type: yesNo(),
    defaultValue: 'yes',
    since: '8.0',
    description: 'Keeps keys and values out of the server log (crash reports, slow or failed commands).',
  }),
  engineParameter({
    name: 'dual-channel-replication-enabled',
    type: yesNo(),
    defaultValue: 'no',
    since: '8.0',
    description: 'Sends a full resync\'s snapshot and the writes made meanwhile over two connections, so the primary buffers less.',
  }),
  engineParameter({
    name: 'max-new-connections-per-cycle',
    type: integer(1n, 1000n),
    defaultValue: '10',
    since: '8.0',
    description: 'New connections accepted per event-loop cycle, which keeps a connection storm from starving served clients.',
  }),
  engineParameter({
    name: 'prefetch-batch-max-size',
    type: integer(0n, 128n),
    defaultValue: '16',
    since: '8.0',
    description: 'Keys of queued commands prefetched into the CPU cache at once when I/O threads are on (0 or 1: off).',
  }),
  commandlogThreshold('commandlog-request-larger-than', 'request'),
  commandlogLength('commandlog-large-request-max-len', 'requests'),
  commandlogThreshold('commandlog-reply-larger-than', 'reply'),
  commandlogLength('commandlog-large-reply-max-len', 'replies'),
];

/** The valkey-search module's parameters in ElastiCache, refused: cachefleet's nodes do not load the module. */
const SEARCH_MODULE = 'configures the valkey-search module, which cachefleet nodes do not load';

/** ElastiCache's `valkey8` family: Valkey 8.0 and 8.1 (parameters added in 8.1 are gated to it). */
export const VALKEY8: FamilyCatalog = {
  ...VALKEY7,
  family: 'valkey8',
  firstVersion: '8.0',
  entries: [...VALKEY7.entries.map((spec) => VALKEY8_DEFAULTS[spec.name] ?? spec), ...VALKEY8_ADDITIONS],
  refusals: {
    ...VALKEY7.refusals,
    'search-fanout-target-mode': SEARCH_MODULE,
    'search-default-timeout-ms': SEARCH_MODULE,
    'search-enable-partial-results': SEARCH_MODULE,
  },
};
