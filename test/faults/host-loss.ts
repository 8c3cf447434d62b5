import { SynthesizedFleet } from './fleet-from-synth';
import { Partition } from './partition';
import { DetectionSetting, HostLossResult, HostLossTrial } from './results';
import { maximum, target } from './stats';
import { SentinelWriter } from './writer';
import { sleep, waitFor } from '../integ/support/processes';
import { median } from '../shared/run-stats';

/**
 * The primary's host lost: nothing of its node reports anything, so only the sentinels' silence
 * timeout (down-after) can detect it. Two kinds, alternating:
 * - `processes`: kill -9 of every process of the primary's node (its agent and its engine) and of
 *   a sentinel, as an EC2 slot runs one beside the engine (the Docker flavor gives each sentinel a
 *   container of its own); two sentinels of three remain, a majority;
 * - `traffic`: every packet to and from the primary's address dropped (iptables), the node itself
 *   running on, as when an instance's network fails; healed once a write succeeded elsewhere.
 * Time from the loss until a write through Sentinel discovery succeeds.
 */

/** What host loss may take beyond the silence timeout: the vote, the promotion, the clients' rediscovery. */
export const HOST_LOSS_MARGIN_SECONDS = 3;

export interface HostLossOptions {
  /** Trials of each kind. */
  readonly trialsPerKind: number;
  readonly writesPerSecond: number;
  readonly steadyMs: number;
  readonly onTrial?: (trial: HostLossTrial) => void;
}

export async function runHostLossTrials(
  fleet: SynthesizedFleet,
  engine: string,
  setting: DetectionSetting,
  options: HostLossOptions,
): Promise<HostLossResult> {
  const writer = new SentinelWriter({
    sentinels: fleet.sentinels().map((s) => ({ host: s.address, port: s.port ?? 26379 })),
    masterName: fleet.masterName(),
    username: fleet.app.username!,
    password: fleet.app.password!,
    sentinelPassword: fleet.app.password!,
    keyPrefix: `host-loss:${Date.now()}`,
    writesPerSecond: options.writesPerSecond,
  });
  await fleet.settled();
  await writer.start();
  const trials: HostLossTrial[] = [];
  try {
    for (let i = 0; i < options.trialsPerKind * 2; i++) {
      const kind = i % 2 === 0 ? 'processes' : 'traffic';
      const trial = await oneLoss(fleet, writer, i + 1, kind, options.steadyMs);
      trials.push(trial);
      options.onTrial?.(trial);
    }
  } finally {
    await writer.stop();
  }
  const times = trials.map((t) => t.failoverSeconds);
  const maxSeconds = maximum(times);
  const limit = setting.downAfterMillis / 1000 + HOST_LOSS_MARGIN_SECONDS;
  return {
    ...setting,
    engine,
    trials,
    p50Seconds: median(times),
    maxSeconds,
    targets: { max: target(`every trial <= down-after + ${HOST_LOSS_MARGIN_SECONDS} s = ${limit} s`, limit, maxSeconds) },
  };
}

async function oneLoss(
  fleet: SynthesizedFleet,
  writer: SentinelWriter,
  trial: number,
  kind: HostLossTrial['kind'],
  steadyMs: number,
): Promise<HostLossTrial> {
  const lost = await fleet.settled();
  await sleep(steadyMs);
  const node = fleet.byAddress(lost.split(':')[0]);
  // The sentinel that shares the lost host (processes): any one of three stands for it.
  const sentinel = fleet.sentinels()[trial % fleet.sentinels().length];
  const survivors = kind === 'processes' ? fleet.sentinels().filter((s) => s !== sentinel) : fleet.sentinels();
  let partition: Partition | undefined;
  const lostAt = Date.now();
  if (kind === 'processes') {
    await Promise.all([fleet.kill(node.name), fleet.kill(sentinel.name)]);
  } else {
    partition = Partition.isolate(node.address, []);
  }
  // A write sent while the processes were ending or the rules going in may still have reached the
  // old primary: only writes sent once the loss was complete count, timed from its start.
  const goneAt = Date.now();
  try {
    const writtenAt = await writer.firstSuccessAfter(goneAt, 60_000);
    const promoted = await waitFor('the remaining sentinels to name a new primary', async () => {
      const named = await fleet.primaryBySentinels(survivors).catch(() => undefined);
      return named && named !== lost ? named : undefined;
    }, { timeoutMs: 30_000, intervalMs: 100 });
    return { trial, kind, lost, promoted, failoverSeconds: (writtenAt - lostAt) / 1000 };
  } finally {
    if (partition) partition.heal();
    if (kind === 'processes') {
      await fleet.restart(sentinel.name);
      await fleet.restart(node.name);
    }
    // The old primary comes back as a replica (configure asks the sentinels; a partitioned one is
    // demoted by them) before the next trial.
    await fleet.settled();
  }
}
