import { SynthesizedFleet } from './fleet-from-synth';
import { DetectionSetting, StallResult, StallTrial } from './results';
import { seconds, target } from './stats';
import { command } from '../integ/support/clients';
import { sleep } from '../integ/support/processes';

/**
 * An event-loop stall of the primary (`DEBUG SLEEP`: what a slow command, the fork of a large
 * dataset or an EBS latency spike do): the primary answers nothing meanwhile, yet it is alive, and
 * failing it over would move the primary and reconnect every client for nothing. Counts the
 * trials in which the sentinels failed over.
 */

export const STALL_TARGETS = { stallSeconds: 2, failovers: 0 } as const;

export interface StallOptions {
  readonly trials: number;
  /** The stall, seconds (`DEBUG SLEEP <n>`). */
  readonly stallSeconds: number;
  /**
   * Whether the run's setting is the default: its target is no failover. Other settings report
   * their count without a target.
   */
  readonly isDefault: boolean;
  readonly onTrial?: (trial: StallTrial) => void;
}

/** How long the sentinels are watched after a stall ends: a failover they decided on during it has begun by then. */
const WATCH_AFTER_MS = 3_000;

export async function runStallTrials(
  fleet: SynthesizedFleet,
  engine: string,
  setting: DetectionSetting,
  options: StallOptions,
): Promise<StallResult> {
  const trials: StallTrial[] = [];
  for (let trial = 1; trial <= options.trials; trial++) {
    const result = await oneStall(fleet, trial, options.stallSeconds);
    trials.push(result);
    options.onTrial?.(result);
  }
  const failovers = trials.filter((t) => t.failedOver).length;
  return {
    ...setting,
    engine,
    stallSeconds: options.stallSeconds,
    trials,
    failovers,
    targets: options.isDefault
      ? { failovers: target(`${options.stallSeconds} s stalls failed over = ${STALL_TARGETS.failovers}`, STALL_TARGETS.failovers, failovers) }
      : {},
  };
}

async function oneStall(fleet: SynthesizedFleet, trial: number, stallSeconds: number): Promise<StallTrial> {
  const primary = await fleet.settled();
  const [host, port] = primary.split(':');
  const epochsBefore = await fleet.configEpochs();
  let flaggedDown = false;
  let watching = true;
  // The sentinels stay reachable during the stall: watch their view of the primary as it happens.
  const watch = (async () => {
    while (watching) {
      if (await fleet.primaryFlaggedDown().catch(() => false)) flaggedDown = true;
      await sleep(100);
    }
  })();
  const stalledAt = Date.now();
  try {
    // DEBUG is the admin user's (the application user has no @dangerous command).
    await command(host, Number(port), fleet.admin, 'DEBUG', 'SLEEP', stallSeconds);
  } catch (error) {
    watching = false;
    await watch;
    throw new Error(`DEBUG SLEEP ${stallSeconds} on ${primary}: ${(error as Error).message}`);
  }
  const stallMs = Date.now() - stalledAt;
  await sleep(WATCH_AFTER_MS);
  watching = false;
  await watch;
  const epochsAfter = await fleet.configEpochs();
  // Let a failover that did start finish before the next trial (settled() waits for the group).
  const primaryAfter = await fleet.settled();
  const failedOver = primaryAfter !== primary || epochsAfter.some((epoch, i) => epoch !== epochsBefore[i]);
  return { trial, primary, stallSeconds: seconds(stallMs), flaggedDown, failedOver, primaryAfter };
}
