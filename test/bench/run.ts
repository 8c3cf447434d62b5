/**
 * The benchmarks (`npm run bench`): server throughput with the generated configuration against
 * stock Redis and with AOF against none, a 3-shard cluster's aggregate SET throughput against 1
 * shard (cluster-throughput.ts), synth time against hand-written resources and across
 * sizes, the node agent's own steady-state cost (CPU, AWS calls; agent-cost.ts), the Docker
 * flavor's container health check (CPU per call and per hour; health-check-cost.ts) and backups (a
 * group holding about 1 GB: backup time against a plain copy, restore time, the primary's latency
 * during a backup; backup-cost.ts). The
 * throughput and synth targets are ratios measured within this run on this machine; the agent's
 * are absolute budgets. Prints a table and writes results/bench.json (see results.ts); exits 1
 * when a target fails, after writing it.
 *
 * `npm run bench -- cluster` measures only the cluster's throughput and puts it into the existing
 * results/bench.json, keeping every other figure and their date (the cluster figure has its own).
 * `npm run bench -- backup` does the same with the backup figures, and replaces the backup targets.
 */
import * as fs from 'fs';
import * as path from 'path';
import { measureAgentCost } from './agent-cost';
import { measureBackupCost } from './backup-cost';
import { measureClusterThroughput } from './cluster-throughput';
import { LAYOUT_DESCRIPTION } from './fleet-layout';
import { measureHealthCheckCost } from './health-check-cost';
import { describeMachine } from './machine';
import { formatBackupReport, formatClusterReport, formatReport } from './report';
import { BackupCostResults, BenchResults, TargetResult, ThroughputResults } from './results';
import { BenchServer, startGeneratedServer, startStockServer } from './servers';
import { measureSynth } from './synth-time';
import { target } from './targets';
import { LOAD_ARGS, measureThroughput, throughputRatio } from './throughput';
import { Persistence } from '../../src/core/persistence';

const RESULTS_FILE = path.resolve(__dirname, '../../results/bench.json');

/** The loopback addresses of the benchmark's servers (127.0.0.141-149 are the benchmarks'). */
const ADDRESSES = { stock: '127.0.0.141', generated: '127.0.0.142', generatedAof: '127.0.0.143', stockAof: '127.0.0.144' };

const THROUGHPUT_ROUNDS = 5;
const SYNTH_SIZES = [10, 30, 100];
const SYNTH_WARM_UP_RUNS = 2;
const SYNTH_RUNS = 7;

const log = (line: string) => console.log(line);
const gigabytes = (bytes: number) => (bytes / 1e9).toFixed(2);

