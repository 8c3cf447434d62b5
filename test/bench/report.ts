import { BackupCostResults, BenchResults, ClusterThroughputResults } from './results';

/** The figures of a run as plain-text tables. */
export function formatReport(results: BenchResults): string {
  const { machine, throughput, synth } = results;
  const lines: string[] = [];
  lines.push(`Machine: ${machine.cpuCount} x ${machine.cpuModel}, ${(machine.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB, ${machine.os}, node ${machine.nodeVersion}`);
  lines.push(`         ${machine.redisServerVersion}`);
  lines.push('');
  lines.push(`Throughput, ops/s (median of ${throughput.rounds}): ${throughput.benchmarkCommand}`);
  lines.push(table(
    ['configuration', 'SET', 'GET', 'SET samples'],
    throughput.configurations.map((c) => [c.id, c.median.SET.toFixed(0), c.median.GET.toFixed(0), c.samples.SET.map((v) => v.toFixed(0)).join(' ')]),
  ));
  lines.push(table(
    ['ratio', 'SET', 'GET'],
    throughput.ratios.map((r) => [`${r.numerator} / ${r.denominator}`, r.ratio.SET.toFixed(3), r.ratio.GET.toFixed(3)]),
  ));
  lines.push('');
  lines.push(`Synth time, ms (median of ${synth.runs} after ${synth.warmUpRuns} warm-up): ${synth.layout}`);
  lines.push(table(
    ['variant', 'nodes', 'stacks', 'resources', 'median ms', 'samples'],
    synth.measurements.map((m) => [m.variant, String(m.nodes), String(m.stacks), String(m.resources), m.medianMs.toFixed(0), m.samplesMs.map((v) => v.toFixed(0)).join(' ')]),
  ));
  lines.push(`Same resources (count by type) in both variants: ${synth.sameResources ? 'yes' : 'NO'}`);
  lines.push('');
  const agent = results.agentCost;
  if (agent) {
    lines.push(`Node agent, aws platform: ${agent.simulatedMinutes} simulated minutes of a ${agent.nodes}-node group's timers`);
    lines.push(table(
      ['activity', 'period s', 'runs', 'CPU s', 'CPU s / hour / node'],
      agent.activities.map((a) => [a.id, String(a.periodSeconds), String(a.runs), a.cpuSeconds.toFixed(2), a.cpuSecondsPerHourPerNode.toFixed(2)]),
    ));
    lines.push(`Total: ${agent.cpuSecondsPerHourPerNode.toFixed(2)} CPU-seconds per hour per node (${(agent.cpuSecondsPerHourPerNode / 36).toFixed(2)} % of a core)`);
    lines.push(`AWS calls per minute per fleet: ${agent.awsCallsPerMinutePerFleet.toFixed(2)}, Route 53: ${agent.route53CallsPerMinutePerFleet.toFixed(2)} ` +
      `(${agent.route53QuotaFleets} fleets: ${agent.route53RequestsPerSecondWithQuotaFleets.toFixed(2)} requests/s of the ${agent.route53QuotaRequestsPerSecond}/s quota)`);
    lines.push(`Calls in the hour: ${Object.entries(agent.awsCallsByOperation).map(([op, n]) => `${op} ${n}`).join(', ')}`);
    lines.push('');
  }
  if (results.cluster) {
    lines.push(formatClusterReport(results.cluster));
    lines.push('');
  }
  const health = results.healthCheckCost;
  if (health) {
    lines.push(`Docker health check, every ${health.intervalSeconds} s (${health.callsPerHour} calls an hour), CPU per call and per hour per node; wait-ready, the former check, beside it`);
    lines.push(table(
      ['node', 'calls', 'ms / call', 'CPU s / hour', 'wait-ready ms / call', 'wait-ready CPU s / hour'],
      health.services.map((s) => [s.id, String(s.calls), s.cpuMillisecondsPerCall.toFixed(2), s.cpuSecondsPerHourPerNode.toFixed(2),
        s.formerCpuMillisecondsPerCall.toFixed(2), s.formerCpuSecondsPerHourPerNode.toFixed(2)]),
    ));
    lines.push('');
  }
  if (results.backup) {
    lines.push(formatBackupReport(results.backup));
    lines.push('');
  }
  lines.push('Targets');
  lines.push(table(
    ['target', 'value', 'limit', 'result'],
    results.targets.map((t) => [t.description, t.value.toFixed(3), `${t.comparison} ${t.limit}`, t.pass ? 'pass' : 'FAIL']),
  ));
  return lines.join('\n');
}

