import * as fs from 'fs';
import * as path from 'path';
import { renderFailoverChart } from './failover-chart';
import { readResults, ROOT } from './read-results';
import { CHART_PATH, renderResultsSection, RESULTS_END, RESULTS_START } from './readme-section';

/** The README's figures are the committed JSON's: regenerate with `npx projen results` after a run. */
describe('README results', () => {
  const { faults, bench, cluster: clusterFaults } = readResults();

  test('the committed fault results come from a full run: at least 20 crash trials per engine and setting', () => {
    expect(faults.mode).toBe('full');
    expect(faults.failover.length).toBeGreaterThan(0);
    for (const engine of faults.failover) expect(engine.trials.length).toBeGreaterThanOrEqual(20);
  });

  test('the committed run covers both detection settings, each with crash, stall and host-loss figures for both engines', () => {
    const settings = faults.detectionSettings.map((s) => s.detection);
    expect(settings).toEqual(['STALL_TOLERANT', 'FAST']);
    for (const detection of settings) {
      for (const engine of ['Redis 7.0', 'Valkey 8.0']) {
        const of = (runs: Array<{ engine: string; detection: string }>) => runs.filter((r) => r.engine === engine && r.detection === detection);
        expect(of(faults.failover)).toHaveLength(1);
        expect(of(faults.stall)).toHaveLength(1);
        expect(of(faults.hostLoss)).toHaveLength(1);
        expect(of(faults.stall)[0]).toMatchObject({ stallSeconds: 2 });
        expect(faults.stall.find((r) => r.engine === engine && r.detection === detection)!.trials.length).toBeGreaterThanOrEqual(10);
      }
    }
  });

  test('the section shows the stall and host-loss figures of every setting', () => {
    const section = renderResultsSection(faults, bench, clusterFaults);
    for (const run of [...faults.stall, ...faults.hostLoss]) {
      expect(section).toContain(`| ${run.engine} | ${run.detection} (${run.downAfterMillis / 1000} s) |`);
    }
  });

  test('the committed bench has the cluster row: 3 shards / 1 shard from interleaved rounds, every shard loaded, the CPUs beside it', () => {
    const cluster = bench.cluster!;
    expect(cluster).toBeDefined();
    const one = cluster.configurations.find((c) => c.id === 'one-shard')!;
    const three = cluster.configurations.find((c) => c.id === 'three-shards')!;
    expect([one.shards, three.shards]).toEqual([1, 3]);
    expect(one.slotRanges).toEqual(['0-16383']);
    expect(three.slotRanges).toHaveLength(3);
    for (const c of [one, three]) {
      expect(c.samplesSet).toHaveLength(cluster.rounds);
      expect(c.setCallsPerMaster).toHaveLength(c.shards);
    }
    expect(cluster.rounds).toBeGreaterThanOrEqual(5);
    expect(three.benchmarkCommand).toContain('--cluster');
    expect(one.benchmarkCommand).not.toContain('--cluster');
    // Every master took its part of the load: the keys spread over the shards.
    for (const calls of three.setCallsPerMaster) expect(calls).toBeGreaterThan(Math.min(...three.setCallsPerMaster) / 2);
    expect(Math.min(...three.setCallsPerMaster)).toBeGreaterThan(0);
    expect(cluster.setRatio).toBeCloseTo(three.medianSet / one.medianSet, 3);
    expect(cluster.cpuCount).toBeGreaterThan(0);

    const section = renderResultsSection(faults, bench, clusterFaults);
    expect(section).toContain(`| aggregate SET ops/s, 3-shard cluster / 1 shard (${cluster.engine}, ${cluster.date.slice(0, 10)}) | ${cluster.setRatio.toFixed(3)} | none | bound by the ${cluster.cpuCount} CPUs |`);
    expect(section).toContain(`This machine has ${cluster.cpuCount} CPUs`);
  });

  test('the cluster-mode fault figures: the committed run covers both engines, its targets are what the README states', () => {
    expect(clusterFaults.mode).toBe('full');
    expect(clusterFaults.crash.map((c) => c.engine)).toEqual(['Redis 7.0', 'Valkey 8.0']);
    for (const crash of clusterFaults.crash) {
      expect(crash.trials.length).toBeGreaterThanOrEqual(10);
      expect(crash.targets.p50.limit).toBe(clusterFaults.group.nodeTimeoutMillis / 1000 + 3);
      expect(crash.acknowledged).toBeGreaterThan(0);
    }
    for (const partition of clusterFaults.partition) expect(partition.targets.refusal.limit).toBe(clusterFaults.group.nodeTimeoutMillis / 1000 + 1);
    const section = renderResultsSection(faults, bench, clusterFaults);
    for (const crash of clusterFaults.crash) expect(section).toContain(`| ${crash.engine} | ${crash.trials.length} | ${crash.p50Seconds.toFixed(2)} s (`);
    expect(section).toContain('**Cluster mode**');
  });

  test('the section between the markers is the one rendered from results/*.json', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf(RESULTS_START);
    const end = readme.indexOf(RESULTS_END);
    expect(start).toBeGreaterThan(0);
    expect(readme.slice(start, end + RESULTS_END.length)).toBe(renderResultsSection(faults, bench, clusterFaults));
  });

  test(`${CHART_PATH} is the chart rendered from results/faults.json`, () => {
    expect(fs.readFileSync(path.join(ROOT, CHART_PATH), 'utf8')).toBe(renderFailoverChart(faults));
  });

  test('every trial of the JSON is a bar of the chart', () => {
    const chart = renderFailoverChart(faults);
    const bars = faults.failover.reduce((sum, engine) => sum + engine.trials.length, 0);
    expect(chart.match(/<rect [^>]*><title>/g)).toHaveLength(bars);
  });
});
