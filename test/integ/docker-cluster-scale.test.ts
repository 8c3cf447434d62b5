import { Testing } from 'cdktf';
import { describeInteg, needsBinaries } from './support/binaries';
import { command, Credentials, infoFields } from './support/clients';
import { parseClusterNodes } from './support/cluster-fleet';
import { bundleContainer, nodeContainers } from './support/docker-bundle';
import { allHealthy } from './support/docker-group';
import { waitFor } from './support/processes';
import { ClusterWriter } from './support/reshard-writer';
import { TerraformContainers } from './support/terraform-json';
import { ClusterFleetStack } from '../../examples/docker/cluster-stack';
import { CacheEngine, ValkeyEngineVersion } from '../../src/core/engine';
import { CLUSTER, INTERNAL_USERS } from '../../src/core/validation';

/**
 * The Docker example's cluster-mode group (Valkey 8.0, 3 shards × (1 + 1)) run from its
 * synthesized `cdk.tf.json` (support/terraform-json.ts: every container with its uploads,
 * environment, entrypoint and command unchanged, and `terraform apply` as provider-docker runs it:
 * the containers it removes or replaces are stopped all at once, with their destroy grace, before
 * the new ones start, the bundle container among them), then applied with 4 shards and back with
 * 3 while a writer (ioredis `Cluster`, the application user) writes all along. Addresses
 * 127.0.7.10-29, in the JSON's order.
 */
jest.setTimeout(900_000);

const TOKEN = 'Orders-Scale_Token-1234';
const ADMIN_TOKEN = 'Orders-Scale_Admin-9012';
const inputs = { variables: { orders_auth_token: TOKEN, orders_admin_token: ADMIN_TOKEN } };
const app: Credentials = { username: 'app', password: TOKEN };
const engine = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });

const synthesize = (shards: number, replicasPerShard = 1) => Testing.synth(new ClusterFleetStack(Testing.app(), 'cachefleet-docker-cluster', { engine, shards, replicasPerShard }));

