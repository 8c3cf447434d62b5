import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ClusterFaultResults, clusterGroupJson, clusterTargets, ClusterCrashResult, ClusterPartitionResult, nodeTimeoutMillis, runClusterCrashTrials, runClusterPartition } from './cluster';
import { FAULT_ADDRESSES, FaultProfile } from './config';
import { FaultEngine, SynthesizedFleet } from './fleet-from-synth';
import { describeMachine } from './machine';
import { requireIptables } from './partition';
import { REDIS_7_0, VALKEY_8_0 } from '../integ/support/plans';

/** The cluster-mode checks of the fault suite: a 3 × (1 + 1) group per engine, crash trials, then one minority partition. */

type Progress = (line: string) => void;

/** Starts the cluster group of `engine` from the synthesized Docker output, runs `check`, stops it. */
export async function withClusterGroup<T>(engine: FaultEngine, check: (fleet: SynthesizedFleet) => Promise<T>): Promise<T> {
  const fleet = await SynthesizedFleet.start(clusterGroupJson(engine), FAULT_ADDRESSES.cluster, FAULT_ADDRESSES.dockerHost, `faults-cluster-${engine.server}`);
  try {
    return await check(fleet);
  } finally {
    await fleet.dispose();
  }
}

export async function runClusterChecks(profile: FaultProfile, progress: Progress): Promise<ClusterFaultResults> {
  const started = Date.now();
  const loadAtStart = os.loadavg();
  requireIptables();
  const engines = profile.secondEngineTrials > 0 ? [REDIS_7_0, VALKEY_8_0] : [REDIS_7_0];
  const crash: ClusterCrashResult[] = [];
  const partition: ClusterPartitionResult[] = [];
  let timeout = 0;
  for (const engine of engines) {
    await withClusterGroup(engine, async (fleet) => {
      timeout = nodeTimeoutMillis(fleet);
      progress(`${engine.title}, cluster 3 × (1 + 1), node timeout ${timeout} ms: ${profile.clusterTrials} crash trials (kill -9 of a shard primary's engine)`);
      crash.push(await runClusterCrashTrials(fleet, engine.title, {
        trials: profile.clusterTrials,
        writesPerSecond: profile.writesPerSecond,
        steadyMs: profile.steadyMs,
        writerAddress: FAULT_ADDRESSES.clusterWriter,
        onTrial: (t) => progress(`  trial ${t.trial}: ${t.killed} -> ${t.promoted} in ${t.resumeSeconds.toFixed(2)} s, ${t.acknowledgedLost}/${t.acknowledgedBeforeKill} lost, rejoined ${t.rejoinedAsReplica ? 'yes' : 'NO'}`),
      }));
      progress(`${engine.title}, cluster: a shard primary cut off from the majority for ${profile.partitionMs / 1000} s`);
      const cut = await runClusterPartition(fleet, engine.title, {
        partitionMs: profile.partitionMs,
        writesPerSecond: profile.writesPerSecond,
        steadyMs: profile.steadyMs,
        writerAddress: FAULT_ADDRESSES.clusterWriter,
      });
      progress(`  refused after ${cut.refusedAfterSeconds ?? 'never'} s (${cut.refusal ?? '-'}), replica promoted after ${cut.promotedAfterSeconds ?? 'never'} s, ${cut.acceptedAfterCut} writes accepted after the cut`);
      partition.push(cut);
    });
  }
  const results = { crash, partition };
  return {
    schemaVersion: 1,
    date: new Date(started).toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    mode: profile.mode,
    machine: describeMachine(engines.length > 1, loadAtStart),
    group: { shards: 3, replicasPerShard: 1, nodeTimeoutMillis: timeout },
    ...results,
    pass: clusterTargets(results).every((t) => t.pass),
  };
}

/** The cluster run's figures as text. */
export function formatClusterResults(r: ClusterFaultResults): string {
  const lines = [`cachefleet cluster fault run (${r.mode}), ${r.date}, ${r.durationSeconds} s; group ${r.group.shards} × (1 + ${r.group.replicasPerShard}), node timeout ${r.group.nodeTimeoutMillis} ms`];
  for (const c of r.crash) {
    lines.push(`${c.engine} crash: p50 ${c.p50Seconds.toFixed(2)} s, max ${c.maxSeconds.toFixed(2)} s over ${c.trials.length} trials; ${c.acknowledgedLost} of ${c.acknowledged} acknowledged lost; ` +
      `rejoined ${c.trials.filter((t) => t.rejoinedAsReplica).length}/${c.trials.length}; writer errors ${JSON.stringify(c.writerErrors)}`);
  }
  for (const p of r.partition) {
    lines.push(`${p.engine} minority partition: refused after ${p.refusedAfterSeconds ?? 'never'} s (${p.refusal ?? '-'}), promoted after ${p.promotedAfterSeconds ?? 'never'} s, ` +
      `${p.acceptedAfterCut} accepted after the cut, ${p.acknowledgedLost} acknowledged lost, old primary ${p.rejoinedAsReplica ? 'rejoined as a replica' : 'NOT a replica'}`);
  }
  const failed = clusterTargets(r).filter((t) => !t.pass).map((t) => t.description);
  lines.push(failed.length === 0 ? 'every cluster target met' : `targets missed:\n  ${failed.join('\n  ')}`);
  return lines.join('\n');
}

/** Writes `results/cluster-faults.json` under `root`; returns its path. */
export function writeClusterResults(root: string, results: ClusterFaultResults): string {
  const file = path.join(root, 'results', 'cluster-faults.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
