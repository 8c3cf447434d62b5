import { requireBinaries, describeInteg } from './support/binaries';
import { runAofCrash } from '../faults/aof';
import { FAULT_ADDRESSES, SHORT_PROFILE } from '../faults/config';
import { FAILOVER_TARGETS, runFailoverTrials } from '../faults/failover';
import { runMemcachedNodeLoss } from '../faults/memcached';
import { removeFaultsChain, requireIptables } from '../faults/partition';
import { AofRun, FailoverResult, MemcachedResult, SplitBrainRun, StallResult } from '../faults/results';
import { SPLIT_BRAIN_TARGETS, splitBrainRun } from '../faults/split-brain';
import { runStallTrials, STALL_TARGETS } from '../faults/stall';
import { DEFAULT_DETECTION, detectionSetting, withReplicationGroup } from '../faults/suite';
import { REDIS_7_0 } from './support/plans';
import { SENTINEL_DEFAULTS } from '../../src/core/topology';

/**
 * The fault suite's short version (`npm run faults` runs the full trials and writes
 * results/faults.json): fleets started from the synthesized Docker output with the shipped
 * defaults, real servers, real clients, and the reliability targets (README, "Reliability and performance").
 *
 * The checks run at the same time, each on a fleet of its own (addresses 127.0.0.101-139, see
 * README.md), so that the file stays within about 45 s; the full run runs them one after the other.
 */
jest.setTimeout(120_000);

