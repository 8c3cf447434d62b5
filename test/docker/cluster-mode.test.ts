import { Testing } from 'cdktf';
import { bundleContainer, containersByName, defaultAddress, defaultSubnet, dockerPlan, dockerStack, forSnapshot, slotContainersByName, synthJson, terraformText, uploadedBundle } from './synth';
import { CacheEngine, RedisEngineVersion, ValkeyEngineVersion } from '../../src/core/engine';
import { ClusterMode } from '../../src/core/fleet-options';
import { renderBundle } from '../../src/core/render';
import { validateReplicationGroupOptions } from '../../src/core/validation';
import { ReplicationGroup } from '../../src/docker';
import { DOCKER_DEFAULTS } from '../../src/docker/private/fleet';
import { thrown } from '../shared/thrown';

/**
 * A replication group with cluster mode enabled, as the Docker flavor declares it: a container per
 * node of each shard (`node-<6s + r>`), no sentinels, the data port published and the bus port not, the
 * configuration endpoint an alias over every node, and the host address map ioredis `Cluster`'s
 * `natMap` takes.
 */

const redis = CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 });
const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });
const ENABLED = ClusterMode.ENABLED;

describe('docker.ReplicationGroup with cluster mode enabled', () => {
  test('GIVEN defaults WHEN synthesized THEN 3 shards of 1 primary + 1 replica, a container each, no sentinel, and the bundle container', () => {
    const stack = dockerStack();
    const group = new ReplicationGroup(stack, 'Orders', { engine: redis, clusterMode: ENABLED });
    const containers = slotContainersByName(synthJson(stack));
    expect(Object.keys(containers).sort()).toEqual([
      'orders-node-0', 'orders-node-1', 'orders-node-6', 'orders-node-7', 'orders-node-12', 'orders-node-13',
    ].sort());
    for (const container of Object.values<any>(containers)) {
      expect(container.command).toEqual(['start', 'redis']);
      expect(container.labels).toContainEqual({ label: 'cachefleet.service', value: 'redis' });
    }
    expect(group.sentinelEndpoints).toEqual([]);
    // Node r of shard s is `node-<6s + r>`, host 10 + 6s + r: each shard owns six addresses, whatever its replicas.
    expect(group.nodeEndpoints.map((e) => e.socketAddress)).toEqual([10, 11, 16, 17, 22, 23].map((host) => `${defaultAddress('Orders', host)}:6379`));
    expect(group.initialPrimaryEndpoint.socketAddress).toBe(`${defaultAddress('Orders', 10)}:6379`);
  });

  test('the configuration endpoint is a network alias over every data node; the shards carry their hash slots and nodes, the planned primary first', () => {
    const stack = dockerStack();
    const group = new ReplicationGroup(stack, 'Orders', { engine: valkey, clusterMode: ENABLED, shards: 4, replicasPerShard: 2, port: 7000 });
    expect(group.configurationEndpoint?.socketAddress).toBe('orders-configuration:7000');
    expect(group.anyNodeEndpoint).toBe(group.configurationEndpoint);
    const containers = slotContainersByName(synthJson(stack));
    expect(Object.keys(containers)).toHaveLength(12);
    for (const [name, container] of Object.entries<any>(containers)) {
      expect(container.networks_advanced).toHaveLength(1);
      expect(container.networks_advanced[0].aliases).toEqual([name, 'orders-configuration']);
    }
    expect(group.shardEndpoints.map((s) => [s.shard, s.firstHashSlot, s.lastHashSlot, s.nodeEndpoints.map((e) => e.hostname)])).toEqual([
      [0, 0, 4095, [10, 11, 12].map((host) => defaultAddress('Orders', host))],
      [1, 4096, 8191, [16, 17, 18].map((host) => defaultAddress('Orders', host))],
      [2, 8192, 12287, [22, 23, 24].map((host) => defaultAddress('Orders', host))],
      [3, 12288, 16383, [28, 29, 30].map((host) => defaultAddress('Orders', host))],
    ]);
    expect(group.shardEndpoints.flatMap((s) => s.nodeEndpoints)).toEqual(group.nodeEndpoints);
  });

  test('cluster mode disabled: no configuration endpoint, no shards', () => {
    const group = new ReplicationGroup(dockerStack(), 'Sessions', { engine: redis });
    expect(group.configurationEndpoint).toBeUndefined();
    expect(group.shardEndpoints).toEqual([]);
  });

  test('only the data port is published, on the slot\'s host port; the bus port (port + 10000) never is', () => {
    const stack = dockerStack();
    const group = new ReplicationGroup(stack, 'Orders', { engine: redis, clusterMode: ENABLED, replicasPerShard: 2, hostPortBase: 17000 });
    const containers = slotContainersByName(synthJson(stack));
    expect(containers['orders-node-0'].ports).toEqual([{ internal: 6379, external: 17000, ip: '127.0.0.1', protocol: 'tcp' }]);
    expect(containers['orders-node-14'].ports).toEqual([{ internal: 6379, external: 17014, ip: '127.0.0.1', protocol: 'tcp' }]);
    for (const container of Object.values<any>(containers)) {
      expect(container.ports.map((p: any) => p.internal)).toEqual([6379]);
      expect(JSON.stringify(container)).not.toContain('16379');
    }
    // The bus port is in the nodes' own configuration, which the bundle carries.
    const bundle = uploadedBundle(bundleContainer(synthJson(stack), 'orders'));
    expect(terraformText(bundle['fleet.env'])).toContain("CF_CLUSTER_BUS_PORT='16379'");
    expect(group.nodeEndpoints.map((e) => e.hostPort)).toEqual([17000, 17001, 17002, 17006, 17007, 17008, 17012, 17013, 17014]);
  });

  test('the host address map names every node as it announces itself (its fixed address and port) and where the host publishes it: ioredis natMap', () => {
    const stack = dockerStack();
    const group = new ReplicationGroup(stack, 'Orders', { engine: redis, clusterMode: ENABLED });
    group.addOutputs();
    const json = synthJson(stack);
    const expected = Object.fromEntries([[10, 6400], [11, 6401], [16, 6406], [17, 6407], [22, 6412], [23, 6413]]
      .map(([host, port]) => [`${defaultAddress('Orders', host)}:6379`, `127.0.0.1:${port}`]));
    expect(group.hostAddressMap).toEqual(expected);
    expect(json.output.orders_host_address_map.value).toEqual(expected);
    // The address each node announces is the key: core renders it into the node's own configuration.
    const plan = dockerPlan('Orders', validateReplicationGroupOptions({ engine: redis, clusterMode: ENABLED }));
    const rendered = renderBundle(plan);
    for (const slot of plan.slots) {
      expect(rendered[`slots/${slot.name}.env`] ?? '').toContain(slot.address);
      expect(expected[`${slot.address}:6379`]).toBe(`127.0.0.1:${6400 + slot.hostNumber}`);
    }
    const unpublished = dockerStack();
    expect(new ReplicationGroup(unpublished, 'Orders', { engine: redis, clusterMode: ENABLED, publishPorts: false }).hostAddressMap).toEqual({});
    for (const container of Object.values<any>(slotContainersByName(synthJson(unpublished)))) expect(container.ports).toBeUndefined();
  });

  test('addOutputs: the configuration endpoint and the shards, no sentinel output; once', () => {
    const stack = dockerStack();
    const group = new ReplicationGroup(stack, 'Orders', { engine: redis, clusterMode: ENABLED });
    group.addOutputs();
    group.addOutputs();
    const json = synthJson(stack);
    expect(Object.keys(json.output).sort()).toEqual([
      'orders_configuration_endpoint', 'orders_host_address_map', 'orders_network_name', 'orders_node_endpoints', 'orders_shards',
    ]);
    expect(json.output.orders_configuration_endpoint.value).toBe('orders-configuration:6379');
    expect(json.output.orders_shards.value).toEqual([
      { shard: 0, hash_slots: '0-5460', node_endpoints: [10, 11].map((host) => `${defaultAddress('Orders', host)}:6379`) },
      { shard: 1, hash_slots: '5461-10921', node_endpoints: [16, 17].map((host) => `${defaultAddress('Orders', host)}:6379`) },
      { shard: 2, hash_slots: '10922-16383', node_endpoints: [22, 23].map((host) => `${defaultAddress('Orders', host)}:6379`) },
    ]);
  });

  test('each node: its own volume, the agent as entrypoint, the health check, and a stop long enough for the handover and the engine\'s shutdown', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Orders', { engine: redis, clusterMode: ENABLED });
    const json = synthJson(stack);
    const node = containersByName(json)['orders-node-7'];
    expect(node.entrypoint).toEqual(['/usr/local/bin/cachefleet-launch']);
    expect(node.env).toContain('CACHEFLEET_SLOT=node-7');
    expect(node.env).toContain(`CACHEFLEET_PRE_STOP_TIMEOUT=${DOCKER_DEFAULTS.handoverSeconds}`);
    expect(node.volumes).toEqual([
      { volume_name: '${docker_volume.orders_bundle_volume.name}', container_path: '/var/lib/cachefleet-fleet' },
      { volume_name: '${docker_volume.orders_node_7_data.name}', container_path: '/var/lib/cachefleet' },
    ]);
    expect(node.healthcheck.test).toEqual(['CMD', '/usr/local/bin/cachefleet-launch', 'health', 'redis']);
    // pre-stop moves the slots of a shard that stops whole to the shards that stay (five minutes of
    // migration), hands a primary's slots over (CLUSTER FAILOVER to a replica) within the handover
    // time, then the engine shuts down (shutdown-timeout 10 s): Docker waits for all before SIGKILL.
    expect(node.stop_timeout).toBe(DOCKER_DEFAULTS.clusterStopGraceSeconds);
    expect(DOCKER_DEFAULTS.clusterStopGraceSeconds).toBeGreaterThanOrEqual(300 + DOCKER_DEFAULTS.handoverSeconds + 10);
    expect(node.destroy_grace_seconds).toBe(node.stop_timeout);
    // Retained: each shard keeps the volumes of all six slots it can have.
    const volumes = Object.values<any>(json.resource.docker_volume).map((v) => v.name).filter((name) => name !== 'orders-bundle');
    expect(volumes.sort()).toEqual([0, 1, 2].flatMap((s) => [0, 1, 2, 3, 4, 5].map((r) => `orders-node-${6 * s + r}`)).sort());
  });

  test('the network\'s range for other containers is the subnet\'s last quarter, whatever the shard count: the fixed addresses stay below it', () => {
    for (const shards of [3, 5, 30]) {
      const stack = dockerStack();
      const group = new ReplicationGroup(stack, 'Orders', { engine: redis, clusterMode: ENABLED, shards, replicasPerShard: 5 });
      const network = Object.values<any>(synthJson(stack).resource.docker_network)[0];
      expect(network.ipam_config).toEqual([{ subnet: defaultSubnet('Orders'), ip_range: defaultAddress('Orders', 192).replace(/$/, '/26') }]);
      const hosts = group.nodeEndpoints.map((e) => Number(e.hostname.split('.')[3]));
      expect(Math.max(...hosts)).toBe(10 + 6 * shards - 1);
      expect(Math.max(...hosts)).toBeLessThan(192);
    }
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Orders', { engine: redis, clusterMode: ENABLED, subnetCidr: '10.9.0.0/26' });
    expect(Object.values<any>(synthJson(stack).resource.docker_network)[0].ipam_config).toEqual([{ subnet: '10.9.0.0/26', ip_range: '10.9.0.48/28' }]);
  });

  test('the most shards a subnet holds, and the highest host port base, are accepted (one more is refused: invalid-props.test.ts)', () => {
    expect(() => new ReplicationGroup(dockerStack(), 'Orders', { engine: redis, clusterMode: ENABLED, shards: 30 })).not.toThrow();
    expect(() => new ReplicationGroup(dockerStack(), 'Orders', { engine: redis, clusterMode: ENABLED, shards: 6, subnetCidr: '10.9.0.0/26' })).not.toThrow();
    expect(() => new ReplicationGroup(dockerStack(), 'Orders', { engine: redis, clusterMode: ENABLED, shards: 120, subnetCidr: '10.9.0.0/22' })).not.toThrow();
    expect(() => new ReplicationGroup(dockerStack(), 'Orders', { engine: redis, clusterMode: ENABLED, shards: 5, hostPortBase: 65506 })).not.toThrow();
  });

  test('two published cluster-mode groups on one host address may not share host ports: each reserves 6 per shard', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Orders', { engine: redis, clusterMode: ENABLED, subnetCidr: '10.9.0.0/24' });
    expect(thrown(() => new ReplicationGroup(stack, 'Carts', { engine: redis, clusterMode: ENABLED, subnetCidr: '10.9.1.0/24', hostPortBase: 6417 })).message).toBe(
      'Test/Carts: `hostPortBase` must leave host ports 6400-6417 to fleet "orders" (Test/Orders): fleet "carts" reserves 6417-6434; give one of them another hostPortBase, got: 6417');
    expect(() => new ReplicationGroup(stack, 'Baskets', { engine: redis, clusterMode: ENABLED, subnetCidr: '10.9.2.0/24', hostPortBase: 6418 })).not.toThrow();
  });

  test('a node keeps its address, host port and volume whatever the shard or replica count', () => {
    const claims = (shards: number, replicasPerShard: number) => {
      const stack = dockerStack();
      new ReplicationGroup(stack, 'Orders', { engine: redis, clusterMode: ENABLED, shards, replicasPerShard });
      return Object.fromEntries(Object.entries<any>(slotContainersByName(synthJson(stack))).map(([name, c]) =>
        [name, [c.networks_advanced[0].ipv4_address, c.ports[0].external, c.volumes[1].volume_name]]));
    };
    const all = [[3, 0], [3, 1], [4, 2], [6, 5], [3, 5]].map(([shards, replicas]) => claims(shards, replicas));
    for (const a of all) {
      for (const b of all) {
        for (const name of Object.keys(a).filter((n) => n in b)) expect([name, a[name]]).toEqual([name, b[name]]);
      }
    }
  });

  test('snapshot: Valkey 8.0, 3 shards x 1 replica, fixed host ports', () => {
    const stack = dockerStack();
    new ReplicationGroup(stack, 'Orders', { engine: valkey, clusterMode: ENABLED, shards: 3, replicasPerShard: 1, hostPortBase: 17000 }).addOutputs();
    expect(forSnapshot(JSON.parse(Testing.synth(stack)))).toMatchSnapshot();
  });
});