async function main(only: string | undefined): Promise<number> {
  if (only === 'cluster') return clusterOnly();
  if (only === 'backup') return backupOnly();
  if (only !== undefined) throw new Error(`npm run bench takes no argument, \`cluster\` or \`backup\`, got: ${only}`);
  const started = new Date();
  const machine = describeMachine();

  log(`Throughput: ${THROUGHPUT_ROUNDS} rounds, servers on ${Object.values(ADDRESSES).join(', ')}`);
  const throughput = await withServers(async (servers) => {
    const run = await measureThroughput(servers, THROUGHPUT_ROUNDS, log);
    return {
      benchmarkCommand: `redis-benchmark -h <address> -p 6379 [--user app -a <password>] ${LOAD_ARGS.join(' ')}`,
      rounds: THROUGHPUT_ROUNDS,
      roundOrder: run.roundOrder,
      configurations: run.configurations,
      ratios: [
        throughputRatio('generated-vs-stock', run.configurations, 'generated', 'stock'),
        throughputRatio('aof-vs-none', run.configurations, 'generated-aof', 'generated'),
        // No target: what AOF costs Redis itself here, to tell the engine's cost from the configuration's.
        throughputRatio('stock-aof-vs-none', run.configurations, 'stock-aof', 'stock'),
      ],
    } satisfies ThroughputResults;
  });

  const cluster = await measureClusterThroughput(log);

  log(`Synth time: ${SYNTH_WARM_UP_RUNS} warm-up + ${SYNTH_RUNS} runs at ${SYNTH_SIZES.join(' / ')} nodes`);
  const synthRun = measureSynth(SYNTH_SIZES, SYNTH_WARM_UP_RUNS, SYNTH_RUNS, log);
  const synthMedian = (id: string) => synthRun.measurements.find((m) => m.id === id)!.medianMs;

  const agentCost = await measureAgentCost(log);
  const healthCheckCost = await measureHealthCheckCost(log);
  const backup = await measureBackupCost(log);

  const ratio = (id: string) => throughput.ratios.find((r) => r.id === id)!.ratio;
  const targets: TargetResult[] = [
    target('generated-vs-stock-set', 'SET ops/s, generated config / stock config', ratio('generated-vs-stock').SET, '>=', 0.95),
    target('generated-vs-stock-get', 'GET ops/s, generated config / stock config', ratio('generated-vs-stock').GET, '>=', 0.95),
    target('aof-vs-none-set', 'SET ops/s, AOF everysec / no persistence', ratio('aof-vs-none').SET, '>=', 0.85),
    target('synth-overhead-100', 'synth time of 100 nodes, cachefleet / hand-written', synthMedian('cachefleet-100') / synthMedian('hand-written-100'), '<=', 1.5),
    target('synth-linearity', 'synth time of cachefleet, 100 nodes / 10 nodes', synthMedian('cachefleet-100') / synthMedian('cachefleet-10'), '<=', 12),
    target('agent-cpu', 'node agent CPU-seconds per hour per node (aws platform, timers included)', agentCost.cpuSecondsPerHourPerNode, '<=', 36),
    target('docker-health-check-cpu', 'Docker health check CPU-seconds per hour per node (the highest of primary, replica, sentinel, memcached)',
      healthCheckCost.maxCpuSecondsPerHourPerNode, '<=', 36),
    target('agent-route53', 'Route 53 calls per minute per fleet at steady state (node agents)', agentCost.route53CallsPerMinutePerFleet, '<=', 1.2),
    target(
      'agent-route53-quota',
      `Route 53 requests per second of ${agentCost.route53QuotaFleets} fleets (the account quota: ${agentCost.route53QuotaRequestsPerSecond})`,
      agentCost.route53RequestsPerSecondWithQuotaFleets,
      '<=',
      agentCost.route53QuotaRequestsPerSecond,
    ),
    ...backupTargets(backup),
  ];

  const results: BenchResults = {
    schemaVersion: 1,
    date: started.toISOString(),
    durationSeconds: Math.round((Date.now() - started.getTime()) / 1000),
    machine,
    throughput,
    synth: {
      layout: LAYOUT_DESCRIPTION,
      method: 'wall time of constructing a fresh App and its stacks and app.synth() to a temporary directory, in one process, after a full garbage collection',
      warmUpRuns: SYNTH_WARM_UP_RUNS,
      runs: SYNTH_RUNS,
      measurements: synthRun.measurements,
      sameResources: synthRun.sameResources,
    },
    agentCost,
    healthCheckCost,
    cluster,
    backup,
    targets,
    // The synth ratios compare like with like only when both variants gave the same resources.
    passed: synthRun.sameResources && targets.every((t) => t.pass),
  };
  fs.mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  fs.writeFileSync(RESULTS_FILE, `${JSON.stringify(results, undefined, 2)}\n`);

  log('');
  log(formatReport(results));
  log('');
  log(`Wrote ${path.relative(process.cwd(), RESULTS_FILE)} (${results.durationSeconds} s)`);
  if (!synthRun.sameResources) {
    log('FAILED: the hand-written variant does not create the same resources: the synth comparison means nothing');
    return 1;
  }
  const failed = targets.filter((t) => !t.pass);
  for (const t of failed) log(`FAILED: ${t.description} = ${t.value}, the target is ${t.comparison} ${t.limit}`);
  return failed.length === 0 ? 0 : 1;
}

