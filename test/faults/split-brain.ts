import { missingWrites, WrittenKey } from './data';
import { SynthesizedFleet } from './fleet-from-synth';
import { Partition } from './partition';
import { RespConnection } from './resp';
import { SplitBrainResult, SplitBrainRun } from './results';
import { seconds, target } from './stats';
import { command } from '../integ/support/clients';
import { sleep, waitFor } from '../integ/support/processes';

/**
 * Jepsen's 2013 Redis case: the primary is cut off from its replicas and sentinels but one writer
 * still reaches it. The majority side promotes a replica; the isolated primary goes on accepting
 * writes until min-replicas-to-write stops it (or, with it off, for the whole partition), and once
 * the partition heals the sentinels demote it and whatever it accepted meanwhile is discarded.
 */

export const SPLIT_BRAIN_TARGETS = { refusalSeconds: 11 } as const;

export interface SplitBrainOptions {
  /** How long the partition is held, ms. */
  readonly partitionMs: number;
  readonly writesPerSecond: number;
  /** The writer's source address: the only one that still reaches the isolated primary. */
  readonly writerAddress: string;
}

/** The shipped setting, then min-replicas off, on the same fleet. */
export async function runSplitBrain(fleet: SynthesizedFleet, engine: string, options: SplitBrainOptions): Promise<SplitBrainResult> {
  const withMinReplicas = await splitBrainRun(fleet, options, undefined);
  const withoutMinReplicas = await splitBrainRun(fleet, options, 0);
  return {
    engine,
    withMinReplicas,
    withoutMinReplicas,
    targets: {
      // No NOREPLICAS refusal during the partition (undefined) misses the target.
      refusal: target(
        `isolated primary refuses writes within ${SPLIT_BRAIN_TARGETS.refusalSeconds} s (min-replicas on)`,
        SPLIT_BRAIN_TARGETS.refusalSeconds,
        withMinReplicas.refusedAfterSeconds,
      ),
    },
  };
}

/**
 * One partition. `minReplicasToWrite` undefined keeps what the fleet shipped with; a number is set
 * on every data node first (CONFIG SET), and the shipped value is restored afterwards.
 */
export async function splitBrainRun(
  fleet: SynthesizedFleet,
  options: SplitBrainOptions,
  minReplicasToWrite: number | undefined,
): Promise<SplitBrainRun> {
  const primary = await fleet.settled();
  const [primaryHost, primaryPort] = primary.split(':');
  const shipped = await configGet(fleet, primaryHost, Number(primaryPort), 'min-replicas-to-write');
  const maxLag = await configGet(fleet, primaryHost, Number(primaryPort), 'min-replicas-max-lag');
  if (minReplicasToWrite !== undefined) await configSetAll(fleet, 'min-replicas-to-write', minReplicasToWrite);
  try {
    const writer = await RespConnection.open({
      host: primaryHost,
      port: Number(primaryPort),
      localAddress: options.writerAddress,
      username: fleet.app.username!,
      password: fleet.app.password!,
    });
    // Keys of their own per run: a key left by an earlier run must not count as a surviving write.
    const prefix = `split:${minReplicasToWrite ?? shipped}:${Date.now()}`;
    const attempts: Array<{ at: number; key: WrittenKey; ok: boolean; error?: string }> = [];
    let n = 0;
    const writeFor = async (ms: number) => {
      const until = Date.now() + ms;
      const interval = 1000 / options.writesPerSecond;
      let due = Date.now();
      while (Date.now() < until) {
        if (Date.now() < due) await sleep(due - Date.now());
        due = Math.max(due + interval, Date.now() - 100);
        const key = { key: `${prefix}:${n}`, value: String(n) };
        n++;
        const outcome = await writer.call('SET', key.key, key.value).then(
          (reply) => ({ ok: reply === 'OK', error: reply === 'OK' ? undefined : String(reply) }),
          (error: Error) => ({ ok: false, error: error.message }),
        );
        attempts.push({ at: Date.now(), key, ...outcome });
      }
    };

    await writeFor(1_000);
    const partition = Partition.isolate(primaryHost, [options.writerAddress]);
    const cutAt = Date.now();
    let newPrimaryAt: number | undefined;
    try {
      const watch = watchForNewPrimary(fleet, primary, cutAt + options.partitionMs).then((at) => (newPrimaryAt = at));
      await writeFor(options.partitionMs);
      await watch;
    } finally {
      writer.close();
      partition.heal();
    }

    await waitFor('the sentinels to name a new primary', async () => {
      const named = await fleet.primaryBySentinels().catch(() => undefined);
      return named && named !== primary ? named : undefined;
    }, { timeoutMs: 30_000 });
    // Demoted: a replica of the primary the sentinels name (the promoted one, unless they failed over again).
    const demotion = await fleet.untilReplicaOf(fleet.byAddress(primaryHost), () => fleet.primaryBySentinels(), 60_000);
    const current = await fleet.primaryBySentinels();

    const during = attempts.filter((a) => a.at >= cutAt);
    const accepted = attempts.filter((a) => a.ok);
    const acceptedDuring = during.filter((a) => a.ok);
    // A refusal is min-replicas-to-write at work: a timeout or a dropped connection is not one.
    const firstRefusal = during.find((a) => !a.ok && a.error?.startsWith('NOREPLICAS'));
    const [host, port] = current.split(':');
    const lost = await missingWrites(host, Number(port), fleet.app, accepted.map((a) => a.key));
    return {
      minReplicasToWrite: minReplicasToWrite ?? shipped,
      minReplicasMaxLag: maxLag,
      partitionSeconds: seconds(options.partitionMs),
      refusedAfterSeconds: firstRefusal ? seconds(firstRefusal.at - cutAt) : undefined,
      refusal: firstRefusal?.error,
      lastAcceptedAfterSeconds: acceptedDuring.length > 0 ? seconds(acceptedDuring[acceptedDuring.length - 1].at - cutAt) : 0,
      acknowledgedDuringPartition: acceptedDuring.length,
      acknowledgedLost: lost,
      attemptedDuringPartition: during.length,
      newPrimaryAfterSeconds: newPrimaryAt === undefined ? undefined : seconds(newPrimaryAt - cutAt),
      oldPrimaryDemoted: demotion.problem === undefined,
      demotionProblem: demotion.problem,
    };
  } finally {
    if (minReplicasToWrite !== undefined) await configSetAll(fleet, 'min-replicas-to-write', shipped);
  }
}

/** Polls the sentinels (they stay reachable) until they name a primary other than `old`, or `until`. */
async function watchForNewPrimary(fleet: SynthesizedFleet, old: string, until: number): Promise<number | undefined> {
  while (Date.now() < until) {
    const named = await fleet.primaryBySentinels().catch(() => undefined);
    if (named && named !== old) return Date.now();
    await sleep(100);
  }
  return undefined;
}

async function configGet(fleet: SynthesizedFleet, host: string, port: number, name: string): Promise<number> {
  const reply = (await command(host, port, fleet.admin, 'CONFIG', 'GET', name)) as string[];
  return Number(reply[1]);
}

async function configSetAll(fleet: SynthesizedFleet, name: string, value: number): Promise<void> {
  for (const node of fleet.dataNodes()) await command(node.address, node.port ?? 6379, fleet.admin, 'CONFIG', 'SET', name, value);
}
