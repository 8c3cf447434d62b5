import * as os from 'os';
import { runAofCrash } from './aof';
import { FAULT_ADDRESSES, FaultProfile } from './config';
import { runFailoverTrials } from './failover';
import { FaultEngine, replicationGroupJson, SynthesizedFleet } from './fleet-from-synth';
import { runHostLossTrials } from './host-loss';
import { describeMachine } from './machine';
import { runMemcachedNodeLoss } from './memcached';
import { requireIptables } from './partition';
import { AofRun, DetectionSetting, FailoverResult, FaultResults, HostLossResult, SplitBrainResult, StallResult, Target } from './results';
import { runSplitBrain } from './split-brain';
import { runStallTrials, STALL_TARGETS } from './stall';
import { FailureDetection } from '../../src/core/fleet-options';
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

/** The detection settings' facts: the prop's value and the down-after core gives it. */
export function detectionSetting(detection: FailureDetection): DetectionSetting {
  return { detection, downAfterMillis: SENTINEL_DEFAULTS.downAfterMillis[detection] };
}

/** The default setting (the prop unset). */
export const DEFAULT_DETECTION = FailureDetection.STALL_TOLERANT;

/**
 * Starts a replication group of `engine` from the synthesized output, runs `check` on it, stops
 * it. `detection` undefined leaves `failureDetection` unset (the shipped default).
 */
export async function withReplicationGroup<T>(
  engine: FaultEngine,
  addresses: readonly string[],
  check: (fleet: SynthesizedFleet) => Promise<T>,
  detection?: FailureDetection,
): Promise<T> {
  const json = replicationGroupJson(engine, detection);
  const fleet = await SynthesizedFleet.start(json, addresses, FAULT_ADDRESSES.dockerHost, `faults-${engine.server}`);
  try {
    return await check(fleet);
  } finally {
    await fleet.dispose();
  }
}

/** The checks of one engine under one detection setting. */
export interface DetectionChecks {
  readonly failover: FailoverResult;
  readonly stall: StallResult;
  readonly hostLoss?: HostLossResult;
  /** With the default setting only. */
  readonly splitBrain?: SplitBrainResult;
  readonly persistence: string;
}

/**
 * The crash trials, the stalls, the host losses, and (with the default setting) the split-brain
 * pair, on one replication group of `engine`.
 */
export async function runReplicationGroupChecks(
  engine: FaultEngine,
  addresses: readonly string[],
  profile: FaultProfile,
  trials: number,
  detection: FailureDetection,
  progress: Progress,
): Promise<DetectionChecks> {
  const setting = detectionSetting(detection);
  const isDefault = detection === DEFAULT_DETECTION;
  const label = `${engine.title}, ${detection} (down-after ${setting.downAfterMillis} ms)`;
  return withReplicationGroup(engine, addresses, async (fleet) => {
    progress(`${label}: ${trials} crash trials (kill -9 of the primary's engine)`);
    const failover = await runFailoverTrials(fleet, engine.title, setting, {
      trials,
      writesPerSecond: profile.writesPerSecond,
      steadyMs: profile.steadyMs,
      onTrial: (t) =>
        progress(
          `  trial ${t.trial}: ${t.failoverSeconds.toFixed(2)} s, ${t.acknowledgedLost}/${t.acknowledgedBeforeKill} lost, agent exit ${t.agentExit}, ` +
            `rejoined ${t.rejoinedAsReplica ? `in ${t.rejoinSeconds} s` : `NO (${t.rejoinProblem})`}` +
            `${t.primaryAfterRejoin === t.promoted ? '' : `, second failover to ${t.primaryAfterRejoin}`}`,
        ),
    });
    progress(`${label}: ${profile.stallTrials} stalls (DEBUG SLEEP ${STALL_TARGETS.stallSeconds})`);
    const stall = await runStallTrials(fleet, engine.title, setting, {
      trials: profile.stallTrials,
      stallSeconds: STALL_TARGETS.stallSeconds,
      isDefault,
      onTrial: (t) =>
        progress(`  stall ${t.trial}: ${t.stallSeconds.toFixed(2)} s, ${t.failedOver ? `FAILED OVER to ${t.primaryAfter}` : 'no failover'}${t.flaggedDown ? ' (flagged down)' : ''}`),
    });
    let hostLoss: HostLossResult | undefined;
    if (profile.hostLossTrialsPerKind > 0) {
      progress(`${label}: host loss, ${profile.hostLossTrialsPerKind} trials of each kind`);
      hostLoss = await runHostLossTrials(fleet, engine.title, setting, {
        trialsPerKind: profile.hostLossTrialsPerKind,
        writesPerSecond: profile.writesPerSecond,
        steadyMs: profile.steadyMs,
        onTrial: (t) => progress(`  host loss ${t.trial} (${t.kind}): ${t.failoverSeconds.toFixed(2)} s, ${t.lost} -> ${t.promoted}`),
      });
    }
    let splitBrain: SplitBrainResult | undefined;
    if (isDefault) {
      progress(`${label}: split brain, ${profile.partitionMs / 1000} s partitions`);
      splitBrain = await runSplitBrain(fleet, engine.title, {
        partitionMs: profile.partitionMs,
        writesPerSecond: profile.writesPerSecond,
        writerAddress: FAULT_ADDRESSES.partitionWriter,
      });
    }
    return { failover, stall, hostLoss, splitBrain, persistence: fleet.persistence() };
  }, isDefault ? undefined : detection);
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

  const detections = profile.fastDetection ? [DEFAULT_DETECTION, FailureDetection.FAST] : [DEFAULT_DETECTION];
  const failover: FailoverResult[] = [];
  const stall: StallResult[] = [];
  const hostLoss: HostLossResult[] = [];
  const splitBrain: SplitBrainResult[] = [];
  let persistence = '';
  for (const detection of detections) {
    for (const { engine, addresses, trials } of engines) {
      const result = await runReplicationGroupChecks(engine, addresses, profile, trials, detection, progress);
      failover.push(result.failover);
      stall.push(result.stall);
      if (result.hostLoss) hostLoss.push(result.hostLoss);
      if (result.splitBrain) splitBrain.push(result.splitBrain);
      persistence ||= result.persistence;
    }
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
    // A crash fails over through the node's own request whatever the setting: same targets.
    ...failover.flatMap((f) => Object.values(f.targets)),
    ...stall.flatMap((s) => Object.values(s.targets)),
    ...hostLoss.flatMap((h) => Object.values(h.targets)),
    ...splitBrain.flatMap((s) => Object.values(s.targets)),
    ...aof.map((a) => a.target),
    ...Object.values(memcached.targets),
  ];
  return {
    schemaVersion: 2,
    date: new Date(started).toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    mode: profile.mode,
    machine: describeMachine(engines.length > 1, loadAtStart),
    defaults: {
      failureDetection: DEFAULT_DETECTION,
      sentinelDownAfterMillis: SENTINEL_DEFAULTS.downAfterMillis[DEFAULT_DETECTION],
      sentinelFailoverTimeoutMillis: SENTINEL_DEFAULTS.failoverTimeoutMillis,
      sentinelQuorum: SENTINEL_DEFAULTS.quorum,
      minReplicasToWrite: MIN_REPLICAS_DEFAULTS.toWrite,
      minReplicasMaxLagSeconds: MIN_REPLICAS_DEFAULTS.maxLagSeconds,
      persistence,
    },
    detectionSettings: detections.map(detectionSetting),
    failover,
    stall,
    hostLoss,
    splitBrain,
    aof,
    memcached,
    pass: targets.every((t) => t.pass),
  };
}
