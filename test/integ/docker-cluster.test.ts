import { Testing } from 'cdktf';
import Redis, { Cluster } from 'ioredis';
import { describeInteg, needsBinaries } from './support/binaries';
import { auth, command, infoFields } from './support/clients';
import { bundleContainer, nodeContainers } from './support/docker-bundle';
import { allHealthy } from './support/docker-group';
import { waitFor } from './support/processes';
import { TerraformContainers } from './support/terraform-json';
import { ClusterFleetStack } from '../../examples/docker/cluster-stack';
import { CacheEngine, EngineType, RedisEngineVersion, ValkeyEngineVersion } from '../../src/core/engine';
import { CLUSTER, INTERNAL_USERS } from '../../src/core/validation';

/**
 * The Docker example's cluster-mode group (3 shards x 1 replica), from its synthesized Terraform
 * JSON to running servers: every `docker_container` of `cdk.tf.json` runs here with its uploads,
 * environment, entrypoint and command unchanged (support/terraform-json.ts), with Redis 7.0 and
 * with Valkey 8.0, this machine's servers standing in for the images'. The cluster forms; a host-side ioredis `Cluster` reaches it through
 * the published ports with the `natMap` the group's `host_address_map` output gives; `docker stop`
 * of a shard primary hands its shard over first; a second apply that replaces every node at once
 * (a new AUTH token) keeps each node's id and data.
 * Addresses 127.0.3.10-127.0.3.60 (test/integ/README.md): Redis's nodes from 127.0.3.10, Valkey's
 * from 127.0.3.30, in the JSON's order; 127.0.3.59 and 127.0.3.60 stand for the Docker host's
 * 127.0.0.1, where the ports are published.
 */
jest.setTimeout(300_000);

const TOKEN = 'Orders-Cluster_Token-1234';
const NEW_TOKEN = 'Orders-Cluster_Token-5678';
const ADMIN_TOKEN = 'Orders-Cluster_Admin-9012';
const KEYS = 600;

const variables = (token: string) => ({ variables: { orders_auth_token: token, orders_admin_token: ADMIN_TOKEN } });
const app = (password: string) => ({ username: 'app', password });
const admin = { username: INTERNAL_USERS.admin, password: ADMIN_TOKEN };

/** One node as CLUSTER NODES describes it. */
interface ClusterNode {
  readonly id: string;
  readonly address: string;
  readonly primary: boolean;
  /** The primary's id, for a replica. */
  readonly primaryId?: string;
  readonly slots: string[];
}

function clusterNodes(text: string): ClusterNode[] {
  return text.trim().split('\n').map((line) => {
    const [id, address, flags, primaryId, , , , , ...slots] = line.split(' ');
    return {
      id,
      // `ip:port@busport[,hostname]`
      address: address.split('@')[0],
      primary: flags.split(',').includes('master'),
      primaryId: primaryId === '-' ? undefined : primaryId,
      slots,
    };
  });
}

/** The number of hash slots a CLUSTER NODES slot list covers (`a-b` or `n`; importing/migrating marks excluded). */
function slotCount(slots: string[]): number {
  return slots.filter((s) => !s.startsWith('[')).reduce((sum, s) => {
    const [first, last] = s.split('-').map(Number);
    return sum + (last === undefined ? 1 : last - first + 1);
  }, 0);
}

function synthesize(engine: CacheEngine): { json: string; outputs: Record<string, { value: unknown }> } {
  const stack = new ClusterFleetStack(Testing.app(), 'cachefleet-docker-cluster', { engine });
  const json = Testing.synth(stack);
  return { json, outputs: JSON.parse(json).output };
}

const ENGINES = [
  { name: 'Redis 7.0', engine: CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 }), binaries: ['redis-server', 'redis-cli'], first: 10, host: '127.0.3.59' },
  { name: 'Valkey 8.0', engine: CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 }), binaries: ['valkey-server', 'valkey-cli'], first: 30, host: '127.0.3.60' },
];

