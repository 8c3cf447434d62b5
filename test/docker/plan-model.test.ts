import * as fs from 'fs';
import * as path from 'path';
import { isDeepStrictEqual } from 'util';
import { TerraformStack } from 'cdktf';
import { dockerStack, synthJson, terraformText, uploadedBundle } from './synth';
import { CacheEngine, MemcachedEngineVersion, RedisEngineVersion } from '../../src/core/engine';
import { ClusterMode } from '../../src/core/fleet-options';
import { ParameterGroup } from '../../src/core/parameters/parameter-group';
import { CacheCluster, RemovalPolicy, ReplicationGroup, ReplicationGroupProps, RestartPolicy } from '../../src/docker';

/**
 * A model of what `terraform plan` does between two synthesized configurations of a fleet, as strict
 * as provider-docker 3.6.2: a resource is replaced when an argument its schema marks ForceNew differs
 * (outside `lifecycle.ignore_changes`), updated in place when only other arguments differ, created or
 * deleted when its block appears or goes. The ForceNew arguments of docker_container are the
 * fixture's (test/fixtures/provider-docker-3.6.2.json); the fixture lists no other type, and 3.6.2
 * marks every argument of docker_volume and docker_network ForceNew, and every one of docker_image
 * but keep_locally (taken as ForceNew too: stricter).
 *
 * Values are compared as synthesized: Terraform expressions as text (both sides come from the same
 * code), but for a reference to an attribute of a resource the plan creates or replaces that its
 * configuration does not set (`image_id`, computed by the provider): that is unknown until apply,
 * so it differs from anything, as in Terraform. Lists are compared in order, sets included: only
 * stricter than Terraform.
 */

const PROVIDER = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'provider-docker-3.6.2.json'), 'utf8'));
const CONTAINER_FORCE_NEW = new Set<string>(PROVIDER.forcesReplacement.attributes);
const TYPES = ['docker_container', 'docker_volume', 'docker_network', 'docker_image'] as const;
/** Meta-arguments and cdktf's metadata: not arguments of the resource. */
const META = new Set(['//', 'count', 'for_each', 'provider', 'depends_on', 'lifecycle', 'connection', 'provisioner']);
const UNKNOWN = '(known after apply)';

type Action = 'create' | 'delete' | 'update' | 'replace';

interface Change {
  readonly action: Action;
  /** The arguments that differ (for an update or a replacement). */
  readonly arguments: string[];
}

interface Plan {
  /** Every resource that changes, by address; a resource that stays as it is has no entry. */
  readonly changes: Record<string, Change>;
  /**
   * What Terraform refuses: a replacement or destruction of a resource whose block, in the new
   * configuration, has `lifecycle.prevent_destroy`. A block removed from the configuration takes its
   * prevent_destroy with it: Terraform destroys that resource without refusing.
   */
  readonly refused: string[];
}

function forcesReplacement(type: string, argument: string): boolean {
  return type === 'docker_container' ? CONTAINER_FORCE_NEW.has(argument) : true;
}

function resourcesOf(json: any): Map<string, any> {
  const resources = new Map<string, any>();
  for (const type of TYPES) {
    for (const [name, config] of Object.entries<any>(json.resource?.[type] ?? {})) resources.set(`${type}.${name}`, config);
  }
  return resources;
}

/** `value` with every reference to an attribute of `fresh` that the configuration does not set made unknown. */
function withUnknowns(value: unknown, fresh: Set<string>, after: Map<string, any>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\b(docker_[a-z_]+\.[A-Za-z0-9_-]+)\.([a-z0-9_]+)\b/g, (reference, address: string, attribute: string) =>
      fresh.has(address) && after.get(address)?.[attribute] === undefined ? UNKNOWN : reference);
  }
  if (Array.isArray(value)) return value.map((item) => withUnknowns(item, fresh, after));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withUnknowns(item, fresh, after)]));
  }
  return value;
}

