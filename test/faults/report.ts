import * as fs from 'fs';
import * as path from 'path';
import { FaultResults, Target } from './results';

/** The fault run's figures as text tables, and results/faults.json. */

function table(title: string, header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  return [`\n${title}`, line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

const verdict = (t: Target) => (t.pass ? 'pass' : 'FAIL');
const optional = (value: number | undefined) => (value === undefined ? 'never' : value.toFixed(2));

export function formatResults(r: FaultResults): string {
  const m = r.machine;
  const out: string[] = [
    `cachefleet fault run (${r.mode}), ${r.date}, ${r.durationSeconds} s`,
    `machine: ${m.cpuCount} x ${m.cpuModel}, ${m.memoryMiB} MiB, ${m.os}, node ${m.node}`,
    `load average (1/5/15 min): ${m.loadAverage.start.join(' ')} at the start, ${m.loadAverage.end.join(' ')} at the end`,
    `servers: ${m.redisServer}${m.valkeyServer ? `; ${m.valkeyServer}` : ''}; ${m.memcached}`,
    `defaults: failureDetection ${r.defaults.failureDetection}, sentinel down-after ${r.defaults.sentinelDownAfterMillis} ms, failover-timeout ${r.defaults.sentinelFailoverTimeoutMillis} ms, ` +
      `quorum ${r.defaults.sentinelQuorum}; min-replicas-to-write ${r.defaults.minReplicasToWrite}, max-lag ${r.defaults.minReplicasMaxLagSeconds} s; ${r.defaults.persistence}`,
  ];
  for (const f of r.failover) {
    out.push(table(`Crash, ${f.engine}, ${f.detection} (down-after ${f.downAfterMillis} ms): kill -9 of the primary's engine under ~1k writes/s through Sentinel`, [
      'trial', 'killed', 'promoted', 'write again after (s)', 'acked before kill', 'acked lost', 'agent exit', 'old primary rejoined (s)', 'primary after rejoin', 'writes/s',
    ], f.trials.map((t) => [
      t.trial, t.killed, t.promoted, t.failoverSeconds.toFixed(2), t.acknowledgedBeforeKill, t.acknowledgedLost, t.agentExit,
      t.rejoinedAsReplica ? `yes (${t.rejoinSeconds?.toFixed(1)})` : `NO: ${t.rejoinProblem}`,
      t.primaryAfterRejoin === t.promoted ? 'same' : `${t.primaryAfterRejoin} (second failover)`, t.writesPerSecond,
    ])));
  }
  out.push(table('Crash summary', ['engine', 'detection', 'server', 'trials', 'p50 (s)', 'max (s)', 'acked lost', 'rejoined', 'second failovers', 'targets'],
    r.failover.map((f) => [f.engine, `${f.detection} (${f.downAfterMillis} ms)`, f.server, f.trials.length, f.p50Seconds.toFixed(2), f.maxSeconds.toFixed(2), `${f.acknowledgedLost} of ${f.acknowledged}`, `${f.rejoined}/${f.trials.length}`, f.secondFailovers,
      Object.values(f.targets).map((t) => `${t.description}: ${verdict(t)}`).join('; ')])));
  for (const s of r.stall) {
    out.push(table(`Stall, ${s.engine}, ${s.detection} (down-after ${s.downAfterMillis} ms): DEBUG SLEEP ${s.stallSeconds} on the primary`,
      ['trial', 'primary', 'stall (s)', 'flagged down', 'failed over', 'primary after'],
      s.trials.map((t) => [t.trial, t.primary, t.stallSeconds.toFixed(2), t.flaggedDown ? 'yes' : 'no', t.failedOver ? 'YES' : 'no', t.primaryAfter])));
  }
  out.push(table('Stall summary', ['engine', 'detection', 'trials', 'failovers', 'target'],
    r.stall.map((s) => [s.engine, `${s.detection} (${s.downAfterMillis} ms)`, s.trials.length, s.failovers, s.targets.failovers ? `${s.targets.failovers.description}: ${verdict(s.targets.failovers)}` : 'reported'])));
  out.push(table('Host loss: every process of the primary\'s node and a sentinel killed, or its traffic dropped', ['engine', 'detection', 'trial', 'kind', 'lost', 'promoted', 'write again after (s)'],
    r.hostLoss.flatMap((h) => h.trials.map((t) => [h.engine, `${h.detection} (${h.downAfterMillis} ms)`, t.trial, t.kind, t.lost, t.promoted, t.failoverSeconds.toFixed(2)]))));
  out.push(table('Host loss summary', ['engine', 'detection', 'p50 (s)', 'max (s)', 'target'],
    r.hostLoss.map((h) => [h.engine, `${h.detection} (${h.downAfterMillis} ms)`, h.p50Seconds.toFixed(2), h.maxSeconds.toFixed(2), `${h.targets.max.description}: ${verdict(h.targets.max)}`])));
  out.push(table('Split brain: primary cut off from replicas and sentinels, one writer still reaching it', ['engine', 'min-replicas-to-write', 'partition (s)', 'refused after (s)', 'last accepted at (s)', 'accepted during', 'acked lost', 'new primary after (s)', 'old primary demoted'],
    r.splitBrain.flatMap((s) => [s.withMinReplicas, s.withoutMinReplicas].map((run) => [s.engine, `${run.minReplicasToWrite} (max-lag ${run.minReplicasMaxLag} s)`, run.partitionSeconds, optional(run.refusedAfterSeconds),
      run.lastAcceptedAfterSeconds.toFixed(2), `${run.acknowledgedDuringPartition} of ${run.attemptedDuringPartition}`, run.acknowledgedLost, optional(run.newPrimaryAfterSeconds), run.oldPrimaryDemoted ? 'yes' : `NO: ${run.demotionProblem}`]))));
  out.push(table('Restart with AOF: kill -9 under writes, restart', ['appendfsync', 'acked', 'lost', 'writes/s', 'target'],
    r.aof.map((a) => [a.appendfsync, a.acknowledged, a.lost, a.writesPerSecond, `${a.target.description}: ${verdict(a.target)}`])));
  const mc = r.memcached;
  out.push(table('Memcached: kill 1 of 3', ['nodes', 'keys', 'misses', 'miss share', "killed node's share", 'survivors wrong', 'targets'],
    [[mc.nodes, mc.keys, mc.misses, mc.missShare.toFixed(3), mc.expectedShare.toFixed(3), mc.survivorsWrong, Object.values(mc.targets).map((t) => `${t.description}: ${verdict(t)}`).join('; ')]]));
  const failed = [
    ...r.failover.flatMap((f) => Object.values(f.targets).filter((t) => !t.pass).map((t) => `${f.engine} ${f.detection} crash: ${t.description}`)),
    ...r.stall.flatMap((s) => Object.values(s.targets).filter((t) => t && !t.pass).map((t) => `${s.engine} ${s.detection} stall: ${t!.description}`)),
    ...r.hostLoss.flatMap((h) => Object.values(h.targets).filter((t) => !t.pass).map((t) => `${h.engine} ${h.detection} host loss: ${t.description}`)),
    ...r.splitBrain.flatMap((s) => Object.values(s.targets).filter((t) => !t.pass).map((t) => `${s.engine} split brain: ${t.description}`)),
    ...r.aof.filter((a) => !a.target.pass).map((a) => `AOF ${a.appendfsync}: ${a.target.description}`),
    ...Object.values(mc.targets).filter((t) => !t.pass).map((t) => `Memcached: ${t.description}`),
  ];
  out.push(`\n${r.pass ? 'every target met' : `targets missed:\n  ${failed.join('\n  ')}`}`);
  return out.join('\n');
}

/** Writes `results/faults.json` under `root`; returns its path. */
export function writeResults(root: string, results: FaultResults): string {
  const file = path.join(root, 'results', 'faults.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
