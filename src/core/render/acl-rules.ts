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

/**
 * What the application user gets back of `@dangerous` (`+@all -@dangerous` takes the whole category,
 * which Redis and Valkey fill with administration and a few data commands). Checked against
 * `ACL CAT dangerous` of Redis 7.0 and Valkey 8.0 (the same list) and Redis 6.2's command table:
 *
 * - `INFO` and `ROLE`: read-only, and what clients send on their own: ioredis' ready check sends
 *   `INFO`, Sentinel-aware clients (redis-py, go-redis) ask a node its `ROLE` before trusting it;
 * - the data commands an application legitimately uses, as ElastiCache allows them: `KEYS`, `SORT`,
 *   `FLUSHDB`, `FLUSHALL`, `SWAPDB` (the user may already delete or move every key one by one);
 * - the `CLIENT` subcommands a client uses on its own connection (names, ids, tracking, replies).
 *   Redis 7 and Valkey already leave these out of `@dangerous`; Redis 6.2 puts all of `CLIENT`
 *   there, so the rule names them for 6.2, where each is a subcommand of a command `-@dangerous`
 *   took whole (6.2 refuses a subcommand of a command already allowed).
 *
 * Everything else of `@dangerous` stays refused: `CONFIG` (`CONFIG GET masterauth` would show the
 * internal password; `CONFIG SET dir` + `SAVE` writes files where the engine's user may), `MODULE`
 * and `DEBUG` (code in the engine), `SHUTDOWN`, `REPLICAOF`/`SLAVEOF`/`FAILOVER` (only Sentinel and
 * the agent decide roles), `SYNC`/`PSYNC`/`REPLCONF`, `ACL` changes, `CLIENT KILL`/`LIST`/`PAUSE`/
 * `NO-EVICT`/`UNBLOCK` (other connections, Sentinel's among them), `MONITOR` and `SLOWLOG` (other
 * users' commands), `SAVE`/`BGSAVE`/`BGREWRITEAOF`, `MIGRATE` (connects anywhere), `RESTORE`
 * (parses a client-supplied payload that the engine does not sanitize by default) and the
 * `CLUSTER` administration.
 */
const APPLICATION_DANGEROUS_KEPT = [
  '+info',
  '+role',
  '+keys',
  '+sort',
  '+flushdb',
  '+flushall',
  '+swapdb',
  '+client|setname',
  '+client|getname',
  '+client|id',
  '+client|info',
  '+client|reply',
  '+client|tracking',
  '+client|trackinginfo',
  '+client|caching',
  '+client|getredir',
] as const;

/** `SORT_RO` (Redis 7.0 and later, Valkey) is `@dangerous` like `SORT`; Redis 6.2 has no such command. */
const APPLICATION_DANGEROUS_KEPT_FROM_7 = ['+sort_ro'] as const;

/**
 * What a cluster-aware client reads of the cluster (cluster mode only): the slot map and the nodes.
 * Redis 6.2 files all of `CLUSTER` under `@admin` (so `@dangerous`), and the changes (`MEET`,
 * `ADDSLOTS`, `FAILOVER`, `FORGET`…) stay the admin user's in every version.
 */
const APPLICATION_CLUSTER_READS = ['+cluster|slots', '+cluster|nodes', '+cluster|info', '+cluster|myid', '+cluster|keyslot'] as const;

/** `CLUSTER SHARDS`, which newer clients prefer to `CLUSTER SLOTS`: Redis 7.0 and later, Valkey. */
const APPLICATION_CLUSTER_READS_FROM_7 = ['+cluster|shards'] as const;

/**
 * What Sentinel-aware clients send a sentinel (ioredis, redis-py, Jedis, Lettuce, go-redis): they
 * authenticate (`AUTH`, `HELLO`), name their connection, ask where the primary, the replicas and
 * the other sentinels are, and subscribe to Sentinel's events (`+switch-master`); health checks ask
 * whether a quorum is reachable (`SENTINEL CKQUORUM`, read-only). Nothing that
 * changes a sentinel: `SENTINEL FAILOVER`, `SET`, `REMOVE`, `MONITOR`, `RESET`, `CONFIG`, `DEBUG`,
 * `FLUSHCONFIG`, `IS-MASTER-DOWN-BY-ADDR` (a vote), `PUBLISH`, `SHUTDOWN`, `ACL` and `CLIENT KILL`
 * are the admin user's. Every command here is in Redis 6.2's Sentinel command table too.
 */
