import * as os from 'os';
import { ClusterConfigurationResult, ClusterThroughputResults } from './results';
import { REDIS_PORT } from './servers';
import { ClusterMode } from '../../src/core/fleet-options';
import { FleetPlan, planFleet } from '../../src/core/topology';
import { validateReplicationGroupOptions } from '../../src/core/validation';
import { cli, Credentials, infoFields } from '../integ/support/clients';
import { Fleet } from '../integ/support/fleet';
import { REDIS_7_0 } from '../integ/support/plans';
import { runCommand, waitFor } from '../integ/support/processes';
import { cpus } from '../shared/machine';
import { median, round } from '../shared/run-stats';

/**
 * Aggregate SET throughput of a 3-shard Redis Cluster against a 1-shard one, under the same client
 * load: what spreading the slots over more primaries gives on this machine. Both are cluster-mode
 * fleets planned by core (`planFleet`), rendered (`renderBundle`) and run by the node agent, which
 * also forms each cluster (its former meets the nodes and assigns the planned slot ranges). The
 * 1-shard fleet is the same validated group with one shard: a cluster-mode node that owns all
 * 16,384 slots, so that the shard count is the only difference.
 *
 * Every server and the load generator share this machine's cores: with fewer cores than shards plus
 * the client, the ratio is bound by the cores, not by the cluster.
 */

/** The 3-shard cluster's nodes and the 1-shard node (127.0.0.141-149 are the benchmarks'). */
export const CLUSTER_ADDRESSES = {
  threeShards: ['127.0.0.145', '127.0.0.146', '127.0.0.147'],
  oneShard: ['127.0.0.148'],
} as const;

/**
 * The load of every sample: the throughput benchmark's (`-c 50 -P 16`), SET only. Against the
 * cluster, redis-benchmark's `--cluster` spreads the clients over the masters and gives each
 * client keys of its master's slots.
 */
export const CLUSTER_LOAD_ARGS = ['-t', 'set', '-n', '1000000', '-c', '50', '-P', '16', '--csv'];

/** A shorter run of the same load first: page cache, allocator and CPU clocks settle. */
const WARM_UP_ARGS = ['-t', 'set', '-n', '200000', '-c', '50', '-P', '16', '--csv'];

export const CLUSTER_ROUNDS = 5;

/** A running cluster-mode fleet the benchmark loads. */
interface ClusterUnderLoad {
  readonly id: string;
  readonly description: string;
  readonly shards: number;
  readonly fleet: Fleet;
  readonly addresses: readonly string[];
  readonly app: Required<Credentials>;
  readonly admin: Required<Credentials>;
}

/**
 * The plan of a cluster-mode group of `shards` shards without replicas, as the flavors make it
 * (Redis 7.0, shipped defaults). Validation wants 3 shards or more of a group (a replica's
 * promotion needs a majority of primaries); the 1-shard baseline is the same validated group
 * planned with one shard.
 */
export function clusterBenchPlan(name: string, shards: number, addresses: readonly string[]): FleetPlan {
  const validated = validateReplicationGroupOptions({ engine: REDIS_7_0.engine, clusterMode: ClusterMode.ENABLED, shards: 3, replicasPerShard: 0 });
  const fleet = { ...validated, cluster: { ...validated.cluster!, shards } };
  return planFleet({
    name,
    fleet,
    zoneCount: 3,
    addressOf: (position) => {
      const address = addresses[position.index];
      if (!address) throw new Error(`no address for slot ${position.index} of ${name}`);
      return address;
    },
  });
}

