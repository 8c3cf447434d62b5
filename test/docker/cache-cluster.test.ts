import { bundleContainer, bundleUploadPaths, containersByName, defaultSubnet, dockerPlan, dockerStack, forSnapshot, slotContainersByName, synthJson, terraformText, uploadedBundle } from './synth';
import { CacheEngine, MemcachedEngineVersion, RedisEngineVersion, ValkeyEngineVersion } from '../../src/core/engine';
import { renderBundle } from '../../src/core/render';
import { validateCacheClusterOptions } from '../../src/core/validation';
import { CacheCluster, ReplicationGroup } from '../../src/docker';
import { terraformLiteral } from '../../src/docker/private/terraform';

const memcached = CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 });
const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });

describe('docker.CacheCluster', () => {
  test('GIVEN Memcached with 3 nodes THEN 3 node containers and the bundle container, no data volumes, no secrets, no AUTH variable', () => {
    const stack = dockerStack();
    const cluster = new CacheCluster(stack, 'Pages', { engine: memcached, numCacheNodes: 3, subnetCidr: '172.28.1.0/24' });
    cluster.addOutputs();
    cluster.addOutputs();
    const json = synthJson(stack);
    const containers = containersByName(json);
    expect(Object.keys(containers).sort()).toEqual(['pages-bundle', 'pages-node-0', 'pages-node-1', 'pages-node-2']);
    // The only volume is the one the bundle container publishes the bundle on: memcached keeps no data.
    expect(Object.keys(json.resource.docker_volume)).toEqual(['pages_bundle_volume']);
    expect(json.variable).toBeUndefined();
    const node = containers['pages-node-1'];
    expect(node.command).toEqual(['start', 'memcached']);
    // The image runs as `memcache`; the agent needs root and drops memcached to its user itself.
    expect(node.user).toBe('root');
    // The image's user is core's catalog entry (11211:11211), the one fleet.env names too.
    expect(node.env).toContain(`CACHEFLEET_ENGINE_USER=${memcached.installation.containerUser}`);
    const bundle = containers['pages-bundle'];
    expect(uploadedBundle(bundle)['fleet.env']).toContain(`CF_CONTAINER_USER='${memcached.installation.containerUser}'`);
    // A node uploads the launcher only; the bundle container uploads the bundle.
    expect(node.upload.map((u: any) => u.file)).toEqual(['/usr/local/bin/cachefleet-launch']);
    expect(node.entrypoint).toEqual(['/usr/local/bin/cachefleet-launch']);
    expect(node.volumes).toEqual([{ volume_name: '${docker_volume.pages_bundle_volume.name}', container_path: '/var/lib/cachefleet-fleet' }]);
    expect(node.depends_on).toEqual(['docker_container.pages_bundle']);
    expect(bundle.upload.map((u: any) => u.file)).toEqual(bundleUploadPaths(
      'fleet.env',
      'slots/node-0.env',
      'slots/node-1.env',
      'slots/node-2.env',
      'memcached.args',
    ));
    expect(bundle).toMatchObject({ network_mode: 'none', command: ['publish'], capabilities: { drop: ['ALL'] } });
    expect(bundle.ports).toBeUndefined();
    expect(node.ulimit).toEqual([{ name: 'nofile', soft: 65536, hard: 65536 }]);
    expect(node.healthcheck.test.slice(-2)).toEqual(['health', 'memcached']);
    expect(node.networks_advanced[0]).toMatchObject({ ipv4_address: '172.28.1.11', aliases: ['pages-node-1'] });
    expect(Object.values<any>(json.resource.docker_image)).toEqual([{ name: 'public.ecr.aws/docker/library/memcached:1.6.45@sha256:75c93cc91e76853da7c029e74d6e8dbd44774dd3713c93be8cd1971ad26120a4', keep_locally: true }]);
    expect(cluster.nodeEndpoints.map((e) => e.socketAddress)).toEqual(['172.28.1.10:11211', '172.28.1.11:11211', '172.28.1.12:11211']);
    expect(cluster.endpoint.socketAddress).toBe('172.28.1.10:11211');
    expect(cluster.authUsername).toBeUndefined();
    expect(Object.keys(json.output).sort()).toEqual(['pages_endpoint', 'pages_host_address_map', 'pages_network_name', 'pages_node_endpoints']);
  });

  test('GIVEN a single Valkey node THEN one container with a volume, AUTH from a sensitive variable', () => {
    const stack = dockerStack();
    const cluster = new CacheCluster(stack, 'Cache', { engine: valkey });
    cluster.addOutputs();
    const json = synthJson(stack);
    expect(Object.keys(containersByName(json)).sort()).toEqual(['cache-bundle', 'cache-node-0']);
    const node = containersByName(json)['cache-node-0'];
    expect(node.command).toEqual(['start', 'redis']);
    expect(node.upload.map((u: any) => u.file)).toContain('/run/cachefleet/secrets/app-password');
    expect(Object.keys(uploadedBundle(bundleContainer(json, 'cache')))).not.toContain('sentinel.conf');
    expect(bundleContainer(json, 'cache').upload.map((u: any) => u.file).filter((file: string) => file.includes('secrets'))).toEqual([]);
    expect(json.variable.cache_auth_token.sensitive).toBe(true);
    expect(json.output.cache_host_url.sensitive).toBe(true);
    expect(cluster.authUsername).toBe('app');
  });

  test('a cache cluster and a replication group in one stack each take a default subnet of their own', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Sessions', { engine: valkey });
    new CacheCluster(stack, 'Pages', { engine: memcached, numCacheNodes: 2 });
    const subnets = Object.values<any>(synthJson(stack).resource.docker_network).map((network) => network.ipam_config[0].subnet);
    expect(subnets.sort()).toEqual([defaultSubnet('Pages'), defaultSubnet('Sessions')].sort());
    expect(defaultSubnet('Pages')).not.toBe(defaultSubnet('Sessions'));
  });

  test('40 Memcached nodes fit a /26', () => {
    const stack = dockerStack();
    const cluster = new CacheCluster(stack, 'Big', { engine: memcached, numCacheNodes: 40, subnetCidr: '10.1.0.0/26' });
    expect(cluster.nodeEndpoints[39].hostname).toBe('10.1.0.49');
  });

  test('GIVEN a memory limit and CPUs THEN every Memcached node container has them; the bundle container uploads core\'s bundle', () => {
    const stack = dockerStack();
    const props = { engine: memcached, numCacheNodes: 3, memoryLimitMiB: 128, cpus: 2 };
    new CacheCluster(stack, 'Pages', props);
    const json = synthJson(stack);
    const containers = slotContainersByName(json);
    const bundle = renderBundle(dockerPlan('Pages', validateCacheClusterOptions(props)));
    expect(Object.keys(containers)).toEqual(['pages-node-0', 'pages-node-1', 'pages-node-2']);
    for (const [name, container] of Object.entries<any>(containers)) {
      // The agent sizes memcached's item memory from the container's limit (`--memory-limit` is a placeholder).
      expect([name, container.memory, container.memory_swap, container.cpus]).toEqual([name, 128, undefined, '2']);
      expect([name, uploadedBundle(container)]).toEqual([name, {}]);
    }
    // The bundle container's own limit, whatever the nodes'; no CPU limit.
    const publisher = bundleContainer(json, 'pages');
    expect([publisher.memory, publisher.cpus]).toEqual([32, undefined]);
    const uploaded = uploadedBundle(publisher);
    const { 'cachefleet-node': agent, 'restart-key': restartKey, 'generation': generation, ...rendered } = uploaded;
    expect([agent, restartKey, generation].every((content) => content !== undefined)).toBe(true);
    expect(Object.fromEntries(Object.entries(rendered).map(([file, content]) => [file, terraformText(content)]))).toEqual(bundle);
    expect(uploaded['memcached.args']).toBe(terraformLiteral(bundle['memcached.args']));
  });

  test('GIVEN half a CPU THEN Docker gets "0.5" (for the nodes: the bundle container has no CPU limit)', () => {
    const stack = dockerStack();
    new CacheCluster(stack, 'Pages', { engine: memcached, numCacheNodes: 2, cpus: 0.5 });
    const json = synthJson(stack);
    const nodes = Object.values<any>(slotContainersByName(json));
    expect(nodes).toHaveLength(2);
    for (const container of nodes) expect(container).toMatchObject({ memory: 256, cpus: '0.5' });
    expect(bundleContainer(json, 'pages').cpus).toBeUndefined();
  });

  test('snapshot: Memcached, 3 nodes, 128 MiB, 2 CPUs', () => {
    const stack = dockerStack();
    new CacheCluster(stack, 'Pages', { engine: memcached, numCacheNodes: 3, memoryLimitMiB: 128, cpus: 2 });
    expect(forSnapshot(synthJson(stack))).toMatchSnapshot();
  });
});