/** The plan from the configuration `before` (applied) to `after`. */
function planBetween(before: any, after: any): Plan {
  const [old, next] = [resourcesOf(before), resourcesOf(after)];
  let changes: Record<string, Change> = {};
  // Creating or replacing a resource makes its computed attributes unknown, which may replace what
  // refers to them: until nothing more changes.
  for (;;) {
    const fresh = new Set(Object.entries(changes).filter(([, c]) => c.action === 'create' || c.action === 'replace').map(([address]) => address));
    const planned: Record<string, Change> = {};
    for (const address of new Set([...old.keys(), ...next.keys()])) {
      const [was, will] = [old.get(address), next.get(address)];
      if (will === undefined) {
        planned[address] = { action: 'delete', arguments: [] };
        continue;
      }
      if (was === undefined) {
        planned[address] = { action: 'create', arguments: [] };
        continue;
      }
      const type = address.split('.')[0];
      const ignored = new Set<string>(will.lifecycle?.ignore_changes ?? []);
      const known = withUnknowns(will, fresh, next) as Record<string, unknown>;
      const differing = [...new Set([...Object.keys(was), ...Object.keys(will)])]
        .filter((argument) => !META.has(argument) && !ignored.has(argument))
        .filter((argument) => !isDeepStrictEqual(was[argument], known[argument]))
        .sort();
      if (differing.length === 0) continue;
      planned[address] = { action: differing.some((argument) => forcesReplacement(type, argument)) ? 'replace' : 'update', arguments: differing };
    }
    if (isDeepStrictEqual(planned, changes)) break;
    changes = planned;
  }
  const refused = Object.entries(changes)
    .filter(([address, change]) => (change.action === 'replace' || change.action === 'delete') && next.get(address)?.lifecycle?.prevent_destroy === true)
    .map(([address]) => address);
  return { changes, refused };
}

/** The addresses of a plan's changes of one action, sorted. */
function withAction(plan: Plan, action: Action): string[] {
  return Object.entries(plan.changes).filter(([, change]) => change.action === action).map(([address]) => address).sort();
}

/** `{ address: action }` for the resources that exist in both configurations and change. */
function changesInBoth(plan: Plan): Record<string, Action> {
  return Object.fromEntries(Object.entries(plan.changes).filter(([, change]) => change.action === 'update' || change.action === 'replace').map(([address, change]) => [address, change.action]));
}

/** The uploaded content (as Terraform writes it) of a file of a fleet's bundle. */
function bundleFile(json: any, fleet: string, file: string): string {
  const content = uploadedBundle(json.resource.docker_container[`${fleet.replace(/-/g, '_')}_bundle`])[file];
  if (content === undefined) throw new Error(`fleet ${fleet}'s bundle has no ${file}`);
  return terraformText(content);
}

const redis = CacheEngine.redis({ version: RedisEngineVersion.VER_7_2 });
const memcached = CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 });

type GroupProps = Omit<ReplicationGroupProps, 'engine' | 'parameterGroup'> & {
  readonly engine?: CacheEngine;
  /** The parameters of the group's parameter group, if any. */
  readonly parameters?: Record<string, string>;
};

/** A replication group "Sessions" synthesized alone in its stack. */
function group(props: GroupProps = {}): any {
  const stack: TerraformStack = dockerStack();
  const { parameters, engine = redis, ...rest } = props;
  const parameterGroup = parameters ? new ParameterGroup(stack, 'Params', { engine, parameters }) : undefined;
  new ReplicationGroup(stack, 'Sessions', { engine, parameterGroup, ...rest });
  return synthJson(stack);
}

/** A Memcached cluster "Pages" synthesized alone in its stack. */
function pages(numCacheNodes: number, parameters?: Record<string, string>): any {
  const stack = dockerStack();
  const parameterGroup = parameters ? new ParameterGroup(stack, 'Params', { engine: memcached, parameters }) : undefined;
  new CacheCluster(stack, 'Pages', { engine: memcached, numCacheNodes, parameterGroup });
  return synthJson(stack);
}

