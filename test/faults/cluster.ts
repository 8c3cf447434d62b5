import { Construct } from 'constructs';
import { clusterInfo, clusterNodes, ClusterNode, isMaster, ownedSlotCount } from './cluster-topology';
import { missingWrites } from './data';
import { FaultEngine, SynthesizedFleet, synthesizeStack } from './fleet-from-synth';
import { Partition } from './partition';
import { MachineInfo, Target } from './results';
import { ShardWriter } from './shard-writer';
import { maximum, seconds, target } from './stats';
import { ClusterMode } from '../../src/core/fleet-options';
import * as docker from '../../src/docker';
import { command, infoFields } from '../integ/support/clients';
import { bundleFile } from '../integ/support/docker-bundle';
import { sleep, waitFor } from '../integ/support/processes';
import { median } from '../shared/run-stats';

/**
 * Cluster mode under faults, from the Docker flavor's synthesized output: a group of 3 shards of a
 * primary and one replica.
 *
 * - Crash: kill -9 of a shard primary's engine under a writer into that shard. Its writes must
 *   resume within the node timeout + 3 s, no write a replica confirmed (`WAIT 1`) may be lost, and
 *   the old primary must rejoin as a replica.
 * - Minority partition: a shard primary cut off from every other node but one writer. It must refuse
 *   writes within the node timeout + 1 s, and the majority side must promote its replica.
 */

export const CLUSTER_TARGETS = {
  /** Writes resume within the node timeout plus this, seconds. */
  resumeMarginSeconds: 3,
  /** The cut-off primary refuses writes within the node timeout plus this, seconds. */
  refusalMarginSeconds: 1,
} as const;

/** The iptables chain of the cluster partition: its own, so that it may run beside the split-brain check. */
export const CLUSTER_PARTITION_CHAIN = 'CACHEFLEET-CLUSTER';

export function clusterGroupJson(engine: FaultEngine): string {
  return synthesizeStack((stack: Construct) => new docker.ReplicationGroup(stack, 'Carts', {
    engine: engine.engine,
    clusterMode: ClusterMode.ENABLED,
    shards: 3,
    replicasPerShard: 1,
  }).addOutputs());
}

/** The group's node timeout, ms, from the bundle its nodes run. */
export function nodeTimeoutMillis(fleet: SynthesizedFleet): number {
  const value = /^CF_CLUSTER_NODE_TIMEOUT='(\d+)'$/m.exec(bundleFile(fleet.containers, 'fleet.env'))?.[1];
  if (value === undefined) throw new Error('the bundle is not a cluster-mode group\'s (no CF_CLUSTER_NODE_TIMEOUT)');
  return Number(value);
}

function seedsOf(fleet: SynthesizedFleet): string[] {
  return fleet.dataNodes().map((node) => `${node.address}:${node.port ?? 6379}`);
}

/** The cluster as the first answering node sees it, once every node agrees that it is ok and every slot has a live master. */
export async function settledCluster(fleet: SynthesizedFleet, timeoutMs = 60_000): Promise<ClusterNode[]> {
  return waitFor('the cluster to settle (cluster_state:ok on every node, every master with a replica)', async () => {
    for (const seed of seedsOf(fleet)) {
      const info = await clusterInfo(seed, fleet.admin).catch(() => undefined);
      if (info?.cluster_state !== 'ok' || info.cluster_slots_ok !== '16384') return undefined;
    }
    const nodes = await clusterNodes(seedsOf(fleet)[0], fleet.admin);
    const masters = nodes.filter((node) => isMaster(node) && ownedSlotCount(node) > 0);
    const replicaOf = (master: ClusterNode) => nodes.filter((node) => node.masterId === master.id && node.flags.includes('slave') && !node.flags.some((f) => f.startsWith('fail')));
    if (!masters.every((master) => replicaOf(master).length >= 1)) return undefined;
    // Every replica's link to its master up, so that WAIT can confirm writes from the start.
    for (const replica of masters.flatMap(replicaOf)) {
      const [host, port] = replica.address.split(':');
      const info = infoFields(String(await command(host, Number(port), fleet.admin, 'INFO', 'replication').catch(() => '')));
      if (info.master_link_status !== 'up') return undefined;
    }
    return nodes;
  }, { timeoutMs, intervalMs: 200 });
}

/** One kill -9 of a shard primary. */
export interface ClusterCrashTrial {
  readonly trial: number;
  readonly killed: string;
  readonly promoted: string;
  /** From the kill to the first write into the shard that succeeded, seconds. */
  readonly resumeSeconds: number;
  readonly acknowledgedBeforeKill: number;
  readonly acknowledgedLost: number;
  readonly rejoinedAsReplica: boolean;
}

export interface ClusterCrashResult {
  readonly engine: string;
  readonly nodeTimeoutMillis: number;
  readonly trials: ClusterCrashTrial[];
  readonly p50Seconds: number;
  readonly maxSeconds: number;
  readonly acknowledged: number;
  readonly acknowledgedLost: number;
  /** Refusals the writer saw, by kind (CLUSTERDOWN, MOVED, TRYAGAIN, connection…). */
  readonly writerErrors: Record<string, number>;
  readonly targets: { readonly p50: Target; readonly max: Target; readonly acknowledgedLost: Target; readonly rejoined: Target };
}

