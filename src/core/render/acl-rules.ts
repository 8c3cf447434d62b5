import { FleetPlan } from '../topology';
import { placeholder } from './placeholders';

/**
 * The ACL users of a Redis/Valkey fleet, as `user` lines (the syntax of both an ACL file and a
 * `user` directive). Passwords appear only as SHA-256 hashes (`#<hex>`), so a leaked file does not
 * leak a password, and no password character can break a line.
 */

/**
 * What a sentinel sends a data node. It monitors (`PING`, `INFO`), finds its peers on the hello
 * channel (`PUBLISH`, `SUBSCRIBE`), names its connections (`CLIENT SETNAME`), and promotes or
 * repoints a node in one transaction (`MULTI`, `SLAVEOF`, `CONFIG REWRITE`, `CLIENT KILL`, `EXEC`):
 * a failover of Redis 7.0 and of Valkey 8.0 needs each of these and leaves nothing in `ACL LOG`
 * (test/integ/render-real-servers.test.ts). `SCRIPT KILL` is sent only to a node that is down
 * and answers BUSY (a script that runs too long), a path those tests do not take.
 *
 * `ROLE`, in Redis's documented list, is sent by neither server's Sentinel; it is kept, read-only,
 * for tools that ask a node its role with this user. Valkey 8.0's Sentinel still sends `SLAVEOF`,
 * not `REPLICAOF`.
 */
export const SENTINEL_COMMANDS_ON_DATA_NODES = [
  '+ping',
  '+info',
  '+role',
  '+publish',
  '+subscribe',
  '+client|setname',
  '+multi',
  '+slaveof',
  '+config|rewrite',
  '+client|kill',
  '+exec',
  '+script|kill',
] as const;

/** What a replica sends its primary to synchronize. */
export const REPLICATION_COMMANDS = ['+psync', '+replconf', '+ping'] as const;

/**
 * What a sentinel sends another sentinel: it pings it, names its connection, publishes its hello
 * and asks for its vote. Each is needed (the same tests, with any one missing, find it denied).
 */
export const SENTINEL_COMMANDS_ON_SENTINELS = ['+ping', '+client|setname', '+publish', '+sentinel|is-master-down-by-addr'] as const;

/** The only channel sentinels use. */
const HELLO_CHANNEL = '&__sentinel__:hello';

/**
 * `default` switched off, with no password and no rights: a client that does not authenticate is
 * refused (`NOAUTH`). `protected-mode no` in redis.conf keeps the server reachable from other hosts.
 */
export const DEFAULT_USER_OFF = 'user default off resetpass resetkeys resetchannels -@all';

/** The application user: everything, as on a self-managed server (no ElastiCache restrictions). */
export function applicationUser(plan: FleetPlan): string {
  return fullAccessUser(plan.users.application);
}

/** On sentinels, `default` takes the AUTH token too: clients that send only a password reach them. */
export function defaultUserOnSentinels(): string {
  return fullAccessUser('default');
}

/** The sentinel user on data nodes. */
export function sentinelUserOnDataNodes(plan: FleetPlan): string {
  return internalUser(plan.users.sentinel, HELLO_CHANNEL, SENTINEL_COMMANDS_ON_DATA_NODES);
}

/** The sentinel user on sentinels, which peers authenticate as (`sentinel sentinel-user`). */
export function sentinelUserOnSentinels(plan: FleetPlan): string {
  return internalUser(plan.users.sentinel, HELLO_CHANNEL, SENTINEL_COMMANDS_ON_SENTINELS);
}

/** The replication user, which replicas authenticate to their primary as (`masteruser`). */
export function replicationUser(plan: FleetPlan): string {
  return internalUser(plan.users.replication, undefined, REPLICATION_COMMANDS);
}

function fullAccessUser(name: string): string {
  return `user ${name} on #${placeholder('app-password-sha256')} ~* &* +@all`;
}

function internalUser(name: string, channel: string | undefined, commands: readonly string[]): string {
  const rules = ['on', `#${placeholder('internal-password-sha256')}`, 'resetkeys', 'resetchannels'];
  if (channel) rules.push(channel);
  return `user ${name} ${[...rules, '-@all', ...commands].join(' ')}`;
}