const NODE_CONTAINERS = (json: any) => Object.keys(json.resource.docker_container)
  .filter((id) => /_node_\d+$/.test(id)).map((id) => `docker_container.${id}`).sort();
const SENTINEL_CONTAINERS = (json: any) => Object.keys(json.resource.docker_container)
  .filter((id) => /_sentinel_\d+$/.test(id)).map((id) => `docker_container.${id}`).sort();
const DATA_VOLUMES = (json: any) => Object.keys(json.resource.docker_volume ?? {})
  .filter((id) => id.endsWith('_data')).map((id) => `docker_volume.${id}`).sort();

describe('the plan model', () => {
  test('the fixture lists the ForceNew arguments of docker_container only: the model takes every argument of the other types as ForceNew', () => {
    expect(PROVIDER.forcesReplacement.why).toMatch(/^docker_container attributes/);
    expect(Object.keys(PROVIDER.forcesReplacement)).toEqual(['why', 'attributes']);
    expect([...CONTAINER_FORCE_NEW]).toEqual(expect.arrayContaining(['upload', 'env', 'volumes', 'cpus', 'image', 'networks_advanced']));
    // 3.6.2 updates these in place.
    for (const argument of ['memory', 'restart', 'healthcheck', 'destroy_grace_seconds']) expect([argument, CONTAINER_FORCE_NEW.has(argument)]).toEqual([argument, false]);
  });

  test('it finds creations, deletions, updates in place, replacements, and replacements through unknown computed attributes', () => {
    const before = {
      resource: {
        docker_image: { i: { name: 'a' } },
        docker_volume: { v: { name: 'v', lifecycle: { prevent_destroy: true } }, gone: { name: 'gone', lifecycle: { prevent_destroy: true } } },
        docker_container: {
          c: { name: 'c', image: '${docker_image.i.image_id}', memory: 1, log_opts: { a: 'b' }, lifecycle: { ignore_changes: ['log_opts'] } },
          d: { name: 'd', image: 'x', volumes: [{ volume_name: '${docker_volume.v.name}' }], memory: 1 },
        },
      },
    };
    const same = planBetween(before, before);
    expect(same).toEqual({ changes: {}, refused: [] });
    const after = JSON.parse(JSON.stringify(before));
    after.resource.docker_image.i.name = 'b';
    after.resource.docker_container.c.log_opts = { a: 'c' };
    after.resource.docker_container.d.memory = 2;
    after.resource.docker_volume.v.labels = [{ label: 'x', value: 'y' }];
    delete after.resource.docker_volume.gone;
    after.resource.docker_network = { n: { name: 'n' } };
    expect(planBetween(before, after)).toEqual({
      changes: {
        'docker_image.i': { action: 'replace', arguments: ['name'] },
        // image_id is unknown until the new image exists: the container's image differs.
        'docker_container.c': { action: 'replace', arguments: ['image'] },
        // The volume's name is in its configuration: known, the same text.
        'docker_container.d': { action: 'update', arguments: ['memory'] },
        'docker_volume.v': { action: 'replace', arguments: ['labels'] },
        'docker_volume.gone': { action: 'delete', arguments: [] },
        'docker_network.n': { action: 'create', arguments: [] },
      },
      // A removed block's prevent_destroy goes with it.
      refused: ['docker_volume.v'],
    });
  });
});