export interface ClusterCrashOptions {
  readonly trials: number;
  readonly writesPerSecond: number;
  readonly steadyMs: number;
  /** The writer's source address (any loopback address the fleet does not use). */
  readonly writerAddress: string;
  readonly onTrial?: (trial: ClusterCrashTrial) => void;
}

export async function runClusterCrashTrials(fleet: SynthesizedFleet, engine: string, options: ClusterCrashOptions): Promise<ClusterCrashResult> {
  const timeout = nodeTimeoutMillis(fleet);
  const trials: ClusterCrashTrial[] = [];
  const writerErrors: Record<string, number> = {};
  for (let trial = 1; trial <= options.trials; trial++) {
    const nodes = await settledCluster(fleet);
    // Shards in turn: each trial kills the current primary of the next shard.
    const masters = nodes.filter((node) => isMaster(node) && ownedSlotCount(node) > 0).sort((a, b) => a.slots[0][0] - b.slots[0][0]);
    const victim = masters[(trial - 1) % masters.length];
    const writer = new ShardWriter({
      seeds: seedsOf(fleet),
      credentials: fleet.app,
      slot: victim.slots[0][0],
      keyPrefix: `crash${trial}`,
      writesPerSecond: options.writesPerSecond,
      localAddress: options.writerAddress,
    });
    writer.start();
    try {
      await sleep(options.steadyMs);
      const container = fleet.byAddress(victim.address.split(':')[0]);
      const killedAt = Date.now();
      await fleet.killEngine(container.name);
      const diedAt = Date.now();
      const acknowledged = writer.acknowledged.filter((w) => w.at < diedAt);
      const resumed = await writer.firstSuccessAfter(diedAt, 60_000);
      // The node's agent hands the shard over, then exits with its engine's status; the restart
      // policy starts the container again, as the Sentinel path's trials do.
      await fleet.exited(container.name, 60_000);
      await fleet.restart(container.name);
      const after = await settledCluster(fleet);
      const rejoined = after.find((node) => node.address === victim.address);
      const newMaster = after.find((node) => node.id === rejoined?.masterId);
      const lost = await missingWrites(resumed.master.split(':')[0], Number(resumed.master.split(':')[1]), fleet.app, acknowledged);
      const result: ClusterCrashTrial = {
        trial,
        killed: victim.address,
        promoted: resumed.master,
        resumeSeconds: seconds(resumed.at - killedAt),
        acknowledgedBeforeKill: acknowledged.length,
        acknowledgedLost: lost,
        rejoinedAsReplica: rejoined?.flags.includes('slave') === true && newMaster?.address === resumed.master,
      };
      trials.push(result);
      options.onTrial?.(result);
    } finally {
      await writer.stop();
      for (const [kind, count] of Object.entries(writer.errors)) writerErrors[kind] = (writerErrors[kind] ?? 0) + count;
    }
  }
  const times = trials.map((t) => t.resumeSeconds);
  const limit = timeout / 1000 + CLUSTER_TARGETS.resumeMarginSeconds;
  const acknowledgedLost = trials.reduce((sum, t) => sum + t.acknowledgedLost, 0);
  return {
    engine,
    nodeTimeoutMillis: timeout,
    trials,
    p50Seconds: median(times),
    maxSeconds: maximum(times),
    acknowledged: trials.reduce((sum, t) => sum + t.acknowledgedBeforeKill, 0),
    acknowledgedLost,
    writerErrors,
    targets: {
      p50: target(`p50 <= node timeout + ${CLUSTER_TARGETS.resumeMarginSeconds} s (${limit} s)`, limit, median(times)),
      max: target(`max <= node timeout + ${CLUSTER_TARGETS.resumeMarginSeconds} s (${limit} s)`, limit, maximum(times)),
      acknowledgedLost: target('acknowledged writes lost = 0', 0, acknowledgedLost),
      rejoined: target('old primary rejoins as a replica in every trial (trials not rejoined = 0)', 0, trials.filter((t) => !t.rejoinedAsReplica).length),
    },
  };
}

export interface ClusterPartitionResult {
  readonly engine: string;
  readonly nodeTimeoutMillis: number;
  /** From the cut to the isolated primary's first refusal of a write, seconds. */
  readonly refusedAfterSeconds?: number;
  /** What the isolated primary answered. */
  readonly refusal?: string;
  /** From the cut to the majority side naming the shard's replica master, seconds. */
  readonly promotedAfterSeconds?: number;
  /** Writes the isolated primary accepted after the cut (no replica confirmed them: lost by design). */
  readonly acceptedAfterCut: number;
  /** Writes a replica confirmed before the cut, missing afterwards. */
  readonly acknowledgedLost: number;
  readonly rejoinedAsReplica: boolean;
  /** What the writer saw, by kind (CLUSTERDOWN, connection…). */
  readonly writerErrors: Record<string, number>;
  /** The cut-off primary and its replica, `ip:port`. */
  readonly isolated: string;
  readonly replica: string;
  readonly targets: { readonly refusal: Target; readonly promoted: Target; readonly acknowledgedLost: Target };
}