/** The cluster's throughput: both fleets' samples and the ratio, with the cores that bound it. */
export function formatClusterReport(cluster: ClusterThroughputResults): string {
  return [
    `Cluster throughput, SET ops/s (median of ${cluster.rounds}, ${cluster.engine}, persistence ${cluster.persistence}, formed by ${cluster.formedBy}; ${cluster.date})`,
    table(
      ['fleet', 'shards', 'SET', 'SET samples', 'SET calls per master'],
      cluster.configurations.map((c) => [c.id, String(c.shards), c.medianSet.toFixed(0), c.samplesSet.map((v) => v.toFixed(0)).join(' '), c.setCallsPerMaster.join(' ')]),
    ),
    ...cluster.configurations.map((c) => `  ${c.id}: ${c.benchmarkCommand}`),
    `3 shards / 1 shard: ${cluster.setRatio.toFixed(3)} on ${cluster.cpuCount} CPUs shared by every server and redis-benchmark (no target: the cores bound it); ` +
      `load average ${cluster.loadAverage.start[0]} at the start, ${cluster.loadAverage.end[0]} at the end`,
  ].join('\n');
}

/** Backup and restore: every round of both sides, the medians and ratios. */
export function formatBackupReport(backup: BackupCostResults): string {
  const { dataset: d, backup: b, restore: r, writer: w } = backup;
  return [
    `Backup (${backup.engine}, ${backup.group}; ${backup.date}): ${d.keys} keys of ${d.valueBytes} bytes, RDB ${d.rdbBytes} bytes, used_memory ${d.usedMemoryBytes}` +
      `${d.limitedBy ? ` (fewer than ${d.targetKeys}: ${d.limitedBy})` : ''}`,
    table(
      ['side', 'median s', 'samples s'],
      [
        ['cachefleet-node backup', b.agentMedianSeconds.toFixed(2), b.agent.map((t) => t.seconds.toFixed(2)).join(' ')],
        ['redis-cli --rdb', b.plainMedianSeconds.toFixed(2), b.plainSeconds.map((v) => v.toFixed(2)).join(' ')],
      ],
    ),
    `backup / plain copy: ${b.ratio.toFixed(3)}; on their own, sha256sum of the RDB ${b.sha256sumSeconds.toFixed(2)} s, cp of it ${b.cpSeconds.toFixed(2)} s`,
    table(
      ['restore', 'round', 'every key served s', 'ready s'],
      r.timings.map((t) => [t.kind, String(t.round), t.keysServedSeconds.toFixed(2), t.readySeconds.toFixed(2)]),
    ),
    table(
      ['writer window', 'round', 'SETs', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'p99 from the fork on ms'],
      w.windows.map((x) => [x.kind, String(x.round), String(x.writes), x.p50Ms.toFixed(2), x.p99Ms.toFixed(2), x.maxMs.toFixed(1), String(x.errors), x.activeP99Ms?.toFixed(2) ?? '']),
    ),
    `p99 without a backup ${w.p99NoneMs.toFixed(2)} ms, during one ${w.p99BackupMs.toFixed(2)} ms (from the replica's fork on ${w.activeP99BackupMs.toFixed(2)} ms): ${w.activeP99Ratio.toFixed(3)}; ` +
      `manifests' sourceRole: ${backup.sourceRoles.length - backup.backupsFromPrimary} of ${backup.sourceRoles.length} replica`,
  ].join('\n');
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