describe('terraform plan between two configurations of a Redis replication group', () => {
  test('synthesizing the same configuration twice gives an empty plan', () => {
    for (const props of [{}, { replicasPerShard: 5, cpus: 2, parameters: { 'maxmemory-policy': 'allkeys-lru', 'io-threads': '2' } }] as GroupProps[]) {
      expect(planBetween(group(props), group(props))).toEqual({ changes: {}, refused: [] });
    }
    expect(planBetween(pages(3), pages(3))).toEqual({ changes: {}, refused: [] });
  });

  const steps = [0, 1, 2, 5, 2, 0];
  const stepPairs = steps.slice(1).map((to, i) => [steps[i], to]);
  /** The data volumes of every slot a replication group can have (node-0 to node-5, sentinel-0 to sentinel-2). */
  const EVERY_SLOT_VOLUME = [
    ...[0, 1, 2, 3, 4, 5].map((k) => `docker_volume.sessions_node_${k}_data`),
    ...[0, 1, 2].map((j) => `docker_volume.sessions_sentinel_${j}_data`),
  ].sort();
  const volumeOf = (container: string) => container.replace(/^docker_container\.(.*)$/, 'docker_volume.$1_data');

  /**
   * The plan of a replica count change: of what both configurations have, only the bundle container
   * is replaced (a new upload), nothing is refused, and every slot in both keeps its address and its
   * host port (none passes from a slot name to another). Returns the plan and the slot containers
   * the change adds and removes.
   */
  function replicaCountChange(from: number, to: number, removalPolicy?: RemovalPolicy) {
    const [before, after] = [group({ replicasPerShard: from, removalPolicy }), group({ replicasPerShard: to, removalPolicy })];
    const plan = planBetween(before, after);
    expect(changesInBoth(plan)).toEqual({ 'docker_container.sessions_bundle': 'replace' });
    expect(plan.changes['docker_container.sessions_bundle'].arguments).toEqual(['upload']);
    expect(plan.refused).toEqual([]);
    for (const id of Object.keys(after.resource.docker_container).filter((name) => before.resource.docker_container[name] && name !== 'sessions_bundle')) {
      const claim = (json: any) => {
        const container = json.resource.docker_container[id];
        return [container.networks_advanced[0].ipv4_address, container.ports[0].external];
      };
      expect([id, claim(after)]).toEqual([id, claim(before)]);
    }
    const slotsOf = (json: any) => [...NODE_CONTAINERS(json), ...SENTINEL_CONTAINERS(json)];
    const [oldSlots, newSlots] = [slotsOf(before), slotsOf(after)];
    const added = newSlots.filter((slot) => !oldSlots.includes(slot));
    const removed = oldSlots.filter((slot) => !newSlots.includes(slot));
    expect(added.length + removed.length).toBeGreaterThan(0);
    return { before, after, plan, added, removed };
  }

  test.each(stepPairs)('replicasPerShard %i -> %i, retained (the default): of what both have, only the bundle container is replaced; containers come and go, every slot\'s volume stays declared throughout', (from, to) => {
    const { before, after, plan, added, removed } = replicaCountChange(from, to);
    // Every slot the group can have (node-0 to node-5, sentinel-0 to sentinel-2) keeps its volume
    // declared, with prevent_destroy, whatever the replica count (0 replicas: no sentinel runs).
    for (const json of [before, after]) {
      expect(DATA_VOLUMES(json)).toEqual(EVERY_SLOT_VOLUME);
      for (const volume of EVERY_SLOT_VOLUME) expect([volume, json.resource.docker_volume[volume.split('.')[1]].lifecycle]).toEqual([volume, { prevent_destroy: true }]);
    }
    // No volume is created, deleted, replaced or updated: a slot added finds its volume, a slot removed leaves it.
    expect(Object.keys(plan.changes).filter((address) => address.startsWith('docker_volume.'))).toEqual([]);
    expect(withAction(plan, 'create')).toEqual([...added].sort());
    expect(withAction(plan, 'delete')).toEqual([...removed].sort());
    expect(NODE_CONTAINERS(before).length + NODE_CONTAINERS(after).length).toBe(2 + from + to);
  });

  test.each(stepPairs)('replicasPerShard %i -> %i, RemovalPolicy.DESTROY: of what both have, only the bundle container is replaced; slots come and go with their volumes', (from, to) => {
    const { after, plan, added, removed } = replicaCountChange(from, to, RemovalPolicy.DESTROY);
    // Only the running slots' volumes are declared: the removed ones' are deleted, the added ones' created.
    expect(DATA_VOLUMES(after)).toEqual([...NODE_CONTAINERS(after), ...SENTINEL_CONTAINERS(after)].map(volumeOf).sort());
    expect(withAction(plan, 'create')).toEqual([...added, ...added.map(volumeOf)].sort());
    expect(withAction(plan, 'delete')).toEqual([...removed, ...removed.map(volumeOf)].sort());
    // No data volume of a slot that stays is ever replaced or deleted.
    for (const volume of DATA_VOLUMES(after)) expect([volume, plan.changes[volume]?.action]).toEqual([volume, added.map(volumeOf).includes(volume) ? 'create' : undefined]);
  });

  test('replicasPerShard 5 -> 2: retained, the removed replicas\' volumes stay declared with prevent_destroy and the plan deletes no volume; under RemovalPolicy.DESTROY it deletes exactly theirs', () => {
    const removedVolumes = [3, 4, 5].map((k) => `docker_volume.sessions_node_${k}_data`);
    const removedContainers = [3, 4, 5].map((k) => `docker_container.sessions_node_${k}`);
    for (const removalPolicy of [undefined, RemovalPolicy.RETAIN]) {
      const [before, after] = [group({ replicasPerShard: 5, removalPolicy }), group({ replicasPerShard: 2, removalPolicy })];
      const plan = planBetween(before, after);
      expect([removalPolicy, withAction(plan, 'delete')]).toEqual([removalPolicy, removedContainers]);
      for (const volume of removedVolumes) {
        const id = volume.split('.')[1];
        expect([removalPolicy, id, after.resource.docker_volume[id]]).toEqual([removalPolicy, id, before.resource.docker_volume[id]]);
        expect([removalPolicy, id, after.resource.docker_volume[id].lifecycle]).toEqual([removalPolicy, id, { prevent_destroy: true }]);
      }
      // NOTE: prevent_destroy protects a volume only while its block is in the configuration
      // (Terraform's lifecycle documentation; checked with terraform 1.11 on terraform_data): a
      // removed block takes it along, and Terraform would destroy the volume without refusing. So,
      // retained, the group keeps the block of every data slot it can have, container or not.
      expect(plan.refused).toEqual([]);
    }
    // Even with no replica, retained: node-1 to node-5 keep their volumes, protected, and no container mounts them.
    for (const removalPolicy of [undefined, RemovalPolicy.RETAIN]) {
      const solo = group({ replicasPerShard: 0, removalPolicy });
      expect([removalPolicy, NODE_CONTAINERS(solo)]).toEqual([removalPolicy, ['docker_container.sessions_node_0']]);
      for (const k of [1, 2, 3, 4, 5]) {
        expect([removalPolicy, k, solo.resource.docker_volume[`sessions_node_${k}_data`]]).toEqual([removalPolicy, k, {
          name: `sessions-node-${k}`, labels: [{ label: 'cachefleet.fleet', value: 'sessions' }], lifecycle: { prevent_destroy: true },
        }]);
      }
      const mounted = Object.values<any>(solo.resource.docker_container)
        .flatMap((container) => (container.volumes ?? []).map((v: any) => v.volume_name));
      expect(mounted.filter((name: string) => /sessions_node_[1-5]_data/.test(name))).toEqual([]);
    }
    // Destroyed (the user asked for it): the removed replicas' volumes go with their containers, nothing else.
    const destroy = RemovalPolicy.DESTROY;
    const plan = planBetween(group({ replicasPerShard: 5, removalPolicy: destroy }), group({ replicasPerShard: 2, removalPolicy: destroy }));
    expect(withAction(plan, 'delete')).toEqual([...removedContainers, ...removedVolumes].sort());
    expect(plan.refused).toEqual([]);
  });

  test('a live parameter change (maxmemory-policy) replaces only the bundle container; its restart key stays', () => {
    const [before, after] = [group({ parameters: { 'maxmemory-policy': 'allkeys-lru' } }), group({ parameters: { 'maxmemory-policy': 'volatile-lru' } })];
    const plan = planBetween(before, after);
    expect(plan).toEqual({ changes: { 'docker_container.sessions_bundle': { action: 'replace', arguments: ['upload'] } }, refused: [] });
    expect(bundleFile(after, 'sessions', 'restart-key')).toBe(bundleFile(before, 'sessions', 'restart-key'));
    expect(bundleFile(after, 'sessions', 'generation')).not.toBe(bundleFile(before, 'sessions', 'generation'));
    expect(bundleFile(after, 'sessions', 'live-parameters')).toContain('maxmemory-policy\tvolatile-lru\n');
  });

  test('a parameter change that needs a restart (io-threads) replaces only the bundle container; its restart key changes', () => {
    const [before, after] = [group({ parameters: { 'io-threads': '2' } }), group({ parameters: { 'io-threads': '4' } })];
    const plan = planBetween(before, after);
    expect(plan).toEqual({ changes: { 'docker_container.sessions_bundle': { action: 'replace', arguments: ['upload'] } }, refused: [] });
    expect(bundleFile(after, 'sessions', 'restart-key')).not.toBe(bundleFile(before, 'sessions', 'restart-key'));
    expect(bundleFile(after, 'sessions', 'redis.conf')).toContain('io-threads 4\n');
  });

  test('a replica count change among 1, 2 and 5 keeps the restart key: the running nodes take the new bundle live', () => {
    const keys = [1, 2, 5].map((replicasPerShard) => bundleFile(group({ replicasPerShard }), 'sessions', 'restart-key'));
    expect(new Set(keys).size).toBe(1);
    // From none to one replica, the sentinels come (sentinel.conf, a file only a restart applies):
    // the primary restarts, in its turn, once the new replica runs.
    expect(bundleFile(group({ replicasPerShard: 0 }), 'sessions', 'restart-key')).not.toBe(keys[0]);
  });

  test('a restart policy change updates every container in place: nothing is replaced', () => {
    const plan = planBetween(group({ restartPolicy: undefined }), group({ restartPolicy: RestartPolicy.ALWAYS }));
    expect(Object.values(plan.changes).map((change) => [change.action, change.arguments])).toEqual(Object.values(plan.changes).map(() => ['update', ['restart']]));
    expect(withAction(plan, 'update')).toEqual(['docker_container.sessions_bundle', ...NODE_CONTAINERS(group()), ...SENTINEL_CONTAINERS(group())].sort());
  });

  test('a CPU change replaces the data node containers (cpus is ForceNew in 3.6.2); the sentinels, the bundle container and the volumes stay', () => {
    expect(CONTAINER_FORCE_NEW.has('cpus')).toBe(true);
    const [before, after] = [group({ replicasPerShard: 2, cpus: 1 }), group({ replicasPerShard: 2, cpus: 2 })];
    const plan = planBetween(before, after);
    // All at once: Terraform replaces every changed container in parallel (the remaining limit).
    expect(changesInBoth(plan)).toEqual(Object.fromEntries(NODE_CONTAINERS(after).map((node) => [node, 'replace'])));
    for (const node of NODE_CONTAINERS(after)) expect(plan.changes[node].arguments).toEqual(['cpus']);
    expect(plan.refused).toEqual([]);
  });

  test('a memory limit change replaces the data node containers (all at once: the remaining limit); the volumes stay', () => {
    const [before, after] = [group({ replicasPerShard: 2, memoryLimitMiB: 256 }), group({ replicasPerShard: 2, memoryLimitMiB: 512 })];
    const plan = planBetween(before, after);
    // The limit rides in env (ForceNew), so that the agent sizes maxmemory again at the start.
    // Terraform replaces every changed container at once, in parallel: the whole group restarts at
    // the same moment. That is the remaining limit of the Docker flavor (only what the bundle carries
    // rolls one node at a time).
    expect(changesInBoth(plan)).toEqual(Object.fromEntries(NODE_CONTAINERS(after).map((node) => [node, 'replace'])));
    for (const node of NODE_CONTAINERS(after)) expect(plan.changes[node].arguments).toEqual(['env', 'memory']);
    expect(DATA_VOLUMES(after).filter((volume) => plan.changes[volume])).toEqual([]);
    expect(plan.refused).toEqual([]);
  });

  test('an engine version change replaces the image and every container (all at once: the remaining limit); the volumes stay', () => {
    const [before, after] = [
      group({ engine: CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 }) }),
      group({ engine: CacheEngine.redis({ version: RedisEngineVersion.VER_7_2 }) }),
    ];
    const plan = planBetween(before, after);
    // Every container at once (the remaining limit): the new image's ID is unknown until it is
    // pulled, and each container's `image` refers to it.
    expect(changesInBoth(plan)).toEqual({
      'docker_image.sessions_image': 'replace',
      ...Object.fromEntries(Object.keys(after.resource.docker_container).map((id) => [`docker_container.${id}`, 'replace'])),
    });
    expect(Object.keys(plan.changes).filter((address) => address.startsWith('docker_volume.'))).toEqual([]);
    expect(plan.refused).toEqual([]);
  });

  test('a subnet change replaces the network and every slot container (all at once: the remaining limit); the volumes stay', () => {
    const [before, after] = [group({ replicasPerShard: 2 }), group({ replicasPerShard: 2, subnetCidr: '10.50.0.0/24' })];
    const plan = planBetween(before, after);
    const changed = changesInBoth(plan);
    // Every slot container at once (the remaining limit): each has a new address.
    expect(changed['docker_network.sessions_network']).toBe('replace');
    for (const container of [...NODE_CONTAINERS(after), ...SENTINEL_CONTAINERS(after)]) {
      expect([container, changed[container]]).toEqual([container, 'replace']);
      expect(plan.changes[container].arguments).toContain('networks_advanced');
    }
    // The addresses are in the bundle (slot files, sentinel.conf): a new one.
    expect(changed['docker_container.sessions_bundle']).toBe('replace');
    expect(Object.keys(plan.changes).filter((address) => address.startsWith('docker_volume.'))).toEqual([]);
    expect(plan.refused).toEqual([]);
  });
});

