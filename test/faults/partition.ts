import { spawnSync } from 'child_process';

/**
 * Network partitions between loopback addresses with iptables. Every rule lives in a chain of
 * this suite's own, jumped to from OUTPUT (loopback traffic leaves through OUTPUT), so no other
 * rule of the machine is ever touched; the chain is removed when a partition heals, before a run
 * (left over from a killed one) and when the process exits.
 */

export const FAULTS_CHAIN = 'CACHEFLEET-FAULTS';

/** Runs iptables (waiting up to 5 s for its lock); `ok` is whether it succeeded. */
export function iptables(args: string[]): { ok: boolean; stderr: string } {
  const result = spawnSync('iptables', ['-w', '5', ...args], { encoding: 'utf8' });
  if (result.error) throw new Error(`iptables: ${result.error.message}`);
  return { ok: result.status === 0, stderr: result.stderr };
}

/** Runs iptables and throws with its message when it fails. */
export function mustIptables(args: string[]): void {
  const result = iptables(args);
  if (!result.ok) throw new Error(`iptables ${args.join(' ')}: ${result.stderr.trim()}`);
}

/** Removes a chain of ours and every jump to it from OUTPUT; does nothing when it does not exist. */
export function removeChain(chain: string): void {
  // One jump is added per partition; remove them all.
  while (iptables(['-D', 'OUTPUT', '-j', chain]).ok);
  if (iptables(['-n', '-L', chain]).ok) {
    mustIptables(['-F', chain]);
    mustIptables(['-X', chain]);
  }
}

/** Removes this suite's chain and every jump to it; does nothing when it does not exist. */
export function removeFaultsChain(): void {
  removeChain(FAULTS_CHAIN);
}

/** Throws, saying why, unless iptables can create and remove this suite's chain here. */
export function requireIptables(): void {
  removeFaultsChain();
  mustIptables(['-N', FAULTS_CHAIN]);
  removeFaultsChain();
}

let exitHandlerInstalled = false;

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on('exit', () => {
    try {
      removeFaultsChain();
    } catch {
      // Nothing more can be done while exiting; the next run removes it first.
    }
  });
}

/**
 * Cuts `isolated` off from every loopback address except `reachableFrom`: packets from the
 * isolated address to any other, and to it from any other, are dropped. Rules match addresses
 * only, whatever source address a server's outgoing connection picks.
 */
export class Partition {
  public static isolate(isolated: string, reachableFrom: readonly string[]): Partition {
    installExitHandler();
    removeFaultsChain();
    mustIptables(['-N', FAULTS_CHAIN]);
    try {
      for (const peer of reachableFrom) {
        mustIptables(['-A', FAULTS_CHAIN, '-s', isolated, '-d', peer, '-j', 'RETURN']);
        mustIptables(['-A', FAULTS_CHAIN, '-s', peer, '-d', isolated, '-j', 'RETURN']);
      }
      // Traffic of the isolated address with itself stays (a server talking to itself is not across the cut).
      mustIptables(['-A', FAULTS_CHAIN, '-s', isolated, '-d', isolated, '-j', 'RETURN']);
      mustIptables(['-A', FAULTS_CHAIN, '-s', isolated, '-j', 'DROP']);
      mustIptables(['-A', FAULTS_CHAIN, '-d', isolated, '-j', 'DROP']);
      mustIptables(['-I', 'OUTPUT', '1', '-j', FAULTS_CHAIN]);
    } catch (error) {
      removeFaultsChain();
      throw error;
    }
    return new Partition(isolated);
  }

  private constructor(public readonly isolated: string) {}

  /** Removes every rule of the partition. */
  public heal(): void {
    removeFaultsChain();
  }
}
