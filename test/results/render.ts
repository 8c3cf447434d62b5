import * as fs from 'fs';
import * as path from 'path';
import { renderFailoverChart } from './failover-chart';
import { readResults, ROOT } from './read-results';
import { CHART_PATH, renderResultsSection, withResultsSection } from './readme-section';

/** `npx projen results`: the README's reliability and performance figures and the chart, from results/*.json. */
function main(): void {
  const { faults, bench, cluster } = readResults();
  const readmePath = path.join(ROOT, 'README.md');
  fs.writeFileSync(readmePath, withResultsSection(fs.readFileSync(readmePath, 'utf8'), renderResultsSection(faults, bench, cluster)));
  fs.mkdirSync(path.dirname(path.join(ROOT, CHART_PATH)), { recursive: true });
  fs.writeFileSync(path.join(ROOT, CHART_PATH), renderFailoverChart(faults));
  console.log(`wrote README.md's results section and ${CHART_PATH}`);
}

main();