describe('terraform plan between two configurations of a cluster-mode group', () => {
  const cluster = (props: GroupProps = {}) => group({ clusterMode: ClusterMode.ENABLED, ...props });
  const VOLUMES = (json: any) => Object.keys(json.resource.docker_volume).map((id) => `docker_volume.${id}`).sort();

  test('synthesizing the same configuration twice gives an empty plan', () => {
    for (const props of [{}, { shards: 5, replicasPerShard: 2 }]) {
      expect(planBetween(cluster(props), cluster(props))).toEqual({ changes: {}, refused: [] });
    }
  });

  /**
   * A change of the shard or replica count: of what both configurations have, only the bundle
   * container is replaced (a new upload); the network stays (its ip_range does not follow the
   * shards), every slot in both keeps its address and host port, and no volume of a slot in both
   * changes.
   */
  test.each([
    [{ shards: 3, replicasPerShard: 1 }, { shards: 4, replicasPerShard: 1 }],
    [{ shards: 4, replicasPerShard: 1 }, { shards: 3, replicasPerShard: 1 }],
    [{ shards: 3, replicasPerShard: 1 }, { shards: 3, replicasPerShard: 2 }],
    [{ shards: 3, replicasPerShard: 2 }, { shards: 3, replicasPerShard: 0 }],
    [{ shards: 3, replicasPerShard: 0 }, { shards: 30, replicasPerShard: 5 }],
  ])('%j -> %j: only the bundle container is replaced of what both have; nothing moves', (from, to) => {
    const [before, after] = [cluster(from), cluster(to)];
    const plan = planBetween(before, after);
    expect(changesInBoth(plan)).toEqual({ 'docker_container.sessions_bundle': 'replace' });
    expect(plan.changes['docker_container.sessions_bundle'].arguments).toEqual(['upload']);
    expect(plan.refused).toEqual([]);
    for (const id of Object.keys(after.resource.docker_container).filter((name) => before.resource.docker_container[name] && name !== 'sessions_bundle')) {
      const claim = (json: any) => {
        const container = json.resource.docker_container[id];
        return [container.networks_advanced[0].ipv4_address, container.ports[0].external];
      };
      expect([id, claim(after)]).toEqual([id, claim(before)]);
    }
    // Slots come and go with their shards and replicas; retained, a shard's six volumes are
    // declared whatever its replica count, so a replica count change touches no volume.
    const [oldNodes, newNodes] = [NODE_CONTAINERS(before), NODE_CONTAINERS(after)];
    expect(withAction(plan, 'create')).toEqual([
      ...newNodes.filter((node) => !oldNodes.includes(node)),
      ...VOLUMES(after).filter((volume) => !VOLUMES(before).includes(volume)),
    ].sort());
    expect(withAction(plan, 'delete')).toEqual([
      ...oldNodes.filter((node) => !newNodes.includes(node)),
      ...VOLUMES(before).filter((volume) => !VOLUMES(after).includes(volume)),
    ].sort());
    if (from.shards === to.shards) expect(VOLUMES(after)).toEqual(VOLUMES(before));
  });

  test('shards 4 -> 3: the fourth shard\'s containers and its six volumes leave the configuration, and with them their prevent_destroy', () => {
    const plan = planBetween(cluster({ shards: 4 }), cluster({ shards: 3 }));
    expect(withAction(plan, 'delete')).toEqual([
      'docker_container.sessions_node_18', 'docker_container.sessions_node_19',
      ...[18, 19, 20, 21, 22, 23].map((host) => `docker_volume.sessions_node_${host}_data`),
    ].sort());
    // NOTE: a removed block takes its prevent_destroy along: Terraform destroys these volumes
    // without refusing, once their containers are gone. The shard's hash slots must have left it
    // before (the container's stop waits for that).
    expect(plan.refused).toEqual([]);
  });
});

