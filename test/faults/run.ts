import * as path from 'path';
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

async function main(): Promise<number> {
  const results = await runFaultSuite(FULL_PROFILE, (line) => console.log(line));
  console.log(formatResults(results));
  const file = writeResults(path.resolve(__dirname, '..', '..'), results);
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
  return results.pass ? 0 : 1;
}

main().then(
  (code) => {
    removeFaultsChain();
    process.exit(code);
  },
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