describe('docker flavor: Redis 6.2', () => {
  test('runs from its official image without a warning (the agent uses the image\'s binary names)', () => {
    const stack = dockerStack();
    const cluster = new CacheCluster(stack, 'Old', { engine: CacheEngine.redis({ version: RedisEngineVersion.VER_6_2 }) });
    expect(cluster.node.metadata.filter((m) => m.type === '@cdktf/warn')).toEqual([]);
    expect(JSON.stringify(synthJson(stack))).toContain('"public.ecr.aws/docker/library/redis:6.2.24@sha256:e7b96daa9a182b0a2639253fdab98244190ec2dca8a41da3fb31a147ef71a870"');
  });
});

describe('docker flavor: an image named by tag', () => {
  test('warns at synth that a pull of the tag on the host would replace every container, and says how to pin it', () => {
    // GIVEN a version whose image is a tag (Redis 7.0.15) and one pinned by digest (Redis 7.2)
    const stack = dockerStack();
    const tagged = new CacheCluster(stack, 'Tagged', { engine: CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 }), hostPortBase: 6500 });
    const pinned = new CacheCluster(stack, 'Pinned', { engine: CacheEngine.redis({ version: RedisEngineVersion.VER_7_2 }), subnetCidr: '172.29.0.0/24', hostPortBase: 6600 });
    const custom = new CacheCluster(stack, 'Custom', {
      engine: CacheEngine.redis({ version: RedisEngineVersion.of('7.2.16', '7.2', `public.ecr.aws/docker/library/redis:7.2.16@sha256:${'a'.repeat(64)}`) }),
      subnetCidr: '172.30.0.0/24',
      hostPortBase: 6700,
    });

    // THEN
    const warnings = (construct: CacheCluster) => construct.node.metadata.filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data));
    expect(warnings(tagged)).toEqual([expect.stringMatching(/the image public\.ecr\.aws\/docker\/library\/redis:7\.0\.15 is named by tag only: .*replaces every container of the fleet at once\. Pin it by digest/)]);
    expect(warnings(pinned)).toEqual([]);
    expect(warnings(custom)).toEqual([]);
  });
});