describe.each(ENGINES)('$name', ({ engine, binaries, first, host: HOST }) => describeInteg('the Docker example\'s cluster-mode group run from its cdk.tf.json', () => {
  needsBinaries(binaries);
  const { json, outputs } = synthesize(engine);
  let fleet: TerraformContainers;
  let token = TOKEN;
  const nodes = () => nodeContainers(fleet, 'orders');
  const clients: Array<Cluster | Redis> = [];

  /** Every node's view of the cluster is whole: state ok, every slot served, 3 primaries each with a replica. */
  async function formed(password: string): Promise<ClusterNode[]> {
    return waitFor('every node to see the cluster formed: state ok, 16384 slots, 3 primaries with a replica each', async () => {
      let view: ClusterNode[] | undefined;
      for (const node of nodes()) {
        const info = infoFields(String(await command(node.address, 6379, app(password), 'CLUSTER', 'INFO')));
        if (info.cluster_state !== 'ok' || info.cluster_slots_assigned !== String(CLUSTER.hashSlots) || info.cluster_slots_ok !== String(CLUSTER.hashSlots)
          || info.cluster_known_nodes !== '6' || info.cluster_size !== '3') return undefined;
        const seen = clusterNodes(String(await command(node.address, 6379, app(password), 'CLUSTER', 'NODES')));
        const primaries = seen.filter((n) => n.primary);
        if (primaries.length !== 3 || !primaries.every((p) => seen.filter((r) => r.primaryId === p.id).length === 1)) return undefined;
        view ??= seen;
      }
      return view;
    }, { timeoutMs: 120_000, intervalMs: 500 });
  }

  /** Each node's id and role, by address. */
  async function identities(password: string): Promise<Record<string, string>> {
    const view = clusterNodes(String(await command(nodes()[0].address, 6379, app(password), 'CLUSTER', 'NODES')));
    const ids: Record<string, string> = {};
    for (const node of nodes()) {
      const myId = String(await command(node.address, 6379, app(password), 'CLUSTER', 'MYID'));
      const entry = view.find((n) => n.id === myId);
      ids[node.name] = `${myId} ${entry?.address} ${entry?.primary ? 'primary' : `replica of ${entry?.primaryId}`}`;
    }
    return ids;
  }

  /** A host-side ioredis Cluster: it starts at a published address and follows the natMap the group's output gives. */
  function hostClient(password: string): Cluster {
    const published = fleet.resolve(outputs.orders_host_address_map.value, variables(password)) as Record<string, string>;
    const natMap = Object.fromEntries(Object.entries(published).map(([announced, host]) => {
      const [address, port] = host.split(':');
      return [announced, { host: address, port: Number(port) }];
    }));
    const seed = Object.values(natMap)[0];
    const client = new Cluster([seed], {
      natMap,
      redisOptions: { username: 'app', password, connectTimeout: 2_000, maxRetriesPerRequest: 3 },
      clusterRetryStrategy: (times) => (times > 20 ? null : 250),
      enableOfflineQueue: true,
    });
    // A node that restarts refuses connections meanwhile: what the client then reports, it retries;
    // the test asserts what it reads.
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    // Six nodes, and room for the containers an apply adds.
    const loopback = Array.from({ length: 20 }, (_, i) => `127.0.3.${first + i}`);
    fleet = TerraformContainers.prepare(json, variables(TOKEN), loopback, 'docker-cluster', HOST);
    fleet.start(bundleContainer(fleet, 'orders').name);
    for (const node of nodes()) fleet.start(node.name);
    await fleet.publishPorts();
    await allHealthy(fleet);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    await fleet?.dispose();
  });

  test('the synthesized group is what runs: six nodes, no sentinel, only the data ports published', () => {
    expect(nodes().map((n) => n.labels['cachefleet.slot']).sort()).toEqual(['node-0', 'node-1', 'node-12', 'node-13', 'node-6', 'node-7']);
    expect(fleet.labelled('cachefleet.service', 'sentinel')).toEqual([]);
    const published = fleet.resolve(outputs.orders_host_address_map.value, variables(TOKEN)) as Record<string, string>;
    expect(Object.keys(published).sort()).toEqual(nodes().map((n) => `${n.address}:6379`).sort());
    expect(Object.values(published).every((hostPort) => hostPort.startsWith(`${HOST}:64`))).toBe(true);
  });

  test('the cluster forms: state ok, all 16384 slots, each shard a primary and a replica, the planned slot ranges, every node announcing its fixed address', async () => {
    const view = await formed(TOKEN);
    // The engine asked for runs (Valkey names itself and its own version).
    for (const node of nodes()) {
      const server = infoFields(String(await command(node.address, 6379, app(TOKEN), 'INFO', 'server')));
      expect([node.name, server.valkey_version !== undefined]).toEqual([node.name, engine.engineType === EngineType.VALKEY]);
    }
    // Every node announces the address of its container (here, its loopback stand-in).
    expect(view.map((n) => n.address).sort()).toEqual(nodes().map((n) => `${n.address}:6379`).sort());
    const primaries = view.filter((n) => n.primary);
    expect(primaries.map((p) => slotCount(p.slots)).reduce((a, b) => a + b, 0)).toBe(CLUSTER.hashSlots);
    // Formed from the plan: each shard's planned primary serves its planned range, its planned replica follows it.
    const shards = outputs.orders_shards.value as Array<{ shard: number; hash_slots: string; node_endpoints: string[] }>;
    const mapped = fleet.resolve(shards, variables(TOKEN)) as typeof shards;
    for (const shard of mapped) {
      const [primary, replica] = shard.node_endpoints.map((endpoint) => view.find((n) => n.address === endpoint)!);
      expect([shard.shard, primary.primary, primary.slots]).toEqual([shard.shard, true, [shard.hash_slots]]);
      expect([shard.shard, replica.primaryId]).toEqual([shard.shard, primary.id]);
    }
  });

  test('a host-side ioredis Cluster with the published natMap reads and writes across every shard, with AUTH', async () => {
    await formed(TOKEN);
    const client = hostClient(TOKEN);
    for (let i = 0; i < KEYS; i++) await client.set(`order:${i}`, `value-${i}`);
    for (let i = 0; i < KEYS; i += 7) expect(await client.get(`order:${i}`)).toBe(`value-${i}`);
    // Every shard holds some of the keys: the client followed the slots to each primary.
    const view = clusterNodes(String(await command(nodes()[0].address, 6379, app(TOKEN), 'CLUSTER', 'NODES')));
    const sizes = await Promise.all(view.filter((n) => n.primary).map(async (p) => {
      const [address, port] = p.address.split(':');
      return Number(await command(address, Number(port), app(TOKEN), 'DBSIZE'));
    }));
    expect(sizes.every((size) => size > KEYS / 6)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(KEYS);
    // Without the password, the cluster refuses.
    await expect(auth(nodes()[0].address, 6379, 'Not-The_Token-0000', 'app')).rejects.toThrow(/WRONGPASS/);
    await client.quit();
  });

  test('docker stop of a shard primary: its replica takes the shard over first (pre-stop), no acknowledged key of the shard is lost, and the node comes back as a replica', async () => {
    await formed(token);
    const view = clusterNodes(String(await command(nodes()[0].address, 6379, app(token), 'CLUSTER', 'NODES')));
    const primary = view.find((n) => n.primary && n.slots.length > 0)!;
    const replica = view.find((n) => n.primaryId === primary.id)!;
    const container = nodes().find((n) => `${n.address}:6379` === primary.address)!;
    const client = hostClient(token);
    // Keys of this shard only, acknowledged by its replica before the stop.
    const [address] = primary.address.split(':');
    const shardKeys: string[] = [];
    for (let i = 0; shardKeys.length < 50; i++) {
      const key = `stop:${i}`;
      const slot = Number(await command(address, 6379, app(token), 'CLUSTER', 'KEYSLOT', key));
      if (primary.slots.some((range) => { const [a, b] = range.split('-').map(Number); return slot >= a && slot <= (b ?? a); })) shardKeys.push(key);
    }
    for (const key of shardKeys) await client.set(key, key);
    expect(Number(await command(address, 6379, app(token), 'WAIT', 1, 5_000))).toBe(1);

    // As `docker stop` does: SIGTERM to the container's main process, SIGKILL after its stop_timeout.
    const grace = Number(JSON.parse(json).resource.docker_container[`orders_${container.labels['cachefleet.slot'].replace(/-/g, '_')}`].stop_timeout);
    await fleet.stop(container.name, grace * 1000);
    // The replica is the shard's primary as soon as the stop returns: pre-stop handed the shard over
    // (a failure detection would take the node timeout, 5 s, after the stop).
    const [replicaAddress, replicaPort] = replica.address.split(':');
    const info = infoFields(String(await command(replicaAddress, Number(replicaPort), app(token), 'INFO', 'replication')));
    expect(info.role).toBe('master');
    for (const key of shardKeys) expect([key, await client.get(key)]).toEqual([key, key]);
    await client.set(shardKeys[0], 'after the stop');

    fleet.start(container.name);
    await allHealthy(fleet);
    await formed(token);
    const back = clusterNodes(String(await command(nodes()[0].address, 6379, app(token), 'CLUSTER', 'NODES')));
    expect(back.find((n) => n.id === primary.id)).toMatchObject({ address: primary.address, primary: false, primaryId: replica.id });
    expect(await client.get(shardKeys[0])).toBe('after the stop');
    await client.quit();
  });

  test('a second apply with no change replaces nothing; one that replaces every node at once (a new AUTH token) keeps each node\'s id, address and data', async () => {
    await formed(token);
    const before = await identities(token);
    expect(await fleet.apply(json, variables(token))).toEqual([]);
    expect(await identities(token)).toEqual(before);

    // Every replica has what its primary acknowledged before the nodes go.
    for (const node of nodes()) {
      const info = infoFields(String(await command(node.address, 6379, app(token), 'INFO', 'replication')));
      if (info.role === 'master') {
        await waitFor(`${node.name}'s replica to acknowledge its writes`, async () =>
          Number(await command(node.address, 6379, app(token), 'WAIT', 1, 2_000)) === 1, { timeoutMs: 60_000, intervalMs: 250 });
      }
    }
    const replaced = await fleet.apply(json, variables(NEW_TOKEN));
    expect(replaced.sort()).toEqual(nodes().map((n) => n.name).sort());
    token = NEW_TOKEN;
    await allHealthy(fleet);
    await formed(token);
    const after = await identities(token);
    // The same ids on the same addresses; a failover during the stop may swap a shard's roles, but
    // each shard keeps its two nodes.
    const idOf = (entry: string) => entry.split(' ').slice(0, 2).join(' ');
    expect(Object.fromEntries(Object.entries(after).map(([name, entry]) => [name, idOf(entry)])))
      .toEqual(Object.fromEntries(Object.entries(before).map(([name, entry]) => [name, idOf(entry)])));
    const client = hostClient(token);
    for (let i = 0; i < KEYS; i++) expect([i, await client.get(`order:${i}`)]).toEqual([i, `value-${i}`]);
    await client.quit();
    // The admin user has its own secret, which did not change.
    expect(await command(nodes()[0].address, 6379, admin, 'PING')).toBe('PONG');
  });
}));
