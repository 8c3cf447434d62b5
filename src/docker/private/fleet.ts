import { Container, ContainerUpload } from '@cdktf/provider-docker/lib/container';
import { Image } from '@cdktf/provider-docker/lib/image';
import { Network } from '@cdktf/provider-docker/lib/network';
import { Volume } from '@cdktf/provider-docker/lib/volume';
import { Fn, Op, TerraformOutput, TerraformStack, TerraformVariable, Token } from 'cdktf';
import { Construct } from 'constructs';
import { fleetNetwork } from './network';
import { terraformLiteral, terraformName } from './terraform';
import { addressInCidr } from '../../core/addresses';
import { agentScript } from '../../core/agent-script';
import { ValidationError } from '../../core/errors';
import { renderBundle } from '../../core/render';
import { FleetPlan, fleetName, NodeService, NodeSlot, planFleet } from '../../core/topology';
import { AUTH_TOKEN_RULE, refuseAuthTokenForMemcached, ValidatedFleet } from '../../core/validation';
import { AuthToken } from '../auth-token';
import { DockerFleetOptions } from '../container-options';
import { Endpoint } from '../endpoint';
import { RestartPolicy } from '../restart-policy';

/** Where things are inside every container (docs/node-agent.md's variables). */
export const CONTAINER_PATHS = {
  agent: '/usr/local/bin/cachefleet-node',
  config: '/etc/cachefleet',
  state: '/var/lib/cachefleet',
  run: '/run/cachefleet',
  secrets: '/run/cachefleet/secrets',
} as const;

/** The defaults of DockerFleetOptions. */
export const DOCKER_DEFAULTS = {
  subnetCidr: '172.28.0.0/24',
  memoryLimitMiB: 256,
  sentinelMemoryLimitMiB: 64,
  hostAddress: '127.0.0.1',
  /** Node addresses start at this host of the subnet (the gateway is the first). */
  firstHost: 10,
  /** memcached's connection limit is 65000 by default: the open-file limit must be above it. */
  openFiles: 65_536,
} as const;

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
  readonly authToken?: string;
  /** The network alias over every data node of a replication group (undefined for other fleets). */
  readonly readerAlias?: string;
  /** `container address:port` -> `host address:host port`, for host-side clients (ioredis `natMap`). */
  readonly hostAddressMap: Record<string, string>;
}

/**
 * Checks the Docker-specific props but for `hostPortBase` (see `validateHostPorts`); throws
 * `ValidationError` naming the prop.
 */
export function validateDockerOptions(props: DockerFleetOptions, fleet: ValidatedFleet): void {
  const concrete = (name: keyof DockerFleetOptions) => {
    const value = props[name];
    if (value !== undefined && Token.isUnresolved(value)) {
      throw new ValidationError(name, value, 'must be a concrete value known at synth time, not a token');
    }
  };
  (['subnetCidr', 'memoryLimitMiB', 'cpus', 'hostAddress', 'hostPortBase', 'publishPorts'] as const).forEach(concrete);
  if (props.subnetCidr !== undefined && typeof props.subnetCidr !== 'string') {
    throw new ValidationError('subnetCidr', props.subnetCidr, 'must be an IPv4 CIDR block with a prefix of at most /30, such as "172.28.0.0/24"');
  }
  const memory = props.memoryLimitMiB;
  if (memory !== undefined && (typeof memory !== 'number' || !Number.isInteger(memory) || memory < 32 || memory > 1_048_576)) {
    throw new ValidationError('memoryLimitMiB', memory, 'must be an integer number of MiB between 32 and 1048576');
  }
  const cpus = props.cpus;
  if (cpus !== undefined && (typeof cpus !== 'number' || !Number.isFinite(cpus) || cpus <= 0 || cpus > 1024)) {
    throw new ValidationError('cpus', cpus, 'must be a number of CPUs greater than 0 and at most 1024, such as 0.5 or 2');
  }
  if (props.publishPorts !== undefined && typeof props.publishPorts !== 'boolean') {
    throw new ValidationError('publishPorts', props.publishPorts, 'must be true or false');
  }
  const host = props.hostAddress;
  if (host !== undefined && (typeof host !== 'string' || !isIpv4(host))) {
    throw new ValidationError('hostAddress', host, 'must be an IPv4 address of the Docker host, such as "127.0.0.1" (or "0.0.0.0" for every address)');
  }
  if (props.restartPolicy !== undefined && !Object.values(RestartPolicy).includes(props.restartPolicy)) {
    throw new ValidationError('restartPolicy', props.restartPolicy, `must be a RestartPolicy (${Object.values(RestartPolicy).join(', ')})`);
  }
  for (const name of ['authToken', 'internalAuthToken', 'adminAuthToken'] as const) {
    const token = props[name];
    if (token === undefined) continue;
    if (!(token instanceof AuthToken)) {
      throw new ValidationError(name, token, 'must be an AuthToken (AuthToken.fromVariable() or AuthToken.fromFile()), never a literal');
    }
    refuseAuthTokenForMemcached(name, fleet.engine, 'an AuthToken');
  }
}

