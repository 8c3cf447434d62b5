import { Container, ContainerUpload } from '@cdktf/provider-docker/lib/container';
import { Image } from '@cdktf/provider-docker/lib/image';
import { Network } from '@cdktf/provider-docker/lib/network';
import { Volume } from '@cdktf/provider-docker/lib/volume';
import { Annotations, Fn, Op, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { defaultSubnetCidr, FleetSubnet, fleetNetwork } from './network';
import { pinLogicalId, terraformLiteral, terraformName } from './terraform';
import { validateDockerOptions } from './validate-options';
import { addressInCidr } from '../../core/addresses';
import { agentFile, agentScript } from '../../core/agent-script';
import { ValidationError } from '../../core/errors';
import { isPinnedByDigest } from '../../core/image-reference';
import { bundleDigest, NODE_OPEN_FILES, renderBundle, restartFingerprint } from '../../core/render';
import { FleetPlan, fleetKind, fleetName, NodeService, NodeSlot, planFleet, possibleSlotNames, reservedHostCount, SHARD_HOSTS } from '../../core/topology';
import { AUTH_TOKEN_RULE, ValidatedFleet } from '../../core/validation';
import { DockerFleetOptions } from '../container-options';
import { Endpoint } from '../endpoint';
import { RemovalPolicy } from '../removal-policy';
import { RestartPolicy } from '../restart-policy';

/** Where things are inside every container (docs/node-agent.md's variables). */
export const CONTAINER_PATHS = {
  /** The launcher (src/agent/docker/launch.sh): every container's entrypoint. */
  launcher: '/usr/local/bin/cachefleet-launch',
  /** A link to the bundle the node runs, which the launcher copied from the fleet volume. */
  config: '/etc/cachefleet',
  /** The fleet volume, where the bundle container publishes the bundle (every container mounts it). */
  fleet: '/var/lib/cachefleet-fleet',
  /** Where the bundle container's uploads are: the bundle it publishes. */
  bundleSource: '/usr/local/share/cachefleet/bundle',
  state: '/var/lib/cachefleet',
  run: '/run/cachefleet',
  secrets: '/run/cachefleet/secrets',
  /** Where the directory of `secretsHostPath` is mounted (read-only). */
  hostSecrets: '/run/cachefleet/host-secrets',
  /** Where the directory of `backupPath` is mounted (the agent's backup location). */
  backups: '/var/lib/cachefleet-backups',
  /** Where the backup set of `restoreFrom` is mounted (read-only). */
  restore: '/var/lib/cachefleet-restore',
} as const;

/** The defaults of DockerFleetOptions. */
export const DOCKER_DEFAULTS = {
  memoryLimitMiB: 256,
  sentinelMemoryLimitMiB: 64,
  hostAddress: '127.0.0.1',
  /**
   * The fleet's block of addresses starts at this host of the subnet (the gateway is the first):
   * slot `node-k` takes host `firstHost + k`, `sentinel-j` takes `firstHost + 6 + j` (core's
   * SLOT_HOSTS), whatever the replica count.
   */
  firstHost: 10,
  /**
   * The first published host port: a slot publishes on `hostPortBase + <its host number>`, so a
   * slot keeps its port whatever the replica count, and across restarts (a port Docker picks
   * changes at every start).
   */
  hostPortBase: { redisLike: 6400, memcached: 11300 },
  /**
   * How long a stopping primary may take to hand over (pre-stop: SENTINEL FAILOVER, until it is a
   * replica), seconds; the engine's graceful shutdown follows.
   */
  handoverSeconds: 20,
  /**
   * How long Docker waits after SIGTERM before SIGKILL, when it stops a container (`stop_timeout`)
   * and when Terraform destroys or replaces one (`destroy_grace_seconds`, 0 when unset): the
   * handover, then the engine's shutdown (Redis's `shutdown-timeout` is 10 s).
   */
  stopGraceSeconds: 45,
  /**
   * The same in cluster mode: an apply that removes a shard may stop its nodes before the new plan
   * is published, and its master then moves the shard's hash slots to the shards that stay before
   * it stops (the agent's pre-stop). Five minutes of migration, then the handover and the shutdown.
   */
  clusterStopGraceSeconds: 345,
  /** The engines' open-file limit: core's, the same as the EC2 units' (NODE_OPEN_FILES). */
  openFiles: NODE_OPEN_FILES,
  /**
   * The only capabilities the container keeps (every other is dropped), all for the agent's start
   * as root: giving the engine's user its files (CHOWN, FOWNER), reaching them once they are its
   * (DAC_OVERRIDE), becoming that user (SETUID, SETGID) and signalling the engine it supervises
   * (KILL). The engine holds none: a change of uid clears them, and no-new-privileges keeps it
   * from gaining any. The daemon keeps the names as written and the provider reads them back so
   * (test/fixtures/provider-docker-3.6.2.json): no diff at the next plan.
   */
  capabilities: ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID'],
  securityOpts: ['no-new-privileges:true'],
  /** The bundle container only copies files and sleeps. */
  bundleMemoryLimitMiB: 32,
  /** It holds nothing to save: it exits at once on SIGTERM. */
  bundleStopGraceSeconds: 5,
} as const;

/**
 * What every container of the fleet tells Terraform to ignore. Provider 3.6.2 reads back the log
 * driver and options that a host's daemon.json sets by default, and a changed log_opts forces a
 * replacement (kreuzwerker/terraform-provider-docker #473, #873; fixed in 4.1.0): not ignored, every
 * apply would replace every container. The fleet sets neither: the host's logging applies.
 */
const IGNORED_READ_BACK = ['log_driver', 'log_opts'];

/** The label the internal password is derived with. */
export const INTERNAL_PASSWORD_LABEL = 'cachefleet-internal';

/** One container of the fleet and what it is. */
export interface FleetContainer {
  readonly slot: NodeSlot;
  readonly service: NodeService;
  readonly container: Container;
  readonly volume?: Volume;
  /** The container's published endpoint. */
  readonly endpoint: Endpoint;
}

/** What a flavor construct gets back. */
export interface DockerFleet {
  readonly plan: FleetPlan;
  readonly network: Network;
  readonly image: Image;
  readonly containers: FleetContainer[];
  /** The container that publishes the fleet's bundle to the nodes, and the volume it publishes on. */
  readonly bundle: { readonly container: Container; readonly volume: Volume };
  readonly authToken?: string;
  /**
   * The network alias over every data node of a replication group (undefined for other fleets): with
   * cluster mode enabled, the configuration endpoint's host name.
   */
  readonly readerAlias?: string;
  /** `container address:port` -> `host address:host port`, for host-side clients (ioredis `natMap`). */
  readonly hostAddressMap: Record<string, string>;
}

/**
 * Checks `hostPortBase` against the fleet's kind: every slot name the fleet can ever have owns the
 * port of its host number, so the block covers them all.
 */
export function validateHostPorts(props: DockerFleetOptions, plan: FleetPlan): void {
  const base = props.hostPortBase;
  if (base === undefined) return;
  const reserved = reservedHostCount(plan.kind, shardCount(plan));
  const highest = 65_535 - (reserved - 1);
  if (typeof base !== 'number' || !Number.isInteger(base) || base < 1 || base > highest) {
    throw new ValidationError('hostPortBase', base, `must be an integer between 1 and ${highest} (the fleet reserves ${reserved} consecutive ports, one for each slot it can have)`);
  }
  if (props.publishPorts === false) {
    throw new ValidationError('hostPortBase', base, 'must be unset when `publishPorts` is false');
  }
}

/** The first published port of a fleet: the given base, else the default of its engine. */
function hostPortBaseOf(props: DockerFleetOptions, plan: FleetPlan): number {
  return props.hostPortBase ?? (plan.engine.supportsReplication ? DOCKER_DEFAULTS.hostPortBase.redisLike : DOCKER_DEFAULTS.hostPortBase.memcached);
}

/** The shards a plan has: 1 with cluster mode disabled (and for the other kinds). */
function shardCount(plan: FleetPlan): number {
  return plan.cluster?.shards.length ?? 1;
}

/**
 * The host number before which the fleet's fixed addresses end, and after which Docker hands out
 * the addresses of other containers (the network's `ip_range`, see `fleetNetwork`).
 *
 * The block of a fleet without cluster mode is fixed by its kind: the range starts after it. A
 * cluster-mode group's block grows with its shards, but its network's range must not move (a new
 * `ip_range` replaces the network, and with it every container, all at once): whatever the shard
 * count, the range is the subnet's last quarter, and the shards fit below it.
 */
function lastFixedHost(plan: FleetPlan, subnet: string): number {
  if (plan.kind === 'cluster') return clusterRangeStart(subnet) - 1;
  return DOCKER_DEFAULTS.firstHost + reservedHostCount(plan.kind) - 1;
}

/** The number of addresses of a (valid) IPv4 block. */
function blockSize(cidr: string): number {
  return 2 ** (32 - Number(cidr.split('/')[1]));
}

/** The first host of a cluster-mode group's subnet left to other containers: its last quarter. */
function clusterRangeStart(subnet: string): number {
  return (blockSize(subnet) / 4) * 3;
}

/** The most shards a cluster-mode group's subnet holds below its last quarter. */
export function maxShardsIn(subnet: string): number {
  return Math.floor((clusterRangeStart(subnet) - DOCKER_DEFAULTS.firstHost) / SHARD_HOSTS);
}

/** The longest prefix of a subnet that holds `shards` shards below its last quarter. */
function prefixForShards(shards: number): number {
  const needed = DOCKER_DEFAULTS.firstHost + shards * SHARD_HOSTS;
  let prefix = 30;
  while ((blockSize(`0.0.0.0/${prefix}`) / 4) * 3 < needed) prefix--;
  return prefix;
}

/**
 * Checks that the subnet holds every address of the fleet's block (every slot name it can ever
 * have): a change of the replica or node count never needs another subnet. A cluster-mode group's
 * block is SHARD_HOSTS addresses per shard, below the subnet's last quarter (see `lastFixedHost`):
 * more shards than that need a larger subnet, which replaces the network.
 */
function validateSubnetRoom(subnet: FleetSubnet, kind: FleetPlan['kind'], shards: number): void {
  if (kind === 'cluster') {
    if (shards <= maxShardsIn(subnet.cidr)) return;
    const last = DOCKER_DEFAULTS.firstHost + shards * SHARD_HOSTS - 1;
    const room = `${SHARD_HOSTS} fixed addresses per shard (hosts ${DOCKER_DEFAULTS.firstHost} to ${last} for ${shards}), below the last quarter of the subnet, which other containers of the network take`;
    if (subnet.isDefault) {
      throw new ValidationError('shards', shards,
        `must be at most ${maxShardsIn(subnet.cidr)} with the default subnet (a /${subnet.cidr.split('/')[1]}): the group reserves ${room}; set subnetCidr to a /${prefixForShards(shards)} or larger for more`);
    }
    throw new ValidationError('subnetCidr', subnet.cidr,
      `must hold ${shards} shards: the group reserves ${room} (a /${prefixForShards(shards)} or larger; this one holds ${maxShardsIn(subnet.cidr)})`);
  }
  const reserved = reservedHostCount(kind);
  const last = DOCKER_DEFAULTS.firstHost + reserved - 1;
  try {
    addressInCidr('subnetCidr', subnet.cidr, last);
  } catch {
    throw new ValidationError('subnetCidr', subnet.cidr,
      `must hold hosts ${DOCKER_DEFAULTS.firstHost} to ${last}: the fleet reserves ${reserved} fixed addresses, one for each slot it can have (a /26 or larger for Memcached, a /27 for Redis and Valkey)`);
  }
}

/** The fleet constructs whose resources are declared, and the fleet name each declared them under. */
const FLEET_NAMES = new WeakMap<Construct, string>();
/** The host ports each declared fleet reserves (published fleets only): [first, last]. */
const FLEET_PORTS = new WeakMap<Construct, { address: string; first: number; last: number; name: string }>();

/**
 * Refuses a fleet name another fleet of the same stack declared its resources under: the names of
 * containers, volumes, the network, the outputs and the AUTH variable all derive from it, and
 * Terraform would keep only one of each.
 */
function requireFreeFleetName(scope: Construct, id: string, name: string): void {
  for (const other of TerraformStack.of(scope).node.findAll()) {
    if (other !== scope && FLEET_NAMES.get(other) === name) {
      throw new ValidationError('id', id, `must give a fleet name no other fleet of the stack has (${other.node.path} is ${name})`);
    }
  }
}

/**
 * A slot's address in the fleet's subnet: its name's own host number, never its place in the plan,
 * so an address never passes from one slot name to another (a sentinel's saved file binds its
 * address), whatever the change.
 */
export function slotAddressIn(subnet: string): (position: { hostNumber: number }) => string {
  return (position) => addressInCidr('subnetCidr', subnet, DOCKER_DEFAULTS.firstHost + position.hostNumber);
}

/**
 * Refuses host ports another published fleet of the stack reserves on the same host address:
 * Docker would refuse to start the second container on a port.
 */
function requireFreeHostPorts(scope: Construct, name: string, ports: { address: string; first: number; last: number }): void {
  for (const other of TerraformStack.of(scope).node.findAll()) {
    const taken = other !== scope ? FLEET_PORTS.get(other) : undefined;
    if (!taken) continue;
    const sameAddress = taken.address === ports.address || taken.address === '0.0.0.0' || ports.address === '0.0.0.0';
    if (sameAddress && taken.first <= ports.last && ports.first <= taken.last) {
      throw new ValidationError('hostPortBase', ports.first,
        `must leave host ports ${taken.first}-${taken.last} to fleet "${taken.name}" (${other.node.path}): fleet "${name}" reserves ${ports.first}-${ports.last}; give one of them another hostPortBase`);
    }
  }
}

/**
 * Plans the fleet (one zone: one Docker network), moves sentinels to containers of their own,
 * and declares the network, the image, a named volume per Redis/Valkey container, a container per
 * node and per sentinel, and the outputs.
 */
export function buildDockerFleet(scope: Construct, id: string, fleet: ValidatedFleet, props: DockerFleetOptions): DockerFleet {
  validateDockerOptions(props, fleet);
  const name = fleetName(id);
  const subnet: FleetSubnet = props.subnetCidr !== undefined
    ? { cidr: props.subnetCidr, isDefault: false }
    : { cidr: defaultSubnetCidr(scope.node.path), isDefault: true };
  // Before planning, which takes the slots' addresses: the message then names the whole block.
  validateSubnetRoom(subnet, fleetKind(fleet), fleet.cluster?.shards ?? 1);
  const plan = planFleet({ name, fleet, zoneCount: 1, addressOf: slotAddressIn(subnet.cidr), dedicatedSentinels: true });
  validateHostPorts(props, plan);
  const redisLike = plan.engine.supportsReplication;
  // Cluster mode enabled, the alias over every data node is the configuration endpoint: a
  // cluster-aware client asks any node for the map of the shards.
  const readerAlias = plan.kind === 'replication' ? `${name}-reader` : plan.kind === 'cluster' ? `${name}-configuration` : undefined;

  const publish = props.publishPorts ?? true;
  const hostAddress = props.hostAddress ?? DOCKER_DEFAULTS.hostAddress;
  const portBase = hostPortBaseOf(props, plan);
  const ports = { address: hostAddress, first: portBase, last: portBase + reservedHostCount(plan.kind, shardCount(plan)) - 1, name };
  requireFreeFleetName(scope, id, name);
  if (publish) requireFreeHostPorts(scope, name, ports);
  const network = fleetNetwork(scope, name, subnet, lastFixedHost(plan, subnet.cidr));
  // The last refusal is behind (the subnet's): from here on the fleet's resources are declared.
  FLEET_NAMES.set(scope, name);
  if (publish) FLEET_PORTS.set(scope, ports);
  let authToken: string | undefined;
  let internalToken: string | undefined;
  let adminToken: string | undefined;
  const hostSecrets = redisLike && props.secretsHostPath !== undefined;
  if (redisLike && !hostSecrets) {
    authToken = props.authToken?.value ?? defaultAuthVariable(scope, name).stringValue;
    internalToken = props.internalAuthToken?.value ?? Fn.sha256(`${authToken}:${INTERNAL_PASSWORD_LABEL}`);
    adminToken = props.adminAuthToken?.value ?? defaultAdminVariable(scope, name).stringValue;
  }
  // Every token, whatever it comes from (a variable of the user's, a file), is checked at plan: a
  // node would refuse it at start, after Terraform replaced the containers.
  const tokenChecks = redisLike
    ? ([['authToken', authToken], ['internalAuthToken', internalToken], ['adminAuthToken', adminToken]] as const)
      .filter(([prop]) => props[prop] !== undefined)
      .map(([prop, value]) => ({ condition: followsTokenRule(value!), errorMessage: `${prop} of the cachefleet fleet "${name}" must be ${AUTH_TOKEN_RULE.allowed}.` }))
    : [];
  const image = new Image(scope, 'Image', {
    name: plan.engine.installation.containerImage,
    keepLocally: true,
    lifecycle: tokenChecks.length > 0 ? { precondition: tokenChecks } : undefined,
  });
  pinLogicalId(image, name, 'image');
  warnImageByTag(scope, plan.engine.installation.containerImage);

  const restart = props.restartPolicy ?? RestartPolicy.UNLESS_STOPPED;
  const retain = (props.removalPolicy ?? RemovalPolicy.RETAIN) === RemovalPolicy.RETAIN;
  const launcher = agentFile(LAUNCHER_SOURCE);
  const bundle = sharedBundle(scope, plan, image, launcher, restart);
  const containers: FleetContainer[] = [];

  for (const slot of plan.slots) {
    const service = slot.services[0];
    const sentinel = service === 'sentinel';
    const port = sentinel ? slot.sentinelPort! : slot.enginePort!;
    const node = new Construct(scope, slot.name);
    const containerName = `${name}-${slot.name}`;
    const volume = redisLike ? dataVolume(node, name, slot.name, retain) : undefined;
    // Data nodes only: any of them may drive a backup (streaming its shards' RDBs), and a planned
    // primary reads the restore set.
    const backups = redisLike && !sentinel && props.backupPath !== undefined;
    const restore = redisLike && !sentinel && props.restoreFrom !== undefined;
    const memory = sentinel ? DOCKER_DEFAULTS.sentinelMemoryLimitMiB : props.memoryLimitMiB ?? DOCKER_DEFAULTS.memoryLimitMiB;
    // The bundle is not uploaded here (a change of an upload replaces the container): the launcher
    // takes it from the fleet volume, where the bundle container publishes it.
    const uploads: ContainerUpload[] = [{ file: CONTAINER_PATHS.launcher, content: terraformLiteral(launcher), permissions: '0755' }];
    if (authToken !== undefined && internalToken !== undefined && adminToken !== undefined) {
      uploads.push(
        { file: `${CONTAINER_PATHS.secrets}/app-password`, content: authToken, permissions: '0600' },
        { file: `${CONTAINER_PATHS.secrets}/internal-password`, content: internalToken, permissions: '0600' },
        { file: `${CONTAINER_PATHS.secrets}/admin-password`, content: adminToken, permissions: '0600' },
      );
    }
    const container = new Container(node, 'Resource', {
      name: containerName,
      hostname: containerName,
      image: image.imageId,
      // The agent starts as root to give the engine's user its files, then runs the engine as it.
      user: 'root',
      entrypoint: [CONTAINER_PATHS.launcher],
      command: ['start', service],
      // Created after the bundle container, which publishes the bundle the node starts with.
      dependsOn: [bundle.container],
      env: [
        'CACHEFLEET_PLATFORM=docker',
        `CACHEFLEET_SLOT=${slot.name}`,
        `CACHEFLEET_FLEET_DIR=${CONTAINER_PATHS.fleet}`,
        `CACHEFLEET_CONFIG_DIR=${CONTAINER_PATHS.config}`,
        `CACHEFLEET_STATE_DIR=${CONTAINER_PATHS.state}`,
        `CACHEFLEET_RUN_DIR=${CONTAINER_PATHS.run}`,
        `CACHEFLEET_SECRETS_DIR=${CONTAINER_PATHS.secrets}`,
        `CACHEFLEET_PRE_STOP_TIMEOUT=${DOCKER_DEFAULTS.handoverSeconds}`,
        // The image's own user, by number (core's catalog): the agent starts as root only to give
        // it its files, then runs the engine as it (setpriv).
        `CACHEFLEET_ENGINE_USER=${plan.engine.installation.containerUser}`,
        // The agent sizes maxmemory (Memcached: -m) from this at start. The provider would change
        // `memory` in place, leaving maxmemory stale; a changed environment replaces the container
        // instead, so the limit and maxmemory move together.
        `CACHEFLEET_MEMORY_BYTES=${memory * 1024 * 1024}`,
        ...(hostSecrets ? hostSecretsEnvironment() : []),
        ...(backups ? [`CACHEFLEET_BACKUP_LOCATION=${CONTAINER_PATHS.backups}`] : []),
        ...(restore ? [`CACHEFLEET_RESTORE_FROM=${CONTAINER_PATHS.restore}`] : []),
      ],
      upload: uploads,
      networksAdvanced: [
        {
          name: network.name,
          ipv4Address: slot.address,
          aliases: readerAlias !== undefined && !sentinel ? [containerName, readerAlias] : [containerName],
        },
      ],
      // The data port only: a cluster node's bus port (port + 10000) serves the other nodes, which
      // reach it on the fleet's network; published, anyone reaching the host could join the cluster.
      ports: publish
        ? [{ internal: port, external: portBase + slot.hostNumber, ip: hostAddress, protocol: 'tcp' }]
        : undefined,
      volumes: [
        // Writable: each node records there the bundle it runs and is ready with, and takes its turn
        // of a rolling restart (roll.lock).
        { volumeName: bundle.volume.name, containerPath: CONTAINER_PATHS.fleet },
        ...(volume ? [{ volumeName: volume.name, containerPath: CONTAINER_PATHS.state }] : []),
        ...(hostSecrets ? [{ hostPath: props.secretsHostPath!, containerPath: CONTAINER_PATHS.hostSecrets, readOnly: true }] : []),
        ...(backups ? [{ hostPath: props.backupPath!, containerPath: CONTAINER_PATHS.backups }] : []),
        ...(restore ? [{ hostPath: props.restoreFrom!, containerPath: CONTAINER_PATHS.restore, readOnly: true }] : []),
      ],
      // No memory_swap: the provider reads it back as -1 on hosts without swap accounting, a diff
      // at every plan (a cache host has no swap to give anyway).
      memory,
      cpus: !sentinel && props.cpus !== undefined ? String(props.cpus) : undefined,
      ulimit: [{ name: 'nofile', soft: DOCKER_DEFAULTS.openFiles, hard: DOCKER_DEFAULTS.openFiles }],
      healthcheck: {
        // One probe of the engine (the agent's `health`: a replica's link included), not a wait.
        test: ['CMD', CONTAINER_PATHS.launcher, 'health', service],
        interval: '5s',
        timeout: '5s',
        // As the provider reads durations back (Go's format): '60s' would differ at every plan.
        startPeriod: '1m0s',
        retries: 6,
      },
      restart,
      capabilities: { drop: ['ALL'], add: [...DOCKER_DEFAULTS.capabilities] },
      securityOpts: [...DOCKER_DEFAULTS.securityOpts],
      stopTimeout: plan.kind === 'cluster' ? DOCKER_DEFAULTS.clusterStopGraceSeconds : DOCKER_DEFAULTS.stopGraceSeconds,
      destroyGraceSeconds: plan.kind === 'cluster' ? DOCKER_DEFAULTS.clusterStopGraceSeconds : DOCKER_DEFAULTS.stopGraceSeconds,
      lifecycle: { ignoreChanges: IGNORED_READ_BACK },
      labels: [
        { label: 'cachefleet.fleet', value: name },
        { label: 'cachefleet.slot', value: slot.name },
        { label: 'cachefleet.service', value: service },
      ],
    });
    pinLogicalId(container, name, slot.name);
    const hostPort = publish ? portBase + slot.hostNumber : undefined;
    containers.push({ slot, service, container, volume, endpoint: new Endpoint(slot.address, port, publish ? hostAddress : undefined, hostPort) });
  }

  // prevent_destroy protects a volume only while its block is in the configuration: a replica (or,
  // at 0 replicas, a sentinel) removed by a lower replica count would take its block, and Terraform
  // would destroy the volume without a word. Retained, every slot the fleet can have keeps its
  // volume declared.
  if (redisLike && retain) {
    for (const slotName of possibleSlotNames(plan.kind, shardCount(plan))) {
      if (!plan.slots.some((slot) => slot.name === slotName)) dataVolume(new Construct(scope, slotName), name, slotName, retain);
    }
  }

  const hostAddressMap: Record<string, string> = {};
  if (publish) {
    for (const { endpoint } of containers) hostAddressMap[endpoint.socketAddress] = `${hostAddress}:${endpoint.hostPort}`;
  }
  return { plan, network, image, containers, bundle, authToken, readerAlias, hostAddressMap };
}

/**
 * A slot's data volume: the same resource whether its container exists or not, so that a slot
 * added later finds its volume unchanged, and one removed keeps it while retained.
 */
function dataVolume(node: Construct, fleet: string, slotName: string, retain: boolean): Volume {
  const volume = new Volume(node, 'Volume', {
    name: `${fleet}-${slotName}`,
    labels: [{ label: 'cachefleet.fleet', value: fleet }],
    lifecycle: { preventDestroy: retain },
  });
  pinLogicalId(volume, fleet, `${slotName}_data`);
  return volume;
}

/**
 * Provider 3.6.2 reads an image's ID back at every refresh. An image named by tag gets another ID
 * when the host pulls a newer build of the tag, and every container referring to it is replaced at
 * the next apply, all at once. A digest names one build: nothing changes until the version does.
 */
function warnImageByTag(scope: Construct, containerImage: string): void {
  if (isPinnedByDigest(containerImage)) return;
  Annotations.of(scope).addWarning(
    `cachefleet: the image ${containerImage} is named by tag only: once the Docker host pulls another build of that tag, the next apply replaces every container of the fleet at once. ` +
    'Pin it by digest: the engine version\'s of(fullVersion, majorVersion, \'<repository>:<tag>@sha256:<digest>\').',
  );
}

/** The launcher, in the agent's directory. */
const LAUNCHER_SOURCE = 'docker/launch.sh';

/**
 * The fleet volume and the bundle container that publishes the bundle on it.
 *
 * Provider 3.6.2 replaces a container whose uploads change, and Terraform replaces every changed
 * container at once, with no order between them. Were the bundle uploaded into each node, any
 * parameter change would restart the whole group at the same moment. So only this container gets
 * the bundle: a change replaces it alone, it publishes the new bundle, and each node's agent takes
 * it live or restarts in its turn (cachefleet-node's follow_bundle), replicas first and the primary
 * last, after a planned failover. The bundle carries its `generation` (the digest of its files) and
 * its `restart-key` (what only a restart applies, the agent included).
 */
function sharedBundle(
  scope: Construct, plan: FleetPlan, image: Image, launcher: string, restart: RestartPolicy,
): { container: Container; volume: Volume } {
  const name = `${plan.name}-bundle`;
  const volume = new Volume(scope, 'BundleVolume', {
    name,
    labels: [{ label: 'cachefleet.fleet', value: plan.name }],
  });
  pinLogicalId(volume, plan.name, 'bundle_volume');
  const agent = agentScript();
  const files: Record<string, string> = { ...renderBundle(plan), [SHARED_BUNDLE_FILES.agent]: agent };
  files[SHARED_BUNDLE_FILES.restartKey] = `${restartFingerprint(plan, agent)}\n`;
  files[SHARED_BUNDLE_FILES.generation] = `${bundleDigest(files).slice(0, 32)}\n`;
  const container = new Container(scope, 'Bundle', {
    name,
    image: image.imageId,
    user: 'root',
    entrypoint: [CONTAINER_PATHS.launcher],
    command: ['publish'],
    env: [
      `CACHEFLEET_FLEET_DIR=${CONTAINER_PATHS.fleet}`,
      `CACHEFLEET_BUNDLE_SOURCE_DIR=${CONTAINER_PATHS.bundleSource}`,
    ],
    upload: [
      { file: CONTAINER_PATHS.launcher, content: terraformLiteral(launcher), permissions: '0755' },
      ...Object.entries(files).map(([relative, content]) => ({
        file: `${CONTAINER_PATHS.bundleSource}/${relative}`,
        content: terraformLiteral(content),
        // 0755, not `executable` (0744 in the provider): Sentinel runs the agent's hook as the engine's user.
        permissions: relative === SHARED_BUNDLE_FILES.agent ? '0755' : '0644',
      })),
    ],
    // It reaches nothing and nothing reaches it.
    networkMode: 'none',
    volumes: [{ volumeName: volume.name, containerPath: CONTAINER_PATHS.fleet }],
    memory: DOCKER_DEFAULTS.bundleMemoryLimitMiB,
    restart,
    // Root only to write the fleet volume, which Docker creates as root's: no capability needed.
    capabilities: { drop: ['ALL'] },
    securityOpts: [...DOCKER_DEFAULTS.securityOpts],
    stopTimeout: DOCKER_DEFAULTS.bundleStopGraceSeconds,
    destroyGraceSeconds: DOCKER_DEFAULTS.bundleStopGraceSeconds,
    lifecycle: { ignoreChanges: IGNORED_READ_BACK },
    labels: [
      { label: 'cachefleet.fleet', value: plan.name },
      { label: 'cachefleet.service', value: 'bundle' },
    ],
  });
  pinLogicalId(container, plan.name, 'bundle');
  return { container, volume };
}

/** The files the Docker flavor adds to the rendered bundle, by path in it. */
export const SHARED_BUNDLE_FILES = {
  agent: 'cachefleet-node',
  restartKey: 'restart-key',
  generation: 'generation',
} as const;

/**
 * What the agent needs to take the passwords from `secretsHostPath` (take_host_secrets): where they
 * are and how Terraform would derive the internal one. The rule it checks them with is the bundle's
 * (fleet.env's CF_TOKEN_*, from AUTH_TOKEN_RULE), as for every password a node reads.
 */
function hostSecretsEnvironment(): string[] {
  return [
    `CACHEFLEET_HOST_SECRETS_DIR=${CONTAINER_PATHS.hostSecrets}`,
    `CACHEFLEET_INTERNAL_PASSWORD_LABEL=${INTERNAL_PASSWORD_LABEL}`,
  ];
}

/** The sensitive variable the AUTH token comes from when the user gives none. */
function defaultAuthVariable(scope: Construct, name: string): TerraformVariable {
  return tokenVariable(scope, 'AuthToken', terraformName(name, 'auth_token'), 'The AUTH token', `the cachefleet fleet "${name}"`);
}

/** The admin user's password: a variable of its own, never derived from the AUTH token. */
function defaultAdminVariable(scope: Construct, name: string): TerraformVariable {
  return tokenVariable(scope, 'AdminToken', terraformName(name, 'admin_token'), 'The admin user\'s password',
    `the cachefleet fleet "${name}" (unrestricted engine and sentinels; keep it from the applications)`);
}

function tokenVariable(scope: Construct, id: string, logicalId: string, what: string, of: string): TerraformVariable {
  const variable = new TerraformVariable(scope, id, {
    type: 'string',
    sensitive: true,
    nullable: false,
    description: `${what} of ${of}: ${AUTH_TOKEN_RULE.allowed}.`,
  });
  variable.overrideLogicalId(logicalId);
  variable.addValidation({ condition: followsTokenRule(variable.stringValue), errorMessage: `${what} must be ${AUTH_TOKEN_RULE.allowed}.` });
  return variable;
}

/** A Terraform condition: `value` is a token AUTH_TOKEN_RULE allows. */
function followsTokenRule(value: string): any {
  return Op.and(
    Op.and(Op.gte(Fn.lengthOf(value), AUTH_TOKEN_RULE.minLength), Op.lte(Fn.lengthOf(value), AUTH_TOKEN_RULE.maxLength)),
    Fn.can(Fn.regex(AUTH_TOKEN_RULE.pattern, value)),
  );
}

/** What an output of a fleet is. */
export interface FleetOutputSpec {
  /** The fleet's name: the output is `<fleet>_<suffix>`. */
  readonly fleet: string;
  readonly suffix: string;
  readonly value: unknown;
  readonly description: string;
  /** Whether the output carries a secret. */
  readonly sensitive?: boolean;
}

/** Declares an output with a stable Terraform name `<fleet>_<suffix>`. */
export function fleetOutput(scope: Construct, id: string, spec: FleetOutputSpec): TerraformOutput {
  const added = scope.node.tryFindChild(id);
  if (added instanceof TerraformOutput) return added; // an earlier addOutputs call
  const output = new TerraformOutput(scope, id, { value: spec.value, description: spec.description, sensitive: spec.sensitive ?? false });
  output.overrideLogicalId(terraformName(spec.fleet, spec.suffix));
  return output;
}
