import { FleetPlan, REPLICA_OUTPUT_BUFFER } from '../topology';
import { fileText, line, quoted } from './config-syntax';
import { placeholder } from './placeholders';
import { requireEngine } from './plan-facts';

/** The directives of redis-node.conf: what only a node knows at boot. */
export const NODE_DIRECTIVES: readonly string[] = [
  'bind',
  'replica-announce-ip',
  'replica-announce-port',
  'dir',
  'aclfile',
  'maxmemory',
  'masteruser',
  'masterauth',
  'cluster-config-file',
  'cluster-announce-ip',
  'cluster-announce-port',
  'cluster-announce-bus-port',
  'bind-source-addr',
];

/**
 * The cluster state file's name in the data directory: on the data volume, so that a node keeps its
 * id, its view of the cluster and its role across restarts and instance replacements.
 */
export const CLUSTER_CONFIG_FILE_NAME = 'nodes.conf';

/**
 * `redis-node.conf`, the include the agent fills at boot and includes after redis.conf.
 *
 * The node listens on and announces its slot's fixed address only: outbound traffic may leave from
 * another interface, and a replica must be known to its primary and to Sentinel by the address that
 * survives the machine. Every data node carries `masteruser`/`masterauth`, the primary too: Sentinel
 * turns any node into a replica. No `pidfile` (the process stays in the foreground) and no
 * `replicaof` (the agent decides the role at each boot).
 *
 * Paths and the password are double-quoted: the agent inserts values literally, and a quoted path
 * may hold spaces. `fillPlaceholders` refuses a value a quote could not hold.
 */
export function renderRedisNodeConf(plan: FleetPlan): string {
  requireEngine(plan, 'redis', 'redis-node.conf');
  return fileText([
    `# cachefleet: a data node of "${plan.name}"; the node agent fills its placeholders at boot.`,
    line('bind', placeholder('address')),
    line('replica-announce-ip', placeholder('address')),
    line('replica-announce-port', plan.port),
    line('dir', quoted(placeholder('data-dir'))),
    line('aclfile', quoted(placeholder('acl-file'))),
    line('maxmemory', placeholder('maxmemory')),
    // Sized from the node's memory unless the parameter group sets it (REPLICA_OUTPUT_BUFFER).
    ...(plan.replicaOutputBufferFromMemory
      ? [line('client-output-buffer-limit', `replica ${placeholder('replica-output-buffer-hard')} ${placeholder('replica-output-buffer-soft')} ${REPLICA_OUTPUT_BUFFER.softSeconds}`)]
      : []),
    line('masteruser', plan.users.replication),
    line('masterauth', quoted(placeholder('internal-password'))),
    // Cluster mode: the state file on the data volume, and the slot's fixed address announced to the
    // other nodes and in MOVED / CLUSTER SLOTS, whatever interface the node's traffic leaves from.
    ...(plan.cluster
      ? [
        line('cluster-config-file', quoted(`${placeholder('data-dir')}/${CLUSTER_CONFIG_FILE_NAME}`)),
        line('cluster-announce-ip', placeholder('address')),
        line('cluster-announce-port', plan.port),
        line('cluster-announce-bus-port', plan.cluster.busPort),
        // The node's own connections (the cluster bus, replication, MIGRATE) leave from the fixed
        // address too, so that its peers see one node at one address in both directions: a node
        // cut off from the others is cut off both ways, as its failure detection assumes. Redis
        // 6.2 has no such directive and binds them to its first `bind` address itself. On EC2,
        // Amazon Linux 2023's policy routing sends traffic from an interface's address out of that
        // interface.
        ...(plan.engine.parameterGroupFamily === 'redis6.x' ? [] : [line('bind-source-addr', placeholder('address'))]),
      ]
      : []),
  ]);
}