/** Checks `hostPortBase` against the planned fleet: a container per slot, each on the next port. */
export function validateHostPorts(props: DockerFleetOptions, plan: FleetPlan): void {
  const base = props.hostPortBase;
  if (base === undefined) return;
  const containers = plan.slots.length;
  const highest = 65_535 - (containers - 1);
  if (typeof base !== 'number' || !Number.isInteger(base) || base < 1 || base > highest) {
    throw new ValidationError('hostPortBase', base, `must be an integer between 1 and ${highest} (the fleet's ${containers} containers publish on consecutive ports)`);
  }
  if (props.publishPorts === false) {
    throw new ValidationError('hostPortBase', base, 'must be unset when `publishPorts` is false');
  }
}

function isIpv4(text: string): boolean {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  return match !== null && match.slice(1).every((octet) => Number(octet) <= 255 && String(Number(octet)) === octet);
}

/** The fleet constructs whose resources are declared, and the fleet name each declared them under. */
const FLEET_NAMES = new WeakMap<Construct, string>();

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
 * Plans the fleet (one zone: one Docker network), moves sentinels to containers of their own,
 * and declares the network, the image, a named volume per Redis/Valkey container, a container per
 * node and per sentinel, and the outputs.
 */
export function buildDockerFleet(scope: Construct, id: string, fleet: ValidatedFleet, props: DockerFleetOptions): DockerFleet {
  validateDockerOptions(props, fleet);
  const name = fleetName(id);
  const subnet = props.subnetCidr ?? DOCKER_DEFAULTS.subnetCidr;
  const addressOf = (position: { index: number }) => addressInCidr('subnetCidr', subnet, DOCKER_DEFAULTS.firstHost + position.index);
  const plan = planFleet({ name, fleet, zoneCount: 1, addressOf, dedicatedSentinels: true });
  validateHostPorts(props, plan);
  const redisLike = plan.engine.supportsReplication;
  const readerAlias = plan.kind === 'replication' ? `${name}-reader` : undefined;

  requireFreeFleetName(scope, id, name);
  const network = fleetNetwork(scope, name, subnet);
  // The last refusal is behind (the subnet's): from here on the fleet's resources are declared.
  FLEET_NAMES.set(scope, name);
  const image = new Image(scope, 'Image', { name: plan.engine.installation.containerImage, keepLocally: true });

  let authToken: string | undefined;
  let internalToken: string | undefined;
  let adminToken: string | undefined;
  if (redisLike) {
    authToken = props.authToken?.value ?? defaultAuthVariable(scope, name).stringValue;
    internalToken = props.internalAuthToken?.value ?? Fn.sha256(`${authToken}:${INTERNAL_PASSWORD_LABEL}`);
    adminToken = props.adminAuthToken?.value ?? defaultAdminVariable(scope, name).stringValue;
  }

  const bundle = renderBundle(plan);
  const agent = agentScript();
  const publish = props.publishPorts ?? true;
  const hostAddress = props.hostAddress ?? DOCKER_DEFAULTS.hostAddress;
  const restart = props.restartPolicy ?? RestartPolicy.UNLESS_STOPPED;
  const containers: FleetContainer[] = [];

  for (const slot of plan.slots) {
    const service = slot.services[0];
    const sentinel = service === 'sentinel';
    const port = sentinel ? slot.sentinelPort! : slot.enginePort!;
    const node = new Construct(scope, slot.name);
    const containerName = `${name}-${slot.name}`;
    const volume = redisLike
      ? new Volume(node, 'Volume', { name: containerName, labels: [{ label: 'cachefleet.fleet', value: name }] })
      : undefined;
    const memory = sentinel ? DOCKER_DEFAULTS.sentinelMemoryLimitMiB : props.memoryLimitMiB ?? DOCKER_DEFAULTS.memoryLimitMiB;
    const uploads: ContainerUpload[] = [
      { file: CONTAINER_PATHS.agent, content: terraformLiteral(agent), executable: true },
      ...Object.entries(bundle).map(([relative, content]) => ({ file: `${CONTAINER_PATHS.config}/${relative}`, content: terraformLiteral(content) })),
    ];
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
      // The agent writes its directories as root whatever the image's user (memcached's is `memcache`)
      // and starts memcached with `-u memcache`.
      user: 'root',
      entrypoint: [CONTAINER_PATHS.agent],
      command: ['start', service],
      env: [
        'CACHEFLEET_PLATFORM=docker',
        `CACHEFLEET_SLOT=${slot.name}`,
        `CACHEFLEET_CONFIG_DIR=${CONTAINER_PATHS.config}`,
        `CACHEFLEET_STATE_DIR=${CONTAINER_PATHS.state}`,
        `CACHEFLEET_RUN_DIR=${CONTAINER_PATHS.run}`,
        `CACHEFLEET_SECRETS_DIR=${CONTAINER_PATHS.secrets}`,
      ],
      upload: uploads,
      networksAdvanced: [
        {
          name: network.name,
          ipv4Address: slot.address,
          aliases: readerAlias !== undefined && !sentinel ? [containerName, readerAlias] : [containerName],
        },
      ],
      ports: publish
        ? [{ internal: port, external: props.hostPortBase !== undefined ? props.hostPortBase + slot.index : undefined, ip: hostAddress, protocol: 'tcp' }]
        : undefined,
      volumes: volume ? [{ volumeName: volume.name, containerPath: CONTAINER_PATHS.state }] : undefined,
      memory,
      memorySwap: memory,
      cpus: !sentinel && props.cpus !== undefined ? String(props.cpus) : undefined,
      ulimit: [{ name: 'nofile', soft: DOCKER_DEFAULTS.openFiles, hard: DOCKER_DEFAULTS.openFiles }],
      healthcheck: {
        test: ['CMD', 'env', 'CACHEFLEET_READY_TIMEOUT=2', CONTAINER_PATHS.agent, 'wait-ready', service],
        interval: '5s',
        timeout: '5s',
        startPeriod: '60s',
        retries: 6,
      },
      restart,
      stopTimeout: 30,
      labels: [
        { label: 'cachefleet.fleet', value: name },
        { label: 'cachefleet.slot', value: slot.name },
        { label: 'cachefleet.service', value: service },
      ],
    });
    const hostPort = publish ? Token.asNumber(container.ports.get(0).external) : undefined;
    containers.push({ slot, service, container, volume, endpoint: new Endpoint(slot.address, port, publish ? hostAddress : undefined, hostPort) });
  }

  const hostAddressMap: Record<string, string> = {};
  if (publish) {
    for (const { endpoint, container } of containers) {
      hostAddressMap[endpoint.socketAddress] = `${hostAddress}:${Token.asString(container.ports.get(0).external)}`;
    }
  }
  return { plan, network, image, containers, authToken, readerAlias, hostAddressMap };
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
  const value = variable.stringValue;
  variable.addValidation({
    condition: Op.and(
      Op.and(Op.gte(Fn.lengthOf(value), AUTH_TOKEN_RULE.minLength), Op.lte(Fn.lengthOf(value), AUTH_TOKEN_RULE.maxLength)),
      Fn.can(Fn.regex(AUTH_TOKEN_RULE.pattern, value)),
    ),
    errorMessage: `${what} must be ${AUTH_TOKEN_RULE.allowed}.`,
  });
  return variable;
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
  const output = new TerraformOutput(scope, id, { value: spec.value, description: spec.description, sensitive: spec.sensitive ?? false });
  output.overrideLogicalId(terraformName(spec.fleet, spec.suffix));
  return output;
}
