import * as path from 'path';
import { formatClusterResults, runClusterChecks, writeClusterResults } from './cluster-suite';
import { FULL_PROFILE } from './config';
import { removeFaultsChain } from './partition';
import { formatResults, writeResults } from './report';
import { runFaultSuite } from './suite';

/**
 * `npm run faults`: the fault suite with the full number of trials on fleets started from the
 * synthesized Docker output; prints the tables and writes results/faults.json. Exits non-zero
 * when a target is missed (the JSON is written either way: a missed target is a finding).
 */

// Ctrl-C or a kill ends the run through `exit`, whose handlers stop every server and remove the
// partition rules.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => process.exit(130));

/** `npm run faults` runs every check; `npm run faults -- cluster` only the cluster-mode ones. */
async function main(only: string | undefined): Promise<number> {
  if (only !== undefined && only !== 'cluster') throw new Error(`npm run faults takes no argument or \`cluster\`, got: ${only}`);
  const root = path.resolve(__dirname, '..', '..');
  let pass = true;
  if (only === undefined) {
    const results = await runFaultSuite(FULL_PROFILE, (line) => console.log(line));
    console.log(formatResults(results));
    console.log(`\nwrote ${path.relative(process.cwd(), writeResults(root, results))}`);
    pass &&= results.pass;
  }
  const cluster = await runClusterChecks(FULL_PROFILE, (line) => console.log(line));
  console.log(formatClusterResults(cluster));
  console.log(`\nwrote ${path.relative(process.cwd(), writeClusterResults(root, cluster))}`);
  return pass && cluster.pass ? 0 : 1;
}

main(process.argv[2]).then(
  (code) => {
    removeFaultsChain();
    process.exit(code);
  },
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