describeInteg('fault checks (short version of npm run faults)', () => {
  /** The trials and the fleet's data nodes (address:port). */
  let failover: Promise<{ result: FailoverResult; stall: StallResult; dataNodes: string[] }>;
  let splitBrain: Promise<SplitBrainRun>;
  let aof: Promise<AofRun[]>;
  let memcached: Promise<MemcachedResult>;

  beforeAll(() => {
    requireBinaries(['redis-server', 'memcached', 'iptables']);
    requireIptables();
    const profile = SHORT_PROFILE;
    const failoverOptions = { trials: profile.failoverTrials, writesPerSecond: profile.writesPerSecond, steadyMs: profile.steadyMs };
    const setting = detectionSetting(DEFAULT_DETECTION);
    // The crash trial, then the stall on the same fleet (the shipped default: failureDetection unset).
    failover = withReplicationGroup(REDIS_7_0, FAULT_ADDRESSES.firstGroup, async (fleet) => ({
      result: await runFailoverTrials(fleet, REDIS_7_0.title, setting, failoverOptions),
      stall: await runStallTrials(fleet, REDIS_7_0.title, setting, {
        trials: profile.stallTrials,
        stallSeconds: STALL_TARGETS.stallSeconds,
        isDefault: true,
      }),
      dataNodes: fleet.dataNodes().map((node) => `${node.address}:${node.port ?? 6379}`),
    }));
    const splitOptions = {
      partitionMs: profile.partitionMs,
      writesPerSecond: profile.writesPerSecond,
      writerAddress: FAULT_ADDRESSES.partitionWriter,
    };
    // min-replicas as shipped (undefined: no CONFIG SET); the full run adds the comparison with it off.
    splitBrain = withReplicationGroup(REDIS_7_0, FAULT_ADDRESSES.secondGroup, (fleet) =>
      splitBrainRun(fleet, splitOptions, undefined),
    );
    // One AOF node address: everysec, then always.
    aof = (async () => {
      const options = { address: FAULT_ADDRESSES.aofNode, hostAddress: FAULT_ADDRESSES.dockerHost, writeMs: profile.aofWriteMs };
      return [await runAofCrash(REDIS_7_0, 'everysec', options), await runAofCrash(REDIS_7_0, 'always', options)];
    })();
    memcached = runMemcachedNodeLoss({ addresses: FAULT_ADDRESSES.memcached, hostAddress: FAULT_ADDRESSES.dockerHost, keys: profile.memcachedKeys });
    // Each failure is reported by the test that awaits it, not as an unhandled rejection.
    for (const check of [failover, splitBrain, aof, memcached]) check.catch(() => undefined);
  });

  afterAll(async () => {
    await Promise.allSettled([failover, splitBrain, aof, memcached]);
    removeFaultsChain();
  });

  test("kill -9 of the primary's engine under ~1k writes/s: writes resume through Sentinel, no acknowledged write lost, the old primary rejoins", async () => {
    const { result, dataNodes } = await failover;
    console.log(`failover (short): ${result.trials.map((t) => `${t.failoverSeconds.toFixed(2)} s`).join(', ')} ` +
      `(targets, judged over the full run's trials: p50 <= ${FAILOVER_TARGETS.p50Seconds} s, max <= ${FAILOVER_TARGETS.maxSeconds} s); ` +
      `${result.acknowledgedLost} of ${result.acknowledged} acknowledged writes lost`);
    // The failover time of one trial on a shared machine is a figure, not a verdict: `npm run faults`
    // judges the targets over its trials. Whichever way the failover came about (the node asking for
    // it, or the sentinels' own silence timeout and vote, retried after twice the failover timeout
    // when two sentinels split it), writes resume within that bound.
    const slowestValidPath = result.downAfterMillis / 1000 + (2 * SENTINEL_DEFAULTS.failoverTimeoutMillis) / 1000 + FAILOVER_TARGETS.maxSeconds;
    expect(result.maxSeconds).toBeLessThanOrEqual(slowestValidPath);
    for (const trial of result.trials) {
      // The sentinels promoted one of the group's replicas, not some other server.
      expect(dataNodes).toContain(trial.killed);
      expect(dataNodes).toContain(trial.promoted);
      expect(dataNodes).toContain(trial.primaryAfterRejoin);
      expect(trial.acknowledgedBeforeKill).toBeGreaterThan(0);
      expect(trial.acknowledgedLost).toBe(0);
      expect(trial.rejoinedAsReplica).toBe(true);
      // The agent outlived its engine and exited with the engine's status (kill -9: 128 + 9).
      expect(trial.agentExit).toBe(137);
    }
  });

  test('a 2 s event-loop stall of the primary (DEBUG SLEEP 2) does not fail it over with the default detection', async () => {
    const { stall } = await failover;
    console.log(`stall (short): ${stall.trials.map((t) => `${t.stallSeconds.toFixed(2)} s, ${t.failedOver ? 'failed over' : 'no failover'}`).join('; ')}`);
    expect(stall.detection).toBe('STALL_TOLERANT');
    for (const trial of stall.trials) {
      // The stall happened (the command took its 2 s) and the primary stayed.
      expect(trial.stallSeconds).toBeGreaterThanOrEqual(STALL_TARGETS.stallSeconds);
      expect(trial.failedOver).toBe(false);
      expect(trial.primaryAfter).toBe(trial.primary);
    }
    expect(stall.failovers).toBe(0);
  });

  test('split brain with min-replicas on: the isolated primary refuses writes in time; what it accepted meanwhile is what is lost', async () => {
    const run = await splitBrain;
    console.log(`split brain (short): refused after ${run.refusedAfterSeconds} s, new primary after ${run.newPrimaryAfterSeconds} s, ` +
      `${run.acknowledgedLost} acknowledged writes lost (${run.acknowledgedDuringPartition} accepted during the partition)`);
    expect(run.minReplicasToWrite).toBe(1);
    expect(run.refusedAfterSeconds).toBeDefined();
    expect(run.refusedAfterSeconds!).toBeLessThanOrEqual(SPLIT_BRAIN_TARGETS.refusalSeconds);
    expect(run.refusal).toMatch(/^NOREPLICAS/);
    expect(run.lastAcceptedAfterSeconds).toBeLessThanOrEqual(SPLIT_BRAIN_TARGETS.refusalSeconds);
    expect(run.newPrimaryAfterSeconds).toBeDefined();
    expect(run.oldPrimaryDemoted).toBe(true);
    // Jepsen's finding, bounded: the loss is the writes the isolated side accepted, no more.
    expect(run.acknowledgedLost).toBeLessThanOrEqual(run.acknowledgedDuringPartition);
  });

  // runAofCrash checks with CONFIG GET that the node runs with the append-only file and the policy asked for.
  test('kill -9 and restart with AOF everysec and always: no acknowledged write lost', async () => {
    const runs = await aof;
    for (const run of runs) {
      expect(run.acknowledged).toBeGreaterThan(0);
      expect(run.lost).toBe(0);
    }
  });

  test("Memcached, 1 of 3 nodes killed: exactly the killed node's keys miss, the rest are intact", async () => {
    const result = await memcached;
    expect(result.misses).toBe(Math.round(result.expectedShare * result.keys));
    expect(result.survivorsWrong).toBe(0);
  });
});
