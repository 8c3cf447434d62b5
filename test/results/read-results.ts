import * as fs from 'fs';
import * as path from 'path';
import { BenchResults } from '../bench/results';
import { ClusterFaultResults } from '../faults/cluster';
import { FaultResults } from '../faults/results';

export const ROOT = path.resolve(__dirname, '../..');

/** The committed results of the last full fault runs (the cluster checks in a file of their own) and benchmark run. */
export function readResults(): { faults: FaultResults; bench: BenchResults; cluster: ClusterFaultResults } {
  const read = (name: string) => JSON.parse(fs.readFileSync(path.join(ROOT, 'results', name), 'utf8'));
  return { faults: read('faults.json'), bench: read('bench.json'), cluster: read('cluster-faults.json') };
}
