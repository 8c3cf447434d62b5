import * as fs from 'fs';
import * as path from 'path';
import { BenchResults } from '../bench/results';
import { FaultResults } from '../faults/results';

export const ROOT = path.resolve(__dirname, '../..');

/** The committed results of the last full fault run and benchmark run. */
export function readResults(): { faults: FaultResults; bench: BenchResults } {
  const read = (name: string) => JSON.parse(fs.readFileSync(path.join(ROOT, 'results', name), 'utf8'));
  return { faults: read('faults.json'), bench: read('bench.json') };
}
