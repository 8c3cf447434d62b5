import * as os from 'os';
import { runAofCrash } from './aof';
import { FAULT_ADDRESSES, FaultProfile } from './config';
import { runFailoverTrials } from './failover';
import { FaultEngine, replicationGroupJson, SynthesizedFleet } from './fleet-from-synth';
import { describeMachine } from './machine';
import { runMemcachedNodeLoss } from './memcached';
import { requireIptables } from './partition';
import { AofRun, FailoverResult, FaultResults, SplitBrainResult, Target } from './results';
import { runSplitBrain } from './split-brain';
import { MIN_REPLICAS_DEFAULTS, SENTINEL_DEFAULTS } from '../../src/core/topology';
import { REDIS_7_0, VALKEY_8_0 } from '../integ/support/plans';
import { onPath } from '../integ/support/processes';

/** Every check of the fault suite, one after the other, as `npm run faults` runs them. */

export type Progress = (line: string) => void;

/**
 * Throws, naming every missing program, unless all are on PATH. (support/binaries.ts has the jest
 * version; this one runs outside jest too.)
 */
export function requirePrograms(programs: readonly string[]): void {
  const missing = programs.filter((program) => !onPath(program));
  if (missing.length > 0) throw new Error(`the fault suite needs ${missing.join(', ')} on PATH`);
}

/** Starts a replication group of `engine` from the synthesized output, runs `check` on it, stops it. */
export async function withReplicationGroup<T>(
  engine: FaultEngine,
  addresses: readonly string[],
  check: (fleet: SynthesizedFleet) => Promise<T>,
): Promise<T> {
  const fleet = await SynthesizedFleet.start(replicationGroupJson(engine), addresses, FAULT_ADDRESSES.dockerHost, `faults-${engine.server}`);
  try {
    return await check(fleet);
  } finally {
    await fleet.dispose();
  }
}

/** The failover trials, then the split-brain pair, on one replication group of `engine`. */
export async function runReplicationGroupChecks(
  engine: FaultEngine,
  addresses: readonly string[],
  profile: FaultProfile,
  trials: number,
  progress: Progress,
): Promise<{ failover: FailoverResult; splitBrain: SplitBrainResult; persistence: string }> {
  return withReplicationGroup(engine, addresses, async (fleet) => {
    progress(`${engine.title}: ${trials} failover trials`);
    const failover = await runFailoverTrials(fleet, engine.title, {
      trials,
      writesPerSecond: profile.writesPerSecond,
      steadyMs: profile.steadyMs,
      onTrial: (t) =>
        progress(
          `  trial ${t.trial}: ${t.failoverSeconds.toFixed(2)} s, ${t.acknowledgedLost}/${t.acknowledgedBeforeKill} lost, ` +
            `rejoined ${t.rejoinedAsReplica ? `in ${t.rejoinSeconds} s` : `NO (${t.rejoinProblem})`}` +
            `${t.primaryAfterRejoin === t.promoted ? '' : `, second failover to ${t.primaryAfterRejoin}`}`,
        ),
    });
    progress(`${engine.title}: split brain, ${profile.partitionMs / 1000} s partitions`);
    const splitBrain = await runSplitBrain(fleet, engine.title, {
      partitionMs: profile.partitionMs,
      writesPerSecond: profile.writesPerSecond,
      writerAddress: FAULT_ADDRESSES.partitionWriter,
    });
    return { failover, splitBrain, persistence: fleet.persistence() };
  });
}

/** The whole suite; every fleet is stopped and every partition rule removed, whatever happens. */
export async function runFaultSuite(profile: FaultProfile, progress: Progress): Promise<FaultResults> {
  const started = Date.now();
  const loadAtStart = os.loadavg();
  const engines: Array<{ engine: FaultEngine; addresses: readonly string[]; trials: number }> = [
    { engine: REDIS_7_0, addresses: FAULT_ADDRESSES.firstGroup, trials: profile.failoverTrials },
  ];
  if (profile.secondEngineTrials > 0) {
    engines.push({ engine: VALKEY_8_0, addresses: FAULT_ADDRESSES.secondGroup, trials: profile.secondEngineTrials });
  }
  requirePrograms(['redis-server', 'memcached', 'iptables', ...engines.map((e) => e.engine.server)]);
  requireIptables();

  const failover: FailoverResult[] = [];
  const splitBrain: SplitBrainResult[] = [];
  let persistence = '';
  for (const { engine, addresses, trials } of engines) {
    const result = await runReplicationGroupChecks(engine, addresses, profile, trials, progress);
    failover.push(result.failover);
    splitBrain.push(result.splitBrain);
    persistence ||= result.persistence;
  }
  const aof: AofRun[] = [];
  for (const appendfsync of ['everysec', 'always'] as const) {
    progress(`AOF ${appendfsync}: kill -9 under writes, restart`);
    const options = { address: FAULT_ADDRESSES.aofNode, hostAddress: FAULT_ADDRESSES.dockerHost, writeMs: profile.aofWriteMs };
    aof.push(await runAofCrash(REDIS_7_0, appendfsync, options));
  }
  progress('Memcached: kill 1 of 3');
  const memcached = await runMemcachedNodeLoss({
    addresses: FAULT_ADDRESSES.memcached,
    hostAddress: FAULT_ADDRESSES.dockerHost,
    keys: profile.memcachedKeys,
  });

  const targets: Target[] = [
    ...failover.flatMap((f) => Object.values(f.targets)),
    ...splitBrain.flatMap((s) => Object.values(s.targets)),
    ...aof.map((a) => a.target),
    ...Object.values(memcached.targets),
  ];
  return {
    schemaVersion: 1,
    date: new Date(started).toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    mode: profile.mode,
    machine: describeMachine(engines.length > 1, loadAtStart),
    defaults: {
      sentinelDownAfterMillis: SENTINEL_DEFAULTS.downAfterMillis,
      sentinelFailoverTimeoutMillis: SENTINEL_DEFAULTS.failoverTimeoutMillis,
      sentinelQuorum: SENTINEL_DEFAULTS.quorum,
      minReplicasToWrite: MIN_REPLICAS_DEFAULTS.toWrite,
      minReplicasMaxLagSeconds: MIN_REPLICAS_DEFAULTS.maxLagSeconds,
      persistence,
    },
    failover,
    splitBrain,
    aof,
    memcached,
    pass: targets.every((t) => t.pass),
  };
}
