import { missingWrites } from './data';
import { SynthesizedFleet } from './fleet-from-synth';
import { DetectionSetting, FailoverResult, FailoverTrial } from './results';
import { maximum, seconds, target } from './stats';
import { SentinelWriter } from './writer';
import { sleep, waitFor } from '../integ/support/processes';
import { median } from '../shared/run-stats';

/**
 * kill -9 of the primary's engine under a steady writer through Sentinel: how long until a write
 * succeeds again, whether every write acknowledged by a replica survived, and whether the old
 * primary, restarted, rejoins as a replica. The node's agent survives the kill, as after an engine
 * crash or an out-of-memory kill: it asks the sentinels for the failover, then exits with the
 * engine's status, and the trial restarts the node as the restart policy would.
 */

export const FAILOVER_TARGETS = { p50Seconds: 3, maxSeconds: 6 } as const;

export interface FailoverOptions {
  readonly trials: number;
  readonly writesPerSecond: number;
  /** Steady writing before each kill, ms. */
  readonly steadyMs: number;
  /** Called after each trial (progress output). */
  readonly onTrial?: (trial: FailoverTrial) => void;
}

export async function runFailoverTrials(
  fleet: SynthesizedFleet,
  engine: string,
  setting: DetectionSetting,
  options: FailoverOptions,
): Promise<FailoverResult> {
  const writer = new SentinelWriter({
    sentinels: fleet.sentinels().map((s) => ({ host: s.address, port: s.port ?? 26379 })),
    masterName: fleet.masterName(),
    username: fleet.app.username!,
    password: fleet.app.password!,
    sentinelPassword: fleet.app.password!,
    keyPrefix: 'failover',
    writesPerSecond: options.writesPerSecond,
  });
  await fleet.settled();
  const server = await fleet.serverVersion(fleet.dataNodes()[0]);
  await writer.start();
  const trials: FailoverTrial[] = [];
  try {
    let since = Date.now();
    for (let trial = 1; trial <= options.trials; trial++) {
      const result = await oneTrial(fleet, writer, trial, since, options.steadyMs);
      trials.push(result.trial);
      since = result.diedAt;
      options.onTrial?.(result.trial);
    }
  } finally {
    await writer.stop();
  }
  const times = trials.map((t) => t.failoverSeconds);
  const p50Seconds = median(times);
  const maxSeconds = maximum(times);
  const acknowledgedLost = trials.reduce((sum, t) => sum + t.acknowledgedLost, 0);
  const rejoined = trials.filter((t) => t.rejoinedAsReplica).length;
  return {
    ...setting,
    engine,
    server,
    trials,
    p50Seconds,
    maxSeconds,
    acknowledgedLost,
    acknowledged: trials.reduce((sum, t) => sum + t.acknowledgedBeforeKill, 0),
    rejoined,
    secondFailovers: trials.filter((t) => t.primaryAfterRejoin !== t.promoted).length,
    targets: {
      p50: target(`p50 <= ${FAILOVER_TARGETS.p50Seconds} s`, FAILOVER_TARGETS.p50Seconds, p50Seconds),
      max: target(`max <= ${FAILOVER_TARGETS.maxSeconds} s`, FAILOVER_TARGETS.maxSeconds, maxSeconds),
      acknowledgedLost: target('acknowledged writes lost = 0', 0, acknowledgedLost),
      rejoined: target('old primary rejoins as a replica in every trial (trials not rejoined = 0)', 0, trials.length - rejoined),
    },
  };
}

async function oneTrial(
  fleet: SynthesizedFleet,
  writer: SentinelWriter,
  trial: number,
  since: number,
  steadyMs: number,
): Promise<{ trial: FailoverTrial; diedAt: number }> {
  const killed = await fleet.settled();
  const steadyFrom = Date.now();
  await sleep(steadyMs);
  const victim = fleet.byAddress(killed.split(':')[0]);

  const killedAt = Date.now();
  await fleet.killEngine(victim.name);
  // A write sent between the signal and the process's end may still succeed on the old primary:
  // only writes sent after it died count for the failover time.
  const diedAt = Date.now();
  // Acknowledged before the kill: confirmed by WAIT 1 since the previous trial's kill.
  const acknowledged = writer.acknowledged.filter((w) => w.at >= since && w.at < diedAt);
  const writesPerSecond = writer.rate(steadyFrom, killedAt);
  const writtenAt = await writer.firstSuccessAfter(diedAt, 60_000);
  const failoverSeconds = (writtenAt - killedAt) / 1000;

  const promoted = await waitFor('the sentinels to name a new primary', async () => {
    const primary = await fleet.primaryBySentinels().catch(() => undefined);
    return primary && primary !== killed ? primary : undefined;
  }, { timeoutMs: 30_000, intervalMs: 100 });

  // The agent exits once the sentinels name another primary; the restart policy then restarts it.
  const agentExit = await fleet.exited(victim.name, 30_000);
  const restartedAt = Date.now();
  await fleet.restart(victim.name);
  // The old primary must come back as a replica of the primary the sentinels name by then: the
  // promoted one, unless a second failover followed (recorded, not hidden).
  const rejoin = await fleet.untilReplicaOf(victim, () => fleet.primaryBySentinels(), 30_000);
  const rejoinSeconds = rejoin.problem === undefined ? seconds(Date.now() - restartedAt) : undefined;
  const primaryAfter = await fleet.settled();
  const [host, port] = primaryAfter.split(':');
  const lost = await missingWrites(host, Number(port), fleet.app, acknowledged);

  return {
    diedAt,
    trial: {
      trial,
      killed,
      promoted,
      primaryAfterRejoin: primaryAfter,
      failoverSeconds,
      acknowledgedBeforeKill: acknowledged.length,
      acknowledgedLost: lost,
      rejoinedAsReplica: rejoin.problem === undefined,
      rejoinSeconds,
      rejoinProblem: rejoin.problem,
      writesPerSecond: Math.round(writesPerSecond),
      agentExit,
    },
  };
}