describe('terraform plan between two configurations of a Memcached cache cluster', () => {
  test('a parameter change (every Memcached parameter needs a restart) replaces only the bundle container; its restart key changes', () => {
    const [before, after] = [pages(3, { idle_timeout: '0' }), pages(3, { idle_timeout: '30' })];
    const plan = planBetween(before, after);
    expect(plan).toEqual({ changes: { 'docker_container.pages_bundle': { action: 'replace', arguments: ['upload'] } }, refused: [] });
    expect(bundleFile(after, 'pages', 'restart-key')).not.toBe(bundleFile(before, 'pages', 'restart-key'));
  });

  test('a node count change replaces only the bundle container of what both have; its restart key stays (nothing to restart)', () => {
    const [before, after] = [pages(2), pages(3)];
    const plan = planBetween(before, after);
    expect(changesInBoth(plan)).toEqual({ 'docker_container.pages_bundle': 'replace' });
    expect(withAction(plan, 'create')).toEqual(['docker_container.pages_node_2']);
    expect(bundleFile(after, 'pages', 'restart-key')).toBe(bundleFile(before, 'pages', 'restart-key'));
    expect(planBetween(after, before).changes).toEqual({
      'docker_container.pages_bundle': { action: 'replace', arguments: ['upload'] },
      'docker_container.pages_node_2': { action: 'delete', arguments: [] },
    });
  });
});