export const CLIENT_COMMANDS_ON_SENTINELS = [
  '+ping',
  '+auth',
  '+hello',
  '+command',
  '+info',
  '+role',
  '+client|setname',
  '+client|getname',
  '+client|id',
  '+subscribe',
  '+psubscribe',
  '+unsubscribe',
  '+punsubscribe',
  '+sentinel|get-master-addr-by-name',
  '+sentinel|masters',
  '+sentinel|master',
  '+sentinel|replicas',
  '+sentinel|slaves',
  '+sentinel|sentinels',
  '+sentinel|ckquorum',
] as const;

/**
 * The application user on data nodes: every key and channel, and every command but `@dangerous`
 * less what clients need of it (`APPLICATION_DANGEROUS_KEPT`). The admin user keeps the rest.
 */
export function applicationUser(plan: FleetPlan): string {
  const from7 = plan.engine.parameterGroupFamily !== 'redis6.x';
  const kept: readonly string[] = [
    ...APPLICATION_DANGEROUS_KEPT,
    ...(from7 ? APPLICATION_DANGEROUS_KEPT_FROM_7 : []),
    ...(plan.cluster ? APPLICATION_CLUSTER_READS : []),
    ...(plan.cluster && from7 ? APPLICATION_CLUSTER_READS_FROM_7 : []),
  ];
  return `user ${plan.users.application} on #${placeholder('app-password-sha256')} ~* &* +@all -@dangerous ${kept.join(' ')}`;
}

/**
 * The admin user, on data nodes and sentinels alike: everything (`CONFIG`, `MODULE`, `DEBUG`,
 * `SENTINEL FAILOVER`…), with a secret of its own that the application never holds. The node agent
 * uses it for its own operations.
 */
export function adminUser(plan: FleetPlan): string {
  return `user ${plan.users.admin} on #${placeholder('admin-password-sha256')} ~* &* +@all`;
}

/** The application user on sentinels: what Sentinel-aware clients need, nothing that changes a sentinel. */
export function applicationUserOnSentinels(plan: FleetPlan): string {
  return sentinelClientUser(plan, plan.users.application);
}

/**
 * `CLIENT SETINFO` (Redis 7.2 and later, every Valkey): clients such as ioredis send it on connect
 * to name their library. Harmless, on the client's own connection; a sentinel leaves it out of a
 * `-@all` user, and Redis 7.0, which has no such subcommand, refuses a rule that names it.
 */
function hasClientSetinfo(plan: FleetPlan): boolean {
  const [major, minor] = plan.engine.majorVersion.split('.').map(Number);
  return plan.engine.engineType === 'valkey' || major > 7 || (major === 7 && minor >= 2);
}

/**
 * On sentinels, `default` takes the AUTH token too, with the application user's rights: clients that
 * send only a password (many Sentinel clients do) reach them, and gain nothing the application user
 * has not.
 */
export function defaultUserOnSentinels(plan: FleetPlan): string {
  return sentinelClientUser(plan, 'default');
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

function sentinelClientUser(plan: FleetPlan, name: string): string {
  const commands: readonly string[] = hasClientSetinfo(plan) ? [...CLIENT_COMMANDS_ON_SENTINELS, '+client|setinfo'] : CLIENT_COMMANDS_ON_SENTINELS;
  return `user ${name} on #${placeholder('app-password-sha256')} resetchannels &* -@all ${commands.join(' ')}`;
}

function internalUser(name: string, channel: string | undefined, commands: readonly string[]): string {
  const rules = ['on', `#${placeholder('internal-password-sha256')}`, 'resetkeys', 'resetchannels'];
  if (channel) rules.push(channel);
  return `user ${name} ${[...rules, '-@all', ...commands].join(' ')}`;
}