/** `npm run bench -- cluster`: the cluster's figure into the last full run's results/bench.json. */
async function clusterOnly(): Promise<number> {
  if (!fs.existsSync(RESULTS_FILE)) throw new Error(`${RESULTS_FILE} does not exist: run the whole benchmark (npm run bench) first`);
  const previous = JSON.parse(fs.readFileSync(RESULTS_FILE, 'utf8')) as BenchResults;
  const cluster = await measureClusterThroughput(log);
  const results: BenchResults = { ...previous, cluster };
  fs.writeFileSync(RESULTS_FILE, `${JSON.stringify(results, undefined, 2)}\n`);
  log('');
  log(formatClusterReport(cluster));
  log('');
  log(`Wrote the cluster figure into ${path.relative(process.cwd(), RESULTS_FILE)} (the other figures are the run of ${previous.date}; ${cluster.durationSeconds} s)`);
  return 0;
}

/** The backup targets: time against a plain copy, the writer's p99, every backup from a replica. */
function backupTargets(backup: BackupCostResults): TargetResult[] {
  return [
    target('backup-vs-plain-copy', `backup time into a directory, cachefleet-node backup / redis-cli --rdb from the same replica (RDB of ${gigabytes(backup.dataset.rdbBytes)} GB)`,
      backup.backup.ratio, '<=', 1.2),
    target('backup-writer-p99', 'primary\'s p99 SET latency, during a backup from the replica / without one', backup.writer.activeP99Ratio, '<=', 1.5),
    target('backup-from-primary', `backups whose manifest's sourceRole is not replica (of ${backup.sourceRoles.length})`, backup.backupsFromPrimary, '<=', 0),
  ];
}

/** `npm run bench -- backup`: the backup figures and targets into the last full run's results/bench.json. */
async function backupOnly(): Promise<number> {
  if (!fs.existsSync(RESULTS_FILE)) throw new Error(`${RESULTS_FILE} does not exist: run the whole benchmark (npm run bench) first`);
  const previous = JSON.parse(fs.readFileSync(RESULTS_FILE, 'utf8')) as BenchResults;
  const backup = await measureBackupCost(log);
  const targets = [...previous.targets.filter((t) => !t.id.startsWith('backup-')), ...backupTargets(backup)];
  const results: BenchResults = { ...previous, backup, targets, passed: previous.synth.sameResources && targets.every((t) => t.pass) };
  fs.writeFileSync(RESULTS_FILE, `${JSON.stringify(results, undefined, 2)}\n`);
  log('');
  log(formatBackupReport(backup));
  log('');
  log(`Wrote the backup figures into ${path.relative(process.cwd(), RESULTS_FILE)} (the other figures are the run of ${previous.date}; ${backup.durationSeconds} s)`);
  const failed = backupTargets(backup).filter((t) => !t.pass);
  for (const t of failed) log(`FAILED: ${t.description} = ${t.value}, the target is ${t.comparison} ${t.limit}`);
  return failed.length === 0 ? 0 : 1;
}

/** Starts the servers, runs `fn`, and stops every server that started, whatever happens. */
async function withServers<T>(fn: (servers: BenchServer[]) => Promise<T>): Promise<T> {
  const servers: BenchServer[] = [];
  try {
    servers.push(await startStockServer('stock', ADDRESSES.stock, 'none'));
    servers.push(await startGeneratedServer('generated', 'the generated configuration (node agent, AUTH), no persistence', ADDRESSES.generated, Persistence.none()));
    servers.push(await startGeneratedServer('generated-aof', 'the generated configuration (node agent, AUTH), AOF everysec', ADDRESSES.generatedAof, Persistence.aofEverySecond()));
    servers.push(await startStockServer('stock-aof', ADDRESSES.stockAof, 'aof-everysec'));
    return await fn(servers);
  } finally {
    await Promise.allSettled(servers.map((server) => server.stop()));
  }
}

// Ctrl-C or a kill: exit through process.exit so that the exit handlers stop every server.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    console.error(`${signal}: stopping the servers`);
    process.exit(130);
  });
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack ?? error.message : error);
    process.exit(2);
  },
);
