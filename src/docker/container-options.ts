import { AuthToken } from './auth-token';
import { RemovalPolicy } from './removal-policy';
import { RestartPolicy } from './restart-policy';

/**
 * What every Docker fleet takes beside the engine-neutral props: its network, the containers'
 * limits, how ports reach the host, and the AUTH token.
 */
export interface DockerFleetOptions {
  /**
   * The IPv4 subnet of the fleet's private Docker network. Each slot has a fixed address by its
   * name, whatever the replica or node count: `node-k` is host `10 + k`, `sentinel-j` host
   * `16 + j`; with cluster mode enabled, node r of shard s is `node-<6s + r>`, host `10 + 6s + r`. The subnet must
   * hold every address the fleet can ever use (hosts 10-18 of a replication group, 10-49 of a
   * Memcached cluster; with cluster mode enabled, 6 per shard below the subnet's last quarter,
   * which other containers of the network take: a /24 holds 30 shards), must not overlap another Docker network of
   * the stack, and must lie outside the ranges no bridge network can use (0.0.0.0/8, loopback
   * 127.0.0.0/8, link-local 169.254.0.0/16, multicast 224.0.0.0/4, reserved 240.0.0.0/4). Changing
   * it replaces every container; the data volumes stay.
   *
   * @default - a /24 of 172.16.0.0/16 (a private range outside Docker's default address pools) that
   * a hash of the fleet's construct path picks: the same at every synth, whatever other fleets the
   * stack has or loses. Two fleets of a stack whose paths pick the same block are refused at synth:
   * give one of them a `subnetCidr`
   */
  readonly subnetCidr?: string;

  /**
   * The memory limit of each data node's container, in MiB; `maxmemory` (Memcached: `-m`) is this
   * limit less the parameter group's `reserved-memory-percent`.
   *
   * @default 256
   */
  readonly memoryLimitMiB?: number;

  /**
   * The CPUs each data node's container may use (`docker run --cpus`).
   *
   * @default - no CPU limit
   */
  readonly cpus?: number;

  /**
   * Whether each container publishes its port (engine or Sentinel) on the Docker host.
   *
   * @default true
   */
  readonly publishPorts?: boolean;

  /**
   * The Docker host address ports are published on. Anything other than a loopback address
   * exposes the fleet beyond this machine.
   *
   * @default '127.0.0.1'
   */
  readonly hostAddress?: string;

  /**
   * Whether a Memcached fleet may publish its ports on a host address other than loopback.
   * Memcached has no AUTH: anyone who reaches such an address reads and writes the cache.
   *
   * @default false - a Memcached fleet whose `hostAddress` is not in 127.0.0.0/8 is refused
   */
  readonly allowUnauthenticatedHostAccess?: boolean;

  /**
   * The first host port of the fleet's block: slot `node-k` publishes on `hostPortBase + k`,
   * `sentinel-j` on `hostPortBase + 6 + j`, node r of shard s on `hostPortBase + 6s + r`, whatever
   * the replica, node or shard count and across restarts. The block holds a port for every slot the
   * fleet can have (9 for Redis and Valkey, 40 for Memcached, 6 per shard with cluster mode
   * enabled); two published fleets of a stack must not share ports on one host address. A cluster
   * node's bus port is never published: only the other nodes reach it, on the fleet's network.
   *
   * @default 6400 for Redis and Valkey (6400-6408; with cluster mode enabled, 6400 to 6399 + 6 × shards), 11300 for Memcached (11300-11339)
   */
  readonly hostPortBase?: number;

  /**
   * What Terraform may do with the data volumes (Redis and Valkey). A volume holds the dataset: by
   * default Terraform refuses every plan that would destroy one (`terraform destroy` included), and
   * a lower replica count keeps the removed slots' volumes (see `RemovalPolicy.RETAIN`).
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * When Docker restarts the containers.
   *
   * @default RestartPolicy.UNLESS_STOPPED
   */
  readonly restartPolicy?: RestartPolicy;

  /**
   * The AUTH token clients authenticate with (Redis and Valkey; Memcached takes none).
   *
   * @default - a new sensitive Terraform variable `<fleet>_auth_token` (set `TF_VAR_<fleet>_auth_token`)
   */
  readonly authToken?: AuthToken;

  /**
   * The password of cachefleet's own users (Sentinel, replication).
   *
   * @default - the hex SHA-256 of the AUTH token and a fixed label, computed by Terraform
   */
  readonly internalAuthToken?: AuthToken;

  /**
   * The password of the admin user (`cachefleet-admin`, Redis and Valkey), which keeps the
   * unrestricted engine (`CONFIG`, `MODULE`, `DEBUG`, `SENTINEL FAILOVER`…) that the application
   * user (`authToken`) is refused. The node agent uses it too. Keep it from the applications; it must
   * differ from the AUTH token (a node refuses to start otherwise).
   *
   * There is no default value: the Docker flavor has no random provider, and a password derived
   * from the AUTH token would give its holders the admin user's rights.
   *
   * @default - a new sensitive Terraform variable `<fleet>_admin_token` (set `TF_VAR_<fleet>_admin_token`), validated like the AUTH token
   */
  readonly adminAuthToken?: AuthToken;

  /**
   * A directory on the Docker host that holds the fleet's passwords (Redis and Valkey), so that none
   * of them is in the Terraform configuration, plan or state. Each container mounts it read-only and
   * its agent reads, at every start:
   * - `app-password`: the AUTH token;
   * - `admin-password`: the admin user's password (it must differ from the AUTH token);
   * - `internal-password` (optional): the password of cachefleet's own users; without it, the
   *   hex SHA-256 of the AUTH token and a fixed label, as when Terraform derives it.
   *
   * Each file holds one line that follows the AUTH token's rule, checked by each node at start (a
   * node that refuses it never becomes healthy). Keep the directory and its files readable by root
   * only: the containers' agents read them as root. To rotate, write the new files, then stop every
   * container of the fleet and start them again (`docker stop` then `docker start`, with the fleet's
   * label): nodes and sentinels must change together. Exclusive with `authToken`,
   * `internalAuthToken` and `adminAuthToken`; no output then carries a password.
   *
   * @default - the passwords are Terraform values (`authToken`, `adminAuthToken`), written into the containers' uploads and kept in the state
   */
  readonly secretsHostPath?: string;

  /**
   * A directory of the Docker host where the fleet's backups go (Redis and Valkey): each backup is a
   * folder `<set>/` with one RDB and one manifest per shard, streamed from a replica in sync. Every
   * data node mounts it; scheduled sets (`scheduled-<yyyymmdd>`, one a day in `snapshotWindow`) older
   * than `snapshotRetentionLimit` days are removed, on-demand ones
   * (`docker exec <node> cachefleet-launch backup [name]`) stay until you remove them. Required when
   * `snapshotRetentionLimit` is above 0. Setting or changing it on a running fleet replaces its
   * containers (a mount is part of a container), each on its own data volume.
   *
   * @default - no backup location: no scheduled or on-demand backup
   */
  readonly backupPath?: string;

  /**
   * A backup set on the Docker host (a folder of `backupPath`, such as
   * `/var/backups/sessions/scheduled-20261201`) that a new fleet's primaries are seeded from before
   * their first start (Redis and Valkey). A node whose data volume holds data never restores, and a
   * node of a fleet that already serves data takes its data from its peers: it matters only when the
   * fleet is created. The set must have the fleet's shard count; a missing, truncated or altered
   * file keeps the node from starting (it never becomes healthy), its log naming the file.
   *
   * @default - no restore: the fleet starts empty
   */
  readonly restoreFrom?: string;
}