describeInteg('Docker flavor: an apply that changes shards moves the hash slots with their keys (3 → 4 → 3) under a writer', () => {
  needsBinaries(['valkey-server', 'valkey-cli']);
  let fleet: TerraformContainers;
  let writer: ClusterWriter;
  const nodes = () => nodeContainers(fleet, 'orders');

  /**
   * Every node agrees: state ok, all slots, the nodes of `shards` shards known and none failing, one
   * master per shard with an even share (±2 %) and its replica. Returns each node's role by
   * container name (`master <slots>` or `replica of <name>`).
   */
  async function balanced(shards: number, replicas = 1): Promise<Record<string, string>> {
    return waitFor(`every node to see ${shards} balanced shards of 1 + ${replicas}`, async () => {
      // The harness runs each container on a loopback address, which the node announces.
      const byAddress = new Map(nodes().map((n) => [n.address, n.name]));
      let agreed: string | undefined;
      let roles: Record<string, string> = {};
      for (const node of nodes()) {
        const info = infoFields(String(await command(node.address, 6379, app, 'CLUSTER', 'INFO')));
        if (info.cluster_state !== 'ok' || info.cluster_slots_assigned !== String(CLUSTER.hashSlots) || info.cluster_known_nodes !== String((1 + replicas) * shards)) return undefined;
        const view = parseClusterNodes(String(await command(node.address, 6379, app, 'CLUSTER', 'NODES')));
        if (view.some((n) => n.flags.some((flag) => /fail|handshake|noaddr/.test(flag)))) return undefined;
        const nameOf = (address: string) => byAddress.get(address.replace(/:\d+$/, '')) ?? address;
        const idToName = new Map(view.map((n) => [n.id, nameOf(n.address)]));
        roles = Object.fromEntries(view.map((n) => [nameOf(n.address), n.flags.includes('master')
          ? `master ${n.slots.reduce((sum, [from, to]) => sum + to - from + 1, 0)}`
          : `replica of ${idToName.get(n.master)}`]).sort(([a], [b]) => a.localeCompare(b)));
        const text = JSON.stringify(roles);
        if (agreed !== undefined && agreed !== text) return undefined;
        agreed = text;
      }
      const masters = Object.values(roles).filter((role) => role.startsWith('master ')).map((role) => Number(role.split(' ')[1]));
      const share = CLUSTER.hashSlots / shards;
      if (masters.length !== shards || masters.some((slots) => Math.abs(slots - share) > share * 0.02)) return undefined;
      return roles;
    }, { timeoutMs: 300_000, intervalMs: 1_000 });
  }

  beforeAll(async () => {
    const loopback = Array.from({ length: 20 }, (_, i) => `127.0.7.${10 + i}`);
    fleet = TerraformContainers.prepare(synthesize(3), inputs, loopback, 'docker-cluster-scale');
    fleet.start(bundleContainer(fleet, 'orders').name);
    for (const node of nodes()) fleet.start(node.name);
    await allHealthy(fleet);
    await balanced(3);
    writer = new ClusterWriter(nodes().map((n) => `${n.address}:6379`), app, 'scale');
    await writer.write(Array.from({ length: 5000 }, (_, i) => `seed:${i}`));
    writer.start(2);
  });

  afterAll(async () => {
    await writer?.dispose();
    await fleet?.dispose();
  });

  test('scale-out 3 → 4: the new shard\'s containers join as empty masters, then the nodes move a quarter of the slots to it; no acknowledged key is lost', async () => {
    const created = await fleet.apply(synthesize(4), inputs);
    // The bundle container (a new bundle) and the new shard's two nodes; no node that stays is replaced.
    expect(created.sort()).toEqual(['orders-bundle', 'orders-node-18', 'orders-node-19']);
    await allHealthy(fleet);
    const roles = await balanced(4);
    expect(Object.keys(roles).filter((name) => roles[name].startsWith('master ')).sort()).toEqual(['orders-node-0', 'orders-node-12', 'orders-node-18', 'orders-node-6']);
    expect(roles['orders-node-19']).toBe('replica of orders-node-18');
    const lost = await writer.lost();
    // eslint-disable-next-line no-console
    console.log(`docker scale-out 3 → 4: ${writer.acknowledged.size} acknowledged keys, ${lost.length} lost; the writer saw ${JSON.stringify(writer.seen)}`);
    expect(lost).toEqual([]);
  });

  test('scale-in 4 → 3: the apply stops the shard\'s nodes before it publishes the new plan; its master moves the slots to the shards that stay before it stops, and they forget its nodes; no acknowledged key is lost', async () => {
    const created = await fleet.apply(synthesize(3), inputs);
    expect(created).toEqual(['orders-bundle']);
    expect(nodes().map((n) => n.name).sort()).toEqual(['orders-node-0', 'orders-node-1', 'orders-node-12', 'orders-node-13', 'orders-node-6', 'orders-node-7']);
    await allHealthy(fleet);
    const roles = await balanced(3);
    expect(Object.values(roles).filter((role) => role.startsWith('master ')).length).toBe(3);
    await writer.stop();
    const lost = await writer.lost();
    // eslint-disable-next-line no-console
    console.log(`docker scale-in 4 → 3: ${writer.acknowledged.size} acknowledged keys, ${lost.length} lost; ${writer.failed} writes failed (not acknowledged); the writer saw ${JSON.stringify(writer.seen)}`);
    expect(lost).toEqual([]);
  });

  test('replicasPerShard 1 → 2 → 1: a replica joins every shard, then leaves it; a removed replica the cluster had promoted hands its shard back as it stops; every node forgets the removed ones; no slot moves, no acknowledged key is lost', async () => {
    writer.start(2);
    const grown = await fleet.apply(synthesize(3, 2), inputs);
    expect(grown.sort()).toEqual(['orders-bundle', 'orders-node-14', 'orders-node-2', 'orders-node-8']);
    await allHealthy(fleet);
    const before = await balanced(3, 2);
    for (const s of [0, 1, 2]) {
      expect([1, 2].map((r) => before[`orders-node-${6 * s + r}`])).toEqual([`replica of orders-node-${6 * s}`, `replica of orders-node-${6 * s}`]);
    }
    // Shard 1's new replica becomes its primary (a failover), then an apply removes it again.
    const promoted = fleet.container('orders-node-8');
    expect(await command(promoted.address, 6379, { username: INTERNAL_USERS.admin, password: ADMIN_TOKEN }, 'CLUSTER', 'FAILOVER')).toBe('OK');
    await waitFor('node-8 serves shard 1', async () => (await balanced(3, 2))['orders-node-8'] === before['orders-node-6'], { timeoutMs: 60_000, intervalMs: 500 });

    const shrunk = await fleet.apply(synthesize(3, 1), inputs);
    expect(shrunk).toEqual(['orders-bundle']);
    await allHealthy(fleet);
    const after = await balanced(3, 1);
    expect(Object.values(after).filter((role) => role.startsWith('master ')).sort()).toEqual(Object.values(before).filter((role) => role.startsWith('master ')).sort());
    expect(Object.keys(after).sort()).toEqual(['orders-node-0', 'orders-node-1', 'orders-node-12', 'orders-node-13', 'orders-node-6', 'orders-node-7']);
    await writer.stop();
    const lost = await writer.lost();
    // eslint-disable-next-line no-console
    console.log(`docker replicasPerShard 1 → 2 → 1: ${writer.acknowledged.size} acknowledged keys, ${lost.length} lost; the writer saw ${JSON.stringify(writer.seen)}`);
    expect(lost).toEqual([]);
  });
});
