import { Cluster } from 'ioredis';
import { boot, BootedFleet, Slot, STACK, withUnitLogs } from './support/aws-instance';
import { publishedMetrics, withMovingCpu } from './support/aws-metrics';
import { describeInteg, needsBinaries } from './support/binaries';
import { command, Credentials, withClient } from './support/clients';
import { clusterInfo, ClusterNode, clusterNodes } from './support/cluster-fleet';
import { waitFor } from './support/processes';
import { ReplicationGroup } from '../../src/aws';
import { CacheEngine, ValkeyEngineVersion } from '../../src/core/engine';
import { ClusterMode } from '../../src/core/fleet-options';
import { planFleet } from '../../src/core/topology';
import { validateReplicationGroupOptions } from '../../src/core/validation';

/**
 * Template-driven behaviour test of an AWS-flavor cluster-mode group: a Valkey 8.0 ReplicationGroup
 * of 3 shards × (1 primary + 1 replica), booted slot by slot in the order of the template's
 * dependency chain (replicas first, the primaries, the former `node-0` last), each from the user
 * data, through the harness of support/aws-instance.ts (the AWS API: moto behind the strict layer;
 * the engines are real). The nodes are in subnet 127.0.4.0/24 from host 10: `node-<6s + r>` on
 * 127.0.4.<10 + 6s + r>.
 */

const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });
const SUBNET = '127.0.4.0/24';
const OFFSET = 10;
const PORT = 6379;
const SHARDS = 3;
const props = { engine: valkey, clusterMode: ClusterMode.ENABLED, shards: SHARDS, replicasPerShard: 1 } as const;

/** Core's plan of the group (slot names, shards, slot ranges), with the addresses the template gives its interfaces. */
const plan = planFleet({
  name: 'orders',
  fleet: validateReplicationGroupOptions(props),
  zoneCount: 1,
  addressOf: (position) => `127.0.4.${OFFSET + position.hostNumber}`,
});
const cluster = plan.cluster!;
const addressOf = (slotName: string) => plan.slots.find((slot) => slot.name === slotName)!.address;
const ADDRESSES = plan.slots.map((slot) => slot.address).sort();
/** Each shard's planned primary and replica. */
const SHARD_SLOTS = cluster.shards.map((shard) => ({ primary: shard.slotNames[0], replica: shard.slotNames[1], range: shard.slotRange }));

/** A node's view of the cluster, by node address. */
async function viewOf(address: string, credentials: Credentials): Promise<Map<string, ClusterNode>> {
  return new Map((await clusterNodes(address, PORT, credentials)).map((node) => [node.address.replace(/:\d+$/, ''), node]));
}

/**
 * The topology every node reports: `cluster_state:ok`, 16,384 slots assigned, six known nodes, and
 * the same view everywhere (each node's own line on its fixed address). Returns the agreed view as
 * address → role, master address and slots; undefined while the nodes disagree or the state is not ok.
 */
async function agreedTopology(credentials: Credentials): Promise<Record<string, string> | undefined> {
  const summaries: string[] = [];
  let agreed: Record<string, string> | undefined;
  for (const address of ADDRESSES) {
    let info: Record<string, string>;
    let view: Map<string, ClusterNode>;
    try {
      info = await clusterInfo(address, PORT, credentials);
      view = await viewOf(address, credentials);
    } catch {
      return undefined;
    }
    if (info.cluster_state !== 'ok' || info.cluster_slots_assigned !== '16384' || info.cluster_known_nodes !== String(ADDRESSES.length)) return undefined;
    const myself = [...view.entries()].find(([, node]) => node.flags.includes('myself'));
    if (myself?.[0] !== address) return undefined;
    const byId = new Map([...view.entries()].map(([a, node]) => [node.id, a]));
    const summary = Object.fromEntries([...view.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([a, node]) => [a,
      node.flags.includes('master') ? `master ${node.slots.map(([from, to]) => `${from}-${to}`).join(',')}` : `replica of ${byId.get(node.master) ?? node.master}`]));
    if (linkDown(view)) return undefined;
    summaries.push(JSON.stringify(summary));
    agreed = summary;
  }
  return new Set(summaries).size === 1 ? agreed : undefined;
}

/** Whether a view still flags a node as failing or shows a link down. */
function linkDown(view: Map<string, ClusterNode>): boolean {
  return [...view.values()].some((node) => node.flags.some((flag) => /fail|handshake|noaddr/.test(flag)) || (!node.flags.includes('myself') && node.link !== 'connected'));
}

