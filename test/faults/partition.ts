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

/** The chains a partition of this process may have left, removed when the process exits. */
const chainsToRemove = new Set<string>();

function installExitHandler(chain: string): void {
  if (chainsToRemove.has(chain)) return;
  chainsToRemove.add(chain);
  process.on('exit', () => {
    try {
      removeChain(chain);
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
  public static isolate(isolated: string, reachableFrom: readonly string[], chain: string = FAULTS_CHAIN): Partition {
    installExitHandler(chain);
    removeChain(chain);
    mustIptables(['-N', chain]);
    try {
      for (const peer of reachableFrom) {
        mustIptables(['-A', chain, '-s', isolated, '-d', peer, '-j', 'RETURN']);
        mustIptables(['-A', chain, '-s', peer, '-d', isolated, '-j', 'RETURN']);
      }
      // Traffic of the isolated address with itself stays (a server talking to itself is not across the cut).
      mustIptables(['-A', chain, '-s', isolated, '-d', isolated, '-j', 'RETURN']);
      mustIptables(['-A', chain, '-s', isolated, '-j', 'DROP']);
      mustIptables(['-A', chain, '-d', isolated, '-j', 'DROP']);
      mustIptables(['-I', 'OUTPUT', '1', '-j', chain]);
    } catch (error) {
      removeChain(chain);
      throw error;
    }
    return new Partition(isolated, chain);
  }

  private constructor(public readonly isolated: string, private readonly chain: string) {}

  /** Removes every rule of the partition. */
  public heal(): void {
    removeChain(this.chain);
  }
}