export async function runClusterPartition(
  fleet: SynthesizedFleet,
  engine: string,
  options: { readonly partitionMs: number; readonly writesPerSecond: number; readonly steadyMs: number; readonly writerAddress: string },
): Promise<ClusterPartitionResult> {
  const timeout = nodeTimeoutMillis(fleet);
  const nodes = await settledCluster(fleet);
  const victim = nodes.filter((node) => isMaster(node) && ownedSlotCount(node) > 0)[0];
  const replica = nodes.find((node) => node.masterId === victim.id)!;
  const writer = new ShardWriter({
    seeds: seedsOf(fleet),
    credentials: fleet.app,
    slot: victim.slots[0][0],
    keyPrefix: 'partition',
    writesPerSecond: options.writesPerSecond,
    localAddress: options.writerAddress,
  });
  writer.pin(victim.address);
  writer.start();
  let partition: Partition | undefined;
  let refusedAt: number | undefined;
  let refusal: string | undefined;
  let promotedAt: number | undefined;
  let cutAt = 0;
  let acknowledgedBefore: typeof writer.acknowledged = [];
  try {
    await sleep(options.steadyMs);
    acknowledgedBefore = [...writer.acknowledged];
    cutAt = Date.now();
    partition = Partition.isolate(victim.address.split(':')[0], [options.writerAddress], CLUSTER_PARTITION_CHAIN);
    const majority = seedsOf(fleet).filter((seed) => seed !== victim.address);
    const watchPromotion = waitFor('the majority to promote the replica', async () => {
      const view = await clusterNodes(majority[0], fleet.admin).catch(() => undefined);
      return view?.find((node) => node.id === replica.id && node.flags.includes('master')) ? Date.now() : undefined;
    }, { timeoutMs: options.partitionMs, intervalMs: 50 }).catch(() => undefined);
    const firstRefusal = await writer.firstRefusalAfter(cutAt, options.partitionMs).catch(() => undefined);
    refusedAt = firstRefusal?.at;
    refusal = firstRefusal?.kind;
    promotedAt = await watchPromotion;
    const remaining = cutAt + options.partitionMs - Date.now();
    if (remaining > 0) await sleep(remaining);
  } finally {
    partition?.heal();
    writer.pin(undefined);
    await writer.stop();
  }
  const after = await settledCluster(fleet, 90_000);
  const rejoined = after.find((node) => node.address === victim.address);
  const owner = after.find((node) => node.id === rejoined?.masterId);
  const acceptedAfterCut = writer.acknowledged.concat(writer.unacknowledged).filter((w) => w.at >= cutAt).length;
  const lost = owner ? await missingWrites(owner.address.split(':')[0], Number(owner.address.split(':')[1]), fleet.app, acknowledgedBefore) : acknowledgedBefore.length;
  const refusalLimit = timeout / 1000 + CLUSTER_TARGETS.refusalMarginSeconds;
  const refusedAfterSeconds = refusedAt === undefined ? undefined : seconds(refusedAt - cutAt);
  const promotedAfterSeconds = promotedAt === undefined ? undefined : seconds(promotedAt - cutAt);
  return {
    engine,
    nodeTimeoutMillis: timeout,
    refusedAfterSeconds,
    refusal,
    promotedAfterSeconds,
    acceptedAfterCut,
    acknowledgedLost: lost,
    rejoinedAsReplica: rejoined?.flags.includes('slave') === true,
    writerErrors: { ...writer.errors },
    isolated: victim.address,
    replica: replica.address,
    targets: {
      refusal: target(`the cut-off primary refuses writes within node timeout + ${CLUSTER_TARGETS.refusalMarginSeconds} s (${refusalLimit} s)`, refusalLimit, refusedAfterSeconds),
      promoted: target(`the majority promotes the shard's replica within the partition (${seconds(options.partitionMs)} s)`, seconds(options.partitionMs), promotedAfterSeconds),
      acknowledgedLost: target('writes confirmed by a replica before the cut, lost = 0', 0, lost),
    },
  };
}

/** results/cluster-faults.json: the cluster-mode checks of `npm run faults`. */
export interface ClusterFaultResults {
  readonly schemaVersion: 1;
  /** ISO 8601, when the run started. */
  readonly date: string;
  readonly durationSeconds: number;
  readonly mode: 'full' | 'short';
  readonly machine: MachineInfo;
  /** The group the checks ran on. */
  readonly group: { readonly shards: number; readonly replicasPerShard: number; readonly nodeTimeoutMillis: number };
  readonly crash: ClusterCrashResult[];
  readonly partition: ClusterPartitionResult[];
  readonly pass: boolean;
}

/** Every target of a cluster run. */
export function clusterTargets(results: Pick<ClusterFaultResults, 'crash' | 'partition'>): Target[] {
  return [...results.crash.flatMap((c) => Object.values(c.targets)), ...results.partition.flatMap((p) => Object.values(p.targets))];
}
