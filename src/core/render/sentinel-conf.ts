import { FleetPlan } from '../topology';
import { adminUser, applicationUserOnSentinels, defaultUserOnSentinels, sentinelUserOnSentinels } from './acl-rules';
import { fileText, line, quoted } from './config-syntax';
import { placeholder } from './placeholders';
import { initialPrimary, requireEngine, sentinelPort } from './plan-facts';

/**
 * `sentinel.conf`, a sentinel's configuration. The agent writes the live file from it at every
 * start, keeping only the runtime state Sentinel wrote there (its id, the current primary, epochs,
 * known peers): this file's lines are the deploy's.
 *
 * Authentication:
 * - to data nodes, as the sentinel user with the internal password (`auth-user`, `auth-pass`);
 * - to each other, as the same user (`sentinel-user`, `sentinel-pass`): the user below has what a
 *   peer sends and nothing else;
 * - clients, with the AUTH token as the application user or as `default` (the only way for clients
 *   that send a password alone): both may discover the primary and follow Sentinel's events, but
 *   not change a sentinel (`SENTINEL FAILOVER`, `SET`, `REMOVE`…): that is the admin user's, whose
 *   secret the application does not hold. Passwords are stored as hashes, never in clear.
 *
 * Addresses only, never names (`resolve-hostnames no`, `announce-hostnames no`): slots have fixed
 * addresses. Scripts cannot be repointed at runtime (`deny-scripts-reconfig yes`): `SENTINEL SET` of
 * a script path would let any client run a program on the node. Sentinel refuses to start unless the
 * failover hook exists and is executable.
 */
export function renderSentinelConf(plan: FleetPlan): string {
  requireEngine(plan, 'redis', 'sentinel.conf');
  const sentinel = plan.sentinel;
  if (!sentinel) throw new Error(`fleet "${plan.name}" has no sentinel: it does not fail over`);
  const port = sentinelPort(plan);
  const primary = initialPrimary(plan);
  const master = sentinel.masterName;
  return fileText([
    `# cachefleet: initial configuration of the sentinels of "${plan.name}"; Sentinel rewrites it at runtime.`,
    line('port', port),
    line('bind', placeholder('address')),
    line('daemonize', 'no'),
    line('logfile', '""'),
    line('dir', quoted(placeholder('sentinel-dir'))),
    line('sentinel', 'announce-ip', placeholder('address')),
    line('sentinel', 'announce-port', port),
    line('sentinel', 'resolve-hostnames', 'no'),
    line('sentinel', 'announce-hostnames', 'no'),
    line('sentinel', 'deny-scripts-reconfig', 'yes'),
    defaultUserOnSentinels(plan),
    applicationUserOnSentinels(plan),
    adminUser(plan),
    sentinelUserOnSentinels(plan),
    line('sentinel', 'sentinel-user', plan.users.sentinel),
    line('sentinel', 'sentinel-pass', quoted(placeholder('internal-password'))),
    line('sentinel', 'monitor', master, primary.address, plan.port, sentinel.quorum),
    line('sentinel', 'down-after-milliseconds', master, sentinel.downAfterMillis),
    line('sentinel', 'failover-timeout', master, sentinel.failoverTimeoutMillis),
    line('sentinel', 'parallel-syncs', master, sentinel.parallelSyncs),
    line('sentinel', 'auth-user', master, plan.users.sentinel),
    line('sentinel', 'auth-pass', master, quoted(placeholder('internal-password'))),
    line('sentinel', 'client-reconfig-script', master, quoted(placeholder('on-failover-hook'))),
  ]);
}