/** The topology the plan gives: each shard's planned primary serves its range, its replica follows it. */
function plannedTopology(primaries: Record<number, string> = {}): Record<string, string> {
  const expected: Record<string, string> = {};
  SHARD_SLOTS.forEach((shard, index) => {
    const primary = primaries[index] ?? shard.primary;
    const replica = primary === shard.primary ? shard.replica : shard.primary;
    expected[addressOf(primary)] = `master ${shard.range[0]}-${shard.range[1]}`;
    expected[addressOf(replica)] = `replica of ${addressOf(primary)}`;
  });
  return Object.fromEntries(Object.entries(expected).sort(([a], [b]) => a.localeCompare(b)));
}

/** A node's id (`CLUSTER MYID`). */
async function nodeId(address: string, credentials: Credentials): Promise<string> {
  return String(await command(address, PORT, credentials, 'CLUSTER', 'MYID'));
}

/** A cluster-aware client, as an application would open it: seeded with the configuration record's addresses. */
function clusterClient(seeds: string[], credentials: Credentials): Cluster {
  const client = new Cluster(seeds.map((host) => ({ host, port: PORT })), {
    redisOptions: { username: credentials.username, password: credentials.password, connectTimeout: 2_000, commandTimeout: 5_000 },
    clusterRetryStrategy: (times) => (times > 20 ? null : 200),
    retryDelayOnMoved: 50,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    maxRedirections: 32,
  });
  client.on('error', () => undefined);
  return client;
}

/** A hash tag whose keys fall in a shard's slot range (asked of the engine: CLUSTER KEYSLOT). */
async function hashTagOfShard(shard: number, credentials: Credentials): Promise<string> {
  const [first, last] = SHARD_SLOTS[shard].range;
  for (let i = 0; i < 1000; i++) {
    const slot = Number(await command(ADDRESSES[0], PORT, credentials, 'CLUSTER', 'KEYSLOT', `{t${i}}`));
    if (slot >= first && slot <= last) return `{t${i}}`;
  }
  throw new Error(`no hash tag of shard ${shard} among 1,000`);
}

/** The calls of one slot's instances that the stand-ins recorded (the slot's name taken out). */
function ownCalls(fleet: BootedFleet, slot: Slot): string[] {
  return fleet.calls().filter((call) => call.includes(`[${slot.name}]`)).map((call) => call.replace(/ \[[^\]]+\]/, ''));
}