/** Starts every node of the fleet through the node agent and waits for a formed cluster. */
async function startCluster(id: string, description: string, shards: number, addresses: readonly string[]): Promise<ClusterUnderLoad> {
  const fleet = Fleet.create({ plan: clusterBenchPlan(`bench-${id}`, shards, addresses), label: `bench-${id}` });
  const cluster: ClusterUnderLoad = {
    id,
    description,
    shards,
    fleet,
    addresses,
    app: { username: fleet.plan.users.application, password: fleet.appPassword },
    admin: { username: fleet.plan.users.admin, password: fleet.adminPassword },
  };
  try {
    fleet.startAll();
    // The agent's readiness takes a node that knows no other node for one whose cluster is not
    // formed yet (a group has 3 shards or more), so the 1-shard node is judged by its CLUSTER INFO alone.
    if (shards > 1) await fleet.waitAllReady(120);
    await waitFormed(cluster);
  } catch (error) {
    const logs = fleet.logs();
    await fleet.dispose();
    throw new Error(`${(error as Error).message}\n${logs}`);
  }
  return cluster;
}

/** Every node says cluster_state:ok with all 16,384 slots served by `shards` masters. */
async function waitFormed(cluster: ClusterUnderLoad): Promise<void> {
  await waitFor(`${cluster.id}: cluster_state:ok on every node, ${cluster.shards} masters`, async () => {
    for (const address of cluster.addresses) {
      const result = await cli(REDIS_7_0.cli, address, REDIS_PORT, ['cluster', 'info'], cluster.admin);
      const fields = infoFields(result.stdout.replace(/\r?\n/g, '\r\n'));
      if (fields.cluster_state !== 'ok' || fields.cluster_slots_ok !== '16384' || fields.cluster_size !== String(cluster.shards)) return false;
    }
    return true;
  }, { timeoutMs: 120_000, intervalMs: 500 });
}

/** No node writes a background save or rewrites its AOF, so that no forked child takes CPU from a run. */
async function waitQuiet(cluster: ClusterUnderLoad): Promise<void> {
  for (const address of cluster.addresses) {
    await waitFor(`${cluster.id} ${address}: no background save or rewrite`, async () => {
      const result = await cli(REDIS_7_0.cli, address, REDIS_PORT, ['info', 'persistence'], cluster.app);
      if (result.code !== 0) throw new Error(result.stderr || result.stdout);
      const fields = infoFields(result.stdout.replace(/\r?\n/g, '\r\n'));
      return fields.rdb_bgsave_in_progress === '0' && fields.aof_rewrite_in_progress === '0' && fields.aof_rewrite_scheduled === '0';
    }, { timeoutMs: 120_000, intervalMs: 200 });
  }
}

/** redis-benchmark's arguments against a fleet (`--cluster` for more than one shard), the password masked or not. */
function benchmarkArgs(cluster: ClusterUnderLoad, load: readonly string[], masked: boolean): string[] {
  return [
    ...(cluster.shards > 1 ? ['--cluster'] : []),
    '-h', cluster.addresses[0], '-p', String(REDIS_PORT),
    '--user', cluster.app.username, '-a', masked ? '<password>' : cluster.app.password,
    ...load,
  ];
}

/** One run: SET operations per second (redis-benchmark's `--csv` line `"SET","739645.00",…`). */
async function runBenchmark(cluster: ClusterUnderLoad, load: readonly string[]): Promise<number> {
  const result = await runCommand('redis-benchmark', benchmarkArgs(cluster, load, false), { timeoutMs: 300_000 });
  const set = /^"SET","([0-9.]+)"/m.exec(result.stdout)?.[1];
  if (result.code !== 0 || set === undefined) {
    throw new Error(`redis-benchmark against ${cluster.id} failed (${result.code ?? result.signal}), no SET figure: ${result.stderr}${result.stdout}`);
  }
  return Number(set);
}

/** SET calls each master served over the warm-up and the rounds (INFO commandstats): how the load spread over the shards. */
async function setCallsPerMaster(cluster: ClusterUnderLoad): Promise<number[]> {
  return Promise.all(cluster.addresses.map(async (address) => {
    const result = await cli(REDIS_7_0.cli, address, REDIS_PORT, ['info', 'commandstats'], cluster.admin);
    const calls = /^cmdstat_set:calls=(\d+)/m.exec(result.stdout)?.[1];
    if (result.code !== 0 || calls === undefined) throw new Error(`INFO commandstats on ${address} has no SET calls: ${result.stderr || result.stdout}`);
    return Number(calls);
  }));
}

