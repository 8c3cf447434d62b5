import { requireBinaries, describeInteg } from './support/binaries';
import { REDIS_7_0 } from './support/plans';
import { CLUSTER_PARTITION_CHAIN, CLUSTER_TARGETS, ClusterCrashResult, ClusterPartitionResult, runClusterCrashTrials, runClusterPartition } from '../faults/cluster';
import { withClusterGroup } from '../faults/cluster-suite';
import { FAULT_ADDRESSES, SHORT_PROFILE } from '../faults/config';
import { removeChain, requireIptables } from '../faults/partition';

/**
 * The cluster-mode checks of the fault suite, short (`npm run faults` runs ten crash trials per
 * engine and writes results/cluster-faults.json): a group of 3 shards × (1 + 1) started from the
 * synthesized Docker output, real servers, a writer into one shard that counts a write as
 * acknowledged once `WAIT 1` confirms a replica holds it. Addresses 127.0.0.122-128.
 */
jest.setTimeout(240_000);

describeInteg('cluster mode under faults (short version of npm run faults)', () => {
  let checks: Promise<{ crash: ClusterCrashResult; partition: ClusterPartitionResult; dataNodes: string[] }>;

  beforeAll(() => {
    requireBinaries(['redis-server', 'iptables']);
    requireIptables();
    const profile = SHORT_PROFILE;
    checks = withClusterGroup(REDIS_7_0, async (fleet) => ({
      crash: await runClusterCrashTrials(fleet, REDIS_7_0.title, {
        trials: profile.clusterTrials,
        writesPerSecond: profile.writesPerSecond,
        steadyMs: profile.steadyMs,
        writerAddress: FAULT_ADDRESSES.clusterWriter,
      }),
      partition: await runClusterPartition(fleet, REDIS_7_0.title, {
        partitionMs: profile.partitionMs,
        writesPerSecond: profile.writesPerSecond,
        steadyMs: profile.steadyMs,
        writerAddress: FAULT_ADDRESSES.clusterWriter,
      }),
      dataNodes: fleet.dataNodes().map((node) => `${node.address}:${node.port ?? 6379}`),
    }));
    checks.catch(() => undefined);
  });

  afterAll(async () => {
    await Promise.allSettled([checks]);
    removeChain(CLUSTER_PARTITION_CHAIN);
  });

  test("kill -9 of a shard primary's engine under writes: the shard writes again, no acknowledged write lost, the old primary rejoins as a replica", async () => {
    const { crash, dataNodes } = await checks;
    console.log(`cluster crash (short): ${crash.trials.map((t) => `${t.resumeSeconds.toFixed(2)} s`).join(', ')} ` +
      `(target over the full run: node timeout ${crash.nodeTimeoutMillis} ms + ${CLUSTER_TARGETS.resumeMarginSeconds} s); ` +
      `${crash.acknowledgedLost} of ${crash.acknowledged} acknowledged lost; writer errors ${JSON.stringify(crash.writerErrors)}`);
    for (const trial of crash.trials) {
      expect(dataNodes).toContain(trial.killed);
      expect(dataNodes).toContain(trial.promoted);
      expect(trial.promoted).not.toBe(trial.killed);
      expect(trial.acknowledgedBeforeKill).toBeGreaterThan(0);
      expect(trial.acknowledgedLost).toBe(0);
      expect(trial.rejoinedAsReplica).toBe(true);
      // One trial on a shared machine is a figure; the bound here is the slowest valid path: the
      // engine's own failure detection (node timeout, then the vote), not the agent's request.
      expect(trial.resumeSeconds).toBeLessThanOrEqual((2 * crash.nodeTimeoutMillis) / 1000 + CLUSTER_TARGETS.resumeMarginSeconds);
    }
  });

  test('a shard primary cut off from the majority refuses writes after the node timeout; the majority promotes its replica; nothing a replica confirmed is lost', async () => {
    const { partition } = await checks;
    console.log(`cluster partition (short): refused after ${partition.refusedAfterSeconds} s (${partition.refusal}), promoted after ${partition.promotedAfterSeconds} s, ` +
      `${partition.acceptedAfterCut} writes accepted after the cut; ${partition.isolated} cut off, its replica ${partition.replica}; writer errors ${JSON.stringify(partition.writerErrors)}`);
    expect(partition.refusedAfterSeconds).toBeDefined();
    expect(partition.refusal).toMatch(/^CLUSTERDOWN/);
    // A node marks a peer failing once both its oldest unanswered ping and the last data it received
    // from it are older than the node timeout, and it pings a quiet peer after half the timeout: the
    // cut-off primary sees that it lost the majority within 1.5 timeouts at worst. The target (the
    // timeout + 1 s) is judged over the full run; one trial is held to the mechanism's bound.
    expect(partition.refusedAfterSeconds!).toBeLessThanOrEqual(1.5 * (partition.nodeTimeoutMillis / 1000) + CLUSTER_TARGETS.refusalMarginSeconds);
    expect(partition.promotedAfterSeconds).toBeDefined();
    expect(partition.acknowledgedLost).toBe(0);
    expect(partition.rejoinedAsReplica).toBe(true);
  });
});
