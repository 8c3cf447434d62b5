import { spawnSync } from 'child_process';
import * as os from 'os';

/**
 * What the fault suite's and the benchmarks' figures were measured on. Each results file keeps its
 * own fields (test/faults/results.ts, test/bench/results.ts); the readings are taken here.
 */

/** The first line a program prints for its version flag; throws when the program cannot run. */
export function versionOf(program: string, flag = '--version'): string {
  const result = spawnSync(program, [flag], { encoding: 'utf8' });
  if (result.error) throw new Error(`${program} ${flag}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${program} ${flag} exited with ${result.status ?? result.signal}`);
  return `${result.stdout}${result.stderr}`.split('\n')[0].trim();
}

/** `os.cpus()[0].model` and `os.cpus().length`. */
export function cpus(): { readonly model: string; readonly count: number } {
  const list = os.cpus();
  return { model: list[0]?.model.trim() ?? 'unknown', count: list.length };
}
