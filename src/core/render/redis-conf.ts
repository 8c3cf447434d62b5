import { FleetPlan } from '../topology';
import { fileText, line, parameterArguments } from './config-syntax';
import { isPersistenceDirective, persistenceDirectives } from './persistence-directives';
import { requireEngine } from './plan-facts';
import { NODE_DIRECTIVES } from './redis-node-conf';

/**
 * Directives this file sets itself, ahead of the parameters: a parameter of the same name would be
 * a second, conflicting line.
 */
const FIXED_DIRECTIVES = ['port', 'protected-mode', 'daemonize', 'logfile'] as const;

/**
 * Redis 7.0 and later (and Valkey) refuse `DEBUG`, `MODULE` and `CONFIG SET` of protected settings
 * (`dir`, `dbfilename`…) to every user, whatever the ACL, unless these say otherwise. The ACL already
 * keeps all three from the application user (`-@dangerous`); `yes` leaves them to the admin user,
 * who has the unrestricted engine wherever it connects from. Redis 6.2 has no such directive: there
 * the ACL alone decides, as here.
 */
const ADMIN_COMMAND_GATES = ['enable-debug-command', 'enable-module-command', 'enable-protected-configs'] as const;

/**
 * Directives no parameter may set: they are the renderers' (above, and the node's include) or would
 * undo what the files decide (an `include`, users outside the ACL file, a password for `default`,
 * a fixed replication role that only Sentinel and the agent may decide).
 */
const RESERVED_DIRECTIVES = new Set<string>([
  ...FIXED_DIRECTIVES,
  ...NODE_DIRECTIVES,
  'include',
  'user',
  'requirepass',
  'replicaof',
  'slaveof',
  'cluster-enabled',
  ...ADMIN_COMMAND_GATES,
]);

/**
 * Directives a parameter may give more than once, one line per value of their first argument:
 * `client-output-buffer-limit` is one line per client class.
 */
const PER_FIRST_ARGUMENT = new Set(['client-output-buffer-limit']);

/**
 * `redis.conf`, the group's engine configuration, the same on every data node: no address, path or
 * secret (those are in redis-node.conf, included after it). Each directive appears once.
 *
 * Persistence (`appendonly`, `appendfsync`, `save`) comes from `plan.persistence` only: the planner
 * already folded a parameter group's values of these into it, so engine parameters of those names
 * are skipped. A parameter that names a directive the renderers own, or that repeats, is a planner
 * bug and throws.
 */
export function renderRedisConf(plan: FleetPlan): string {
  requireEngine(plan, 'redis', 'redis.conf');
  const lines = [
    `# cachefleet: engine configuration of the data nodes of "${plan.name}" (${plan.engine.engineType} ${plan.engine.engineVersion}).`,
    '# The node agent includes this file, then the node\'s filled redis-node.conf.',
    line('port', plan.port),
    // Access is guarded by the ACL (default user off); protected mode would refuse other hosts.
    line('protected-mode', 'no'),
    // The agent (systemd, a container) supervises the process and collects its standard output.
    line('daemonize', 'no'),
    line('logfile', '""'),
    ...(plan.engine.parameterGroupFamily === 'redis6.x' ? [] : ADMIN_COMMAND_GATES.map((name) => line(name, 'yes'))),
    // The `clusterMode` prop alone decides the mode; the agent forms the cluster.
    ...(plan.cluster ? [line('cluster-enabled', 'yes')] : []),
    ...persistenceDirectives(plan.persistence),
  ];
  const seen = new Set<string>();
  for (const [name, value] of plan.engineParameters) {
    if (isPersistenceDirective(name)) continue;
    if (RESERVED_DIRECTIVES.has(name)) {
      throw new Error(`engine parameter "${name}" of fleet "${plan.name}" names a directive the renderers set; the catalog must not resolve it`);
    }
    const args = parameterArguments(value);
    const key = PER_FIRST_ARGUMENT.has(name) ? `${name} ${args.split(' ')[0]}` : name;
    if (seen.has(key)) throw new Error(`engine parameter "${key}" of fleet "${plan.name}" appears twice`);
    seen.add(key);
    lines.push(line(name, args));
  }
  return fileText(lines);
}