/** `os.loadavg()`, two decimals. */
function loadAverage(): number[] {
  return os.loadavg().map((value) => Math.round(value * 100) / 100);
}

/**
 * Starts both fleets, runs `rounds` rounds of the load against each (each round starting with the
 * other fleet than the round before, after a warm-up of both), stops them, and returns the figures.
 */
export async function measureClusterThroughput(progress: (line: string) => void, rounds = CLUSTER_ROUNDS): Promise<ClusterThroughputResults> {
  const started = new Date();
  const loadAtStart = loadAverage();
  const clusters: ClusterUnderLoad[] = [];
  progress(`Cluster throughput: ${rounds} rounds, 3 shards on ${CLUSTER_ADDRESSES.threeShards.join(', ')}, 1 shard on ${CLUSTER_ADDRESSES.oneShard.join(', ')}`);
  try {
    clusters.push(await startCluster('one-shard', 'a cluster-mode node owning all 16,384 slots (1 shard, no replica)', 1, CLUSTER_ADDRESSES.oneShard));
    clusters.push(await startCluster('three-shards', 'a 3-shard cluster, no replicas (5,461 or 5,462 slots a master)', 3, CLUSTER_ADDRESSES.threeShards));
    const samples = new Map(clusters.map((cluster) => [cluster.id, [] as number[]]));
    for (const cluster of clusters) await runBenchmark(cluster, WARM_UP_ARGS);
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < clusters.length; i++) {
        const cluster = clusters[(r + i) % clusters.length];
        for (const other of clusters) await waitQuiet(other);
        const ops = await runBenchmark(cluster, CLUSTER_LOAD_ARGS);
        samples.get(cluster.id)!.push(ops);
        progress(`  round ${r + 1}/${rounds} ${cluster.id.padEnd(13)} SET ${ops.toFixed(0).padStart(9)} ops/s`);
      }
    }
    const configurations: ClusterConfigurationResult[] = [];
    for (const cluster of clusters) {
      const own = samples.get(cluster.id)!;
      configurations.push({
        id: cluster.id,
        description: cluster.description,
        shards: cluster.shards,
        addresses: [...cluster.addresses],
        slotRanges: cluster.fleet.plan.cluster!.shards.map((shard) => `${shard.slotRange[0]}-${shard.slotRange[1]}`),
        benchmarkCommand: ['redis-benchmark', ...benchmarkArgs(cluster, CLUSTER_LOAD_ARGS, true)].join(' '),
        samplesSet: own,
        medianSet: median(own),
        setCallsPerMaster: await setCallsPerMaster(cluster),
      });
    }
    const [one, three] = ['one-shard', 'three-shards'].map((id) => configurations.find((c) => c.id === id)!);
    const plan = clusters[0].fleet.plan;
    return {
      date: started.toISOString(),
      durationSeconds: Math.round((Date.now() - started.getTime()) / 1000),
      cpuCount: cpus().count,
      loadAverage: { start: loadAtStart, end: loadAverage() },
      engine: REDIS_7_0.title,
      persistence: `${plan.persistence.mode}${plan.persistence.appendFsync ? ` ${plan.persistence.appendFsync}` : ''} (the group's default)`,
      formedBy: 'the node agent (cachefleet-node start redis on every node; the planned former meets the others and assigns the planned slot ranges)',
      load: CLUSTER_LOAD_ARGS.filter((arg) => arg !== '--csv').join(' '),
      rounds,
      roundOrder: clusters.map((cluster) => cluster.id),
      configurations,
      setRatio: round(three.medianSet / one.medianSet),
    };
  } finally {
    await Promise.allSettled(clusters.map((cluster) => cluster.fleet.dispose()));
  }
}