describeInteg('AWS flavor: a 3 × (1 + 1) Valkey cluster-mode ReplicationGroup booted from its synthesized template', () => {
  needsBinaries(['valkey-server', 'valkey-cli', 'curl', 'python3', 'setsid']);
  let fleet: BootedFleet;
  let app: Credentials;
  /** Each slot's instance at the first boot. */
  const firstInstances: Record<string, string> = {};

  beforeAll(async () => {
    fleet = new BootedFleet('cluster', (stack, vpc) => new ReplicationGroup(stack, 'Orders', { vpc, ...props, nodeAddressOffset: OFFSET }), { subnetCidr: SUBNET });
    await fleet.start();
    for (const slot of fleet.slots) {
      await boot(fleet, slot);
      firstInstances[slot.name] = slot.instanceId!;
    }
    // The application's token, as an application reads it: from the group's secret in the account.
    const secret = await fleet.aws.api('secretsmanager', 'get_secret_value', { SecretId: fleet.slots[0].tags['cachefleet:app-secret-id'] });
    app = { username: 'app', password: secret.SecretString };
  }, 900_000);

  afterAll(async () => fleet?.dispose(), 60_000);

  test('the slots boot in the template\'s order (replicas, primaries, the former last); each holds its volume by id and its fixed address, and signalled SUCCESS once, in that order', async () => {
    // Each group depends on the one before it: CloudFormation creates them one at a time, in this order.
    expect(fleet.slots.map((slot) => slot.name)).toEqual(['node-1', 'node-7', 'node-13', 'node-12', 'node-6', 'node-0']);
    expect(fleet.slots.map((slot) => slot.name)).toEqual([...SHARD_SLOTS.map((s) => s.replica), ...SHARD_SLOTS.map((s) => s.primary).reverse()]);
    for (const slot of fleet.slots) {
      expect({ slot: slot.name, volume: await fleet.attachment(slot.tags['cachefleet:volume-id']) }).toEqual({ slot: slot.name, volume: { instanceId: slot.instanceId, state: 'attached' } });
      expect({ slot: slot.name, eni: await fleet.attachment(slot.tags['cachefleet:interface-id']) }).toEqual({ slot: slot.name, eni: { instanceId: slot.instanceId, state: 'attached' } });
      const eni = (await fleet.aws.api('ec2', 'describe_network_interfaces', { NetworkInterfaceIds: [slot.tags['cachefleet:interface-id']] })).NetworkInterfaces[0];
      expect({ slot: slot.name, address: eni.PrivateIpAddress }).toEqual({ slot: slot.name, address: addressOf(slot.name) });
      // The filesystem was made once, on the device named by the slot's volume id, and mounted for the engine's data.
      const device = `nvme-Amazon_Elastic_Block_Store_${slot.tags['cachefleet:volume-id'].replace(/-/g, '')}`;
      expect(ownCalls(fleet, slot).filter((call) => call.startsWith('mkfs'))).toEqual([expect.stringContaining(device)]);
      expect(ownCalls(fleet, slot).filter((call) => call.startsWith('mount'))).toEqual([expect.stringMatching(new RegExp(`${device}\\S* .*/var/lib/cachefleet$`))]);
      expect(fleet.aws.awaitingSignals(STACK, slot.groupId)).toBe(false);
      expect(await fleet.health(slot.instanceId!)).toMatch(/^healthy$/i);
    }
    // CloudFormation took one SUCCESS per group, from the instance that booted, in the creation order.
    const signals = fleet.aws.signals.filter((signal) => signal.stackName === STACK);
    expect(signals.map((signal) => [signal.logicalResourceId, signal.status, signal.uniqueId, signal.accepted]))
      .toEqual(fleet.slots.map((slot) => [slot.groupId, 'SUCCESS', slot.instanceId, true]));
  });

  test('the cluster forms: cluster_state:ok on every node, 16,384 slots, each shard its planned primary and replica on their fixed addresses', async () => {
    const topology = await withUnitLogs(fleet, () => waitFor('every node reports the same formed cluster', () => agreedTopology(app), { timeoutMs: 60_000, intervalMs: 500 }));
    expect(topology).toEqual(plannedTopology());
    // The slot ranges cover 0 to 16383 exactly once.
    const ranges = SHARD_SLOTS.map((shard) => shard.range).sort((a, b) => a[0] - b[0]);
    expect(ranges[0][0]).toBe(0);
    expect(ranges[ranges.length - 1][1]).toBe(16383);
    ranges.slice(1).forEach((range, i) => expect(range[0]).toBe(ranges[i][1] + 1));
    // Every node announces its fixed address (and the bus port, port + 10000) in every view.
    const view = await clusterNodes(ADDRESSES[0], PORT, app);
    expect(view.map((node) => node.address).sort()).toEqual(ADDRESSES.map((address) => `${address}:${PORT}`));
    const raw = String(await command(ADDRESSES[0], PORT, app, 'CLUSTER', 'NODES'));
    for (const address of ADDRESSES) expect(raw).toContain(`${address}:${PORT}@${PORT + 10000}`);
  }, 90_000);

  test('the configuration record holds every node\'s address; there is no primary or reader record', async () => {
    const fleetId = fleet.slots[0].tags['cachefleet:fleet'];
    expect(await fleet.recordValues(`config.${fleetId}.cachefleet.internal`)).toEqual(ADDRESSES);
    const names = (await fleet.recordSets()).filter((set) => set.type === 'A').map((set) => set.name.split('.')[0]).sort();
    expect(names).toEqual(['config', ...plan.slots.map((slot) => slot.name)].sort());
  });

  test('ioredis Cluster, as the application user with the token from the group\'s secret, writes and reads across every shard', async () => {
    const seeds = await fleet.recordValues(`config.${fleet.slots[0].tags['cachefleet:fleet']}.cachefleet.internal`);
    const client = clusterClient(seeds, app);
    try {
      const keys = Array.from({ length: 300 }, (_, i) => `order:${i}`);
      for (const key of keys) expect(await client.set(key, `value-of-${key}`)).toBe('OK');
      for (const key of keys) expect(await client.get(key)).toBe(`value-of-${key}`);
      // The keys landed on every shard: each primary holds some of them.
      for (const shard of SHARD_SLOTS) {
        expect({ shard: shard.primary, hasKeys: Number(await command(addressOf(shard.primary), PORT, app, 'DBSIZE')) > 0 }).toEqual({ shard: shard.primary, hasKeys: true });
      }
    } finally {
      client.disconnect();
    }
    // Without the token the nodes refuse the client.
    await expect(command(ADDRESSES[0], PORT, {}, 'CLUSTER', 'INFO')).rejects.toThrow(/NOAUTH/);
  }, 60_000);

  test('a replica\'s instance replaced: the new instance takes the slot\'s volume and address, and the node keeps its id and its role', async () => {
    const slot = fleet.slot(SHARD_SLOTS[2].replica);
    const address = addressOf(slot.name);
    const id = await nodeId(address, app);
    const old = slot.instanceId;
    await fleet.terminate(slot);
    await boot(fleet, slot);
    expect(slot.instanceId).not.toBe(old);
    expect(await fleet.attachment(slot.tags['cachefleet:volume-id'])).toEqual({ instanceId: slot.instanceId, state: 'attached' });
    expect(await fleet.attachment(slot.tags['cachefleet:interface-id'])).toEqual({ instanceId: slot.instanceId, state: 'attached' });
    // The volume kept its filesystem and the engine's state on it (nodes.conf): the same node, not a new one.
    expect(ownCalls(fleet, slot).filter((call) => call.startsWith('mkfs'))).toHaveLength(1);
    expect(ownCalls(fleet, slot).filter((call) => call.startsWith('mount'))).toHaveLength(2);
    expect(await nodeId(address, app)).toBe(id);
    const topology = await withUnitLogs(fleet, () => waitFor('the cluster agreed again', () => agreedTopology(app), { timeoutMs: 60_000, intervalMs: 500 }));
    expect(topology).toEqual(plannedTopology());
    // The replica holds its shard's keys written earlier (no other test wrote there yet).
    let onShard = 0;
    for (let i = 0; i < 300; i++) {
      const slotOfKey = Number(await command(ADDRESSES[0], PORT, app, 'CLUSTER', 'KEYSLOT', `order:${i}`));
      if (slotOfKey >= SHARD_SLOTS[2].range[0] && slotOfKey <= SHARD_SLOTS[2].range[1]) onShard++;
    }
    expect(onShard).toBeGreaterThan(0);
    await waitFor('the replica in sync', async () =>
      Number(await command(address, PORT, app, 'DBSIZE')) === onShard, { timeoutMs: 30_000, intervalMs: 250 });
    // No node lists another id on the replica's address, nor a node that failed.
    for (const other of ADDRESSES) expect((await viewOf(other, app)).get(address)?.id).toBe(id);
  }, 300_000);

  test('a primary\'s instance replaced through its termination hook: pre-stop hands its shard to the replica first, no acknowledged write is lost, and it comes back as a replica', async () => {
    const shard = 1;
    const { primary, replica } = SHARD_SLOTS[shard];
    const slot = fleet.slot(primary);
    const id = await nodeId(addressOf(primary), app);
    const tag = await hashTagOfShard(shard, app);
    const client = clusterClient(ADDRESSES, app);
    // A writer on the shard, all along: a write counts as acknowledged once WAIT says a replica has it
    // (while the shard has no replica, its writes are taken but none is acknowledged).
    const acknowledged: string[] = [];
    let taken = 0;
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const key = `${tag}:w${i}`;
        try {
          const replies = await client.pipeline().set(key, String(i)).call('WAIT', '1', '500').exec();
          if (replies && !replies[0][0] && replies[0][1] === 'OK') taken++;
          if (replies && !replies[0][0] && replies[0][1] === 'OK' && !replies[1][0] && Number(replies[1][1]) >= 1) acknowledged.push(key);
        } catch {
          // not acknowledged (a redirection during the handover): not counted
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    })();
    try {
      await waitFor('acknowledged writes before the termination', () => acknowledged.length >= 20, { timeoutMs: 30_000, intervalMs: 100 });
      const instance = slot.instanceId;
      fleet.beginTermination(slot);
      // The lifecycle unit polls the instance metadata (every 10 s), runs pre-stop, then completes the hook.
      await withUnitLogs(fleet, () => waitFor('the termination hook completed', () =>
        fleet.aws.lifecycleCompletions.some((completion) => completion.instanceId === instance), { timeoutMs: 90_000, intervalMs: 250 }));
      expect(fleet.aws.lifecycleCompletions.filter((completion) => completion.instanceId === instance)).toEqual([
        { autoScalingGroupName: `${STACK}-${slot.groupId}`, lifecycleHookName: 'cachefleet-pre-stop', instanceId: instance, result: 'CONTINUE' },
      ]);
      // When the hook lets the termination go on, the replica already serves the shard and the
      // primary, still running, follows it.
      const view = await viewOf(addressOf(replica), app);
      expect(view.get(addressOf(replica))!.flags).toContain('master');
      expect(view.get(addressOf(replica))!.slots).toEqual([SHARD_SLOTS[shard].range]);
      const own = await viewOf(addressOf(primary), app);
      expect(own.get(addressOf(primary))!.flags).toContain('slave');
      await fleet.terminate(slot);
      await waitFor('writes taken while the old primary is gone', async () => {
        const before = taken;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        return taken > before;
      }, { timeoutMs: 30_000, intervalMs: 100 });
      await boot(fleet, slot);
      await waitFor('writes acknowledged (by the returned replica) after the new instance joined', async () => {
        const before = acknowledged.length;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        return acknowledged.length > before;
      }, { timeoutMs: 30_000, intervalMs: 100 });
    } finally {
      writing = false;
      await writer;
    }
    try {
      // The same node, back as the replica of the shard's new primary.
      expect(await nodeId(addressOf(primary), app)).toBe(id);
      const topology = await withUnitLogs(fleet, () => waitFor('the cluster agreed again', () => agreedTopology(app), { timeoutMs: 60_000, intervalMs: 500 }));
      expect(topology).toEqual(plannedTopology({ [shard]: replica }));
      // Every acknowledged write is there, read through the cluster.
      expect(acknowledged.length).toBeGreaterThan(20);
      const missing: string[] = [];
      for (const key of acknowledged) if ((await client.get(key)) === null) missing.push(key);
      expect({ acknowledged: acknowledged.length, missing }).toEqual({ acknowledged: acknowledged.length, missing: [] });
      // And the returning replica has them too (READONLY: a replica serves its shard's reads).
      await waitFor('the returning replica holds every acknowledged write', () => withClient(addressOf(primary), PORT, app, async (replicaClient) => {
        await replicaClient.call('READONLY');
        for (const key of acknowledged) if ((await replicaClient.get(key)) === null) return false;
        return true;
      }), { timeoutMs: 30_000, intervalMs: 500 });
    } finally {
      client.disconnect();
    }
  }, 420_000);

  test('the metrics unit of a cluster node sends each metric under the fleet, the node and the shard: what metricForShard reads', async () => {
    const slot = fleet.slot(SHARD_SLOTS[1].replica);
    for (let run = 1; run <= 5; run++) {
      const result = await withMovingCpu(fleet, slot, () => fleet.runUnit(slot, 'cachefleet-metrics.service'));
      expect({ run, code: result.code, stderr: result.stderr }).toEqual({ run, code: 0, stderr: expect.not.stringMatching(/error|failed/) });
    }
    const fleetId = slot.tags['cachefleet:fleet'];
    const metrics = await publishedMetrics(fleet);
    for (const name of ['CPUUtilization', 'CurrConnections', 'DatabaseMemoryUsagePercentage']) {
      expect(metrics).toContainEqual(expect.objectContaining({ name, dimensions: `Fleet=${fleetId}` }));
      expect(metrics).toContainEqual({ name, dimensions: `Fleet=${fleetId},Node=${slot.name}`, datapoints: 5 });
      expect(metrics).toContainEqual({ name, dimensions: `Fleet=${fleetId},Shard=1`, datapoints: 5 });
    }
  });

  test('CloudFormation and the group saw what they expect: one accepted SUCCESS per slot at creation, a refused one from each replacement (no deploy waits for it), one hook completion per terminating instance', async () => {
    for (const slot of fleet.slots) {
      const signals = fleet.signals(slot).map((signal) => [signal.status, signal.uniqueId, signal.accepted]);
      const replaced = slot.instanceId !== firstInstances[slot.name];
      expect({ slot: slot.name, signals }).toEqual({
        slot: slot.name,
        signals: replaced ? [['SUCCESS', firstInstances[slot.name], true], ['SUCCESS', slot.instanceId, false]] : [['SUCCESS', slot.instanceId, true]],
      });
      expect(await fleet.health(slot.instanceId!)).toMatch(/^healthy$/i);
    }
    expect(fleet.aws.lifecycleCompletions.map((completion) => completion.instanceId)).toEqual([firstInstances[SHARD_SLOTS[1].primary]]);
    // The replaced instances left their groups; each group holds its slot's current instance only.
    for (const slot of fleet.slots) {
      const group = (await fleet.aws.api('autoscaling', 'describe_auto_scaling_groups', { AutoScalingGroupNames: [`${STACK}-${slot.groupId}`] })).AutoScalingGroups[0];
      const instances = group.Instances.map((instance: any) => instance.InstanceId);
      expect({ slot: slot.name, instances }).toEqual({ slot: slot.name, instances: [slot.instanceId] });
    }
  });
});
