import { renamedRefusals } from './parameter-spec';

/**
 * Names a Redis or Valkey parameter group may not set, and why (each reason completes
 * "`parameters.<name>` …"). Refusing with the reason beats "unknown parameter, did you mean …".
 */

const SET_BY_AGENT_ADDRESS = "is set by the node agent to the slot's own address";
const SET_BY_AGENT_PATHS = 'is set by the node agent to a path on the data volume';
const SET_BY_AGENT_PROCESS = 'is set by the node agent, which runs the engine in the foreground and collects its output';
const SET_FROM_AUTH = 'is set by cachefleet from the AUTH settings: ACL users with generated secrets, the default user off';
const SET_BY_SENTINEL = 'is decided at boot by the node agent and then by Sentinel, never fixed by configuration';

/** Directives cachefleet's renderers and node agent set themselves. */
const MANAGED: { [name: string]: string } = {
  'port': 'is set from the `port` prop',
  'bind': SET_BY_AGENT_ADDRESS,
  'replica-announce-ip': SET_BY_AGENT_ADDRESS,
  'replica-announce-port': 'is set from the `port` prop',
  'dir': SET_BY_AGENT_PATHS,
  'dbfilename': SET_BY_AGENT_PATHS,
  'appendfilename': SET_BY_AGENT_PATHS,
  'appenddirname': SET_BY_AGENT_PATHS,
  'aclfile': SET_FROM_AUTH,
  'requirepass': SET_FROM_AUTH,
  'masterauth': SET_FROM_AUTH,
  'masteruser': SET_FROM_AUTH,
  'user': SET_FROM_AUTH,
  'protected-mode': 'is set by cachefleet: access is guarded by ACL users and the security group',
  'replicaof': SET_BY_SENTINEL,
  'slaveof': SET_BY_SENTINEL,
  'replica-read-only': 'is always yes: replicas never take writes, Sentinel promotes one instead',
  'maxmemory': "is computed at boot by the node agent: the node's memory less `reserved-memory-percent`",
  'daemonize': SET_BY_AGENT_PROCESS,
  'supervised': SET_BY_AGENT_PROCESS,
  'pidfile': SET_BY_AGENT_PROCESS,
  'logfile': SET_BY_AGENT_PROCESS,
  'syslog-enabled': SET_BY_AGENT_PROCESS,
  'include': 'is not a parameter: the node agent includes the group\'s and the node\'s files itself',
  'rename-command': 'would break Sentinel and the node agent, which call CONFIG, REPLICAOF and INFO; restrict commands with ACL users instead',
};

/** ElastiCache's own parameters that a self-managed node cannot honour. */
const ELASTICACHE_ONLY: { [name: string]: string } = {
  'reserved-memory':
    "is ElastiCache's fixed reserve in bytes; cachefleet reserves a share of each node's memory instead: set `reserved-memory-percent` (0 to 90)",
  'rename-commands':
    "is ElastiCache's command renaming, which would break Sentinel and the node agent; restrict commands with ACL users instead",
  'lua-replicate-commands': 'was removed in Redis 6 (scripts always replicate their effects) and ElastiCache dropped it with the redis6.x family',
};

/** Names Redis 5 changed; ElastiCache and cachefleet know only the new ones. */
const RENAMED_IN_REDIS_5 = renamedRefusals({
  'min-slaves-to-write': 'min-replicas-to-write',
  'min-slaves-max-lag': 'min-replicas-max-lag',
  'slave-lazy-flush': 'replica-lazy-flush',
  'slave-ignore-maxmemory': 'replica-ignore-maxmemory',
  'slave-priority': 'replica-priority',
  'slave-serve-stale-data': 'replica-serve-stale-data',
  'slave-allow-chaining': 'replica-allow-chaining',
  'close-on-slave-write': 'close-on-replica-write',
  'repl-ping-slave-period': 'repl-ping-replica-period',
  'client-output-buffer-limit-slave-hard-limit': 'client-output-buffer-limit-replica-hard-limit',
  'client-output-buffer-limit-slave-soft-limit': 'client-output-buffer-limit-replica-soft-limit',
  'client-output-buffer-limit-slave-soft-seconds': 'client-output-buffer-limit-replica-soft-seconds',
});

/** The refusals every Redis and Valkey family shares. */
export const REDIS_REFUSALS: { readonly [name: string]: string } = { ...MANAGED, ...ELASTICACHE_ONLY, ...RENAMED_IN_REDIS_5 };
