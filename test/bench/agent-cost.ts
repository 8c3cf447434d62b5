import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { AgentCostResults, AgentActivityCost } from './results';
import { round, runStandalone } from './standalone';
import { METRICS_NAMESPACE, NODE_METRICS } from '../../src/aws/private/boot-scripts';
import { AwsEmulator } from '../integ/support/aws-emulator';
import { AGENT, Fleet } from '../integ/support/fleet';
import { REDIS_7_0, replicationGroupPlan } from '../integ/support/plans';
import { runCommand } from '../integ/support/processes';

/**
 * The node agent's own steady-state cost on the aws platform: an hour of a node's timer runs, with
 * real servers and real AWS calls (curl's and the CLI's) against moto.
 *
 * A 1 + 2 replication group (Redis 7.0, 3 sentinels) runs on 127.0.0.145-147. For a simulated hour,
 * every node runs what its timers run (`cachefleet-node reconcile` and `cachefleet-node metrics`,
 * at the periods aws/units.sh gives their timers), with the aws platform: instance metadata from a
 * stand-in on 127.0.0.1 (IMDSv2 tokens), the AWS calls (the agent's own, signed by curl, and the
 * CLI's) against moto_server behind the strict layer of test/integ/support/aws-emulator.ts, which
 * counts them and checks their signatures, the records and the zone created there as the template
 * names them. The clock the agent reads (`date +%s`) is the simulated one (a `date` on PATH that
 * prints it and runs the real date for anything else), so the verification rounds and the
 * metrics batches follow the hour; nothing else is simulated. Each run's CPU time is that of the
 * agent and every process it started (`/usr/bin/time`: user + system of the process and its
 * waited-for descendants), summed. The termination watch (`aws/lifecycle.sh`, a loop with its
 * own sleep, LIFECYCLE_POLL_SECONDS) runs for real for a minute and is extrapolated to the hour.
 */

/** The loopback addresses of the group (the benchmarks' range is 127.0.0.141-149). */
export const AGENT_COST_ADDRESSES = ['127.0.0.145', '127.0.0.146', '127.0.0.147'];
const SIMULATED_MINUTES = 60;
const AGENT_AWS_DIR = path.resolve(__dirname, '../../src/agent/aws');

/** A period the node's programs set: the number the pattern captures in the file. */
function periodIn(file: string, pattern: RegExp): number {
  const match = pattern.exec(fs.readFileSync(path.join(AGENT_AWS_DIR, file), 'utf8'));
  if (!match) throw new Error(`no ${pattern} in src/agent/aws/${file}`);
  return Number(match[1]);
}

/** The timers' periods, as aws/units.sh writes them. */
const RECONCILE_PERIOD_SECONDS = periodIn('units.sh', /^\s*timer cachefleet-reconcile (\d+)$/m);
const METRICS_PERIOD_SECONDS = periodIn('units.sh', /^\s*timer cachefleet-metrics (\d+)$/m);
const LIFECYCLE_WATCH_SECONDS = 60;
/** `aws/lifecycle.sh`'s poll (its CACHEFLEET_LIFECYCLE_POLL default). */
const LIFECYCLE_POLL_SECONDS = periodIn('lifecycle.sh', /CACHEFLEET_LIFECYCLE_POLL:-(\d+)/);
/** Route 53's limit on requests per second per account. */
export const ROUTE53_REQUESTS_PER_SECOND = 5;
/** The number of fleets the quota is checked with. */
export const QUOTA_FLEETS = 50;

interface Imds {
  readonly url: string;
  close(): Promise<void>;
}

/** Instance metadata for each node under /<slot>/latest/..., IMDSv2 only (a PUT token first). */
async function startImds(instances: Record<string, { instanceId: string; tags: Record<string, string> }>): Promise<Imds> {
  const tokens = new Set<string>();
  const server = http.createServer((request, response) => {
    const match = /^\/([^/]+)\/latest\/(.*)$/.exec(request.url ?? '');
    const instance = match ? instances[match[1]] : undefined;
    const answer = (status: number, body = '') => {
      response.writeHead(status, { 'Content-Type': 'text/plain' });
      response.end(body);
    };
    if (!match || !instance) return answer(404);
    if (request.method === 'PUT' && match[2] === 'api/token') {
      const token = `token-${tokens.size}-${Date.now()}`;
      tokens.add(token);
      return answer(200, token);
    }
    if (!tokens.has(String(request.headers['x-aws-ec2-metadata-token'] ?? ''))) return answer(401);
    const item = match[2];
    if (item === 'meta-data/instance-id') return answer(200, instance.instanceId);
    if (item === 'meta-data/placement/region') return answer(200, 'eu-west-1');
    if (item === 'meta-data/autoscaling/target-lifecycle-state') return answer(200, 'InService');
    const tag = /^meta-data\/tags\/instance\/(.+)$/.exec(item);
    if (tag && instance.tags[tag[1]] !== undefined) return answer(200, instance.tags[tag[1]]);
    return answer(404);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * The program put first on the agent's PATH: `date` prints the simulated clock for `+%s` (a shell
 * and a `read`, about what date itself costs) and runs the real date for anything else.
 */
function writeClock(dir: string, clockFile: string): void {
  const realDate = spawnSync('sh', ['-c', 'command -v date']).stdout.toString().trim();
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'date'), [
    '#!/bin/sh',
    `if [ "$*" = +%s ]; then read -r clock <'${clockFile}' && echo "$clock" && exit 0; fi`,
    `exec '${realDate}' "$@"`,
    '',
  ].join('\n'), { mode: 0o755 });
}

interface RunCost {
  readonly cpu: number;
  readonly code: number | null;
  readonly stderr: string;
}

/**
 * Runs a command to its end and returns its CPU seconds (user + system, with its descendants).
 * Asynchronously: the instance-metadata stand-in and the strict layer answer from this process.
 */
async function cpuSecondsOf(command: string, args: string[], env: NodeJS.ProcessEnv, timeFile: string): Promise<RunCost> {
  const result = await runCommand('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, command, ...args], { env, timeoutMs: 120_000 });
  const [user, system] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { cpu: user + system, code: result.code, stderr: result.stderr };
}

export async function measureAgentCost(log: (line: string) => void): Promise<AgentCostResults> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-agent-cost-'));
  const plan = replicationGroupPlan('bench-agent', REDIS_7_0.engine, AGENT_COST_ADDRESSES);
  const fleet = Fleet.create({ plan, label: 'bench-agent' });
  let emulator: AwsEmulator | undefined;
  let imds: Imds | undefined;
  try {
    fleet.startAll();
    await fleet.waitAllReady(30);
    emulator = await AwsEmulator.start(path.join(root, 'moto'));

    // The zone and records as the template makes them: a node record per slot, primary and reader.
    const domain = `${plan.name}.cachefleet.internal`;
    const zone = await emulator.api('route53', 'create_hosted_zone', { Name: 'cachefleet.internal', CallerReference: `bench-${Date.now()}` });
    const zoneId = String(zone.HostedZone.Id).replace(/^\/hostedzone\//, '');
    const primary = plan.slots.find((slot) => slot.role === 'primary')!;
    const replicas = plan.slots.filter((slot) => slot.role === 'replica').map((slot) => slot.address).sort();
    const record = (name: string, values: string[]) => ({
      Action: 'UPSERT',
      ResourceRecordSet: { Name: name, Type: 'A', TTL: 5, ResourceRecords: values.map((Value) => ({ Value })) },
    });
    await emulator.api('route53', 'change_resource_record_sets', {
      HostedZoneId: zoneId,
      ChangeBatch: {
        Changes: [
          ...plan.slots.map((slot) => record(`${slot.name}.${domain}`, [slot.address])),
          record(`primary.${domain}`, [primary.address]),
          record(`replicas.${domain}`, replicas),
        ],
      },
    });

    const instances: Record<string, { instanceId: string; tags: Record<string, string> }> = {};
    plan.slots.forEach((slot, i) => {
      instances[slot.name] = {
        instanceId: `i-0bench00000000000${i}`,
        tags: {
          'cachefleet:slot': slot.name,
          'cachefleet:fleet': plan.name,
          'cachefleet:hosted-zone-id': zoneId,
          'cachefleet:primary-record': `primary.${domain}`,
          'cachefleet:reader-record': `replicas.${domain}`,
        },
      };
    });
    imds = await startImds(instances);

    const bin = path.join(root, 'bin');
    const clockFile = path.join(root, 'clock');
    const timeFile = path.join(root, 'time');
    writeClock(bin, clockFile);
    const envOf = (slot: string): NodeJS.ProcessEnv => ({
      ...fleet.env(slot),
      ...emulator!.cliEnv(),
      AWS_DEFAULT_REGION: 'eu-west-1',
      PATH: `${bin}:${process.env.PATH}`,
      CACHEFLEET_PLATFORM: 'aws',
      CACHEFLEET_METADATA_URL: `${imds!.url}/${slot}`,
    });

    // A past hour, so that CloudWatch takes every timestamp: its first minute starts a round for
    // every slot count.
    const start = Math.floor(Date.now() / 1000 / 3600) * 3600 - 3600;
    const activity = {
      reconcile: { runs: 0, cpu: 0, failures: [] as string[] },
      metrics: { runs: 0, cpu: 0, failures: [] as string[] },
    };
    log(`Agent cost: ${SIMULATED_MINUTES} simulated minutes of ${plan.slots.length} nodes' timers (reconcile every ${RECONCILE_PERIOD_SECONDS} s, metrics every ${METRICS_PERIOD_SECONDS} s)`);

    // The termination watch runs for real meanwhile, with its own period.
    const lifecycleScript = path.resolve(__dirname, '../../src/agent/aws/lifecycle.sh');
    const lifecycleTime = path.join(root, 'lifecycle-time');
    const lifecycle = spawn('/usr/bin/time', ['-f', '%U %S', '-o', lifecycleTime, lifecycleScript], {
      env: envOf(primary.name),
      stdio: 'ignore',
      detached: true,
    });
    const lifecycleStarted = Date.now();

    const callsBefore = emulator.calls.length;
    const step = Math.min(RECONCILE_PERIOD_SECONDS, METRICS_PERIOD_SECONDS);
    for (let second = 0; second < SIMULATED_MINUTES * 60; second += step) {
      fs.writeFileSync(clockFile, `${start + second}\n`);
      for (const slot of plan.slots) {
        if (second % RECONCILE_PERIOD_SECONDS === 0) {
          const run = await cpuSecondsOf(AGENT, ['reconcile'], envOf(slot.name), timeFile);
          activity.reconcile.runs++;
          activity.reconcile.cpu += run.cpu;
          if (run.code !== 0) activity.reconcile.failures.push(`${slot.name} at +${second}s: ${run.stderr.trim().split('\n').pop()}`);
        }
        if (second % METRICS_PERIOD_SECONDS === 0) {
          const metrics = await cpuSecondsOf(AGENT, ['metrics'], envOf(slot.name), timeFile);
          activity.metrics.runs++;
          activity.metrics.cpu += metrics.cpu;
          if (metrics.code !== 0) activity.metrics.failures.push(`${slot.name} at +${second}s: ${metrics.stderr.trim().split('\n').pop()}`);
        }
      }
      if (second % 600 === 0) log(`  simulated minute ${second / 60}`);
    }

    const waitMs = LIFECYCLE_WATCH_SECONDS * 1000 - (Date.now() - lifecycleStarted);
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    const lifecycleSeconds = (Date.now() - lifecycleStarted) / 1000;
    const lifecycleDone = new Promise((resolve) => lifecycle.on('close', resolve));
    // The watch's shell is /usr/bin/time's child; TERM ends the loop, time still writes its figures.
    spawnSync('pkill', ['-TERM', '-P', String(lifecycle.pid)]);
    await lifecycleDone;
    const [lcUser, lcSystem] = fs.readFileSync(lifecycleTime, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    const lifecycleCpu = lcUser + lcSystem;

    for (const [id, a] of Object.entries(activity)) {
      if (a.failures.length > 0) throw new Error(`${a.failures.length} ${id} runs failed, first: ${a.failures[0]}`);
    }

    // What CloudWatch holds: every metric the construct reads, under the fleet's dimension.
    const published = await emulator.api('cloudwatch', 'list_metrics', { Namespace: METRICS_NAMESPACE });
    const names = new Set<string>((published.Metrics ?? []).filter((m: any) => m.Dimensions?.length === 1 && m.Dimensions[0].Name === 'Fleet').map((m: any) => m.MetricName));
    // BackupFailed comes only from a node that took a scheduled backup: this fleet takes none.
    const missing = Object.values(NODE_METRICS).filter((name) => name !== NODE_METRICS.backupFailed && !names.has(name));
    if (missing.length > 0) throw new Error(`CloudWatch has no ${missing.join(', ')} for the fleet (it has ${[...names].join(', ')})`);
    const cpuPoints = await emulator.api('cloudwatch', 'get_metric_statistics', {
      Namespace: METRICS_NAMESPACE,
      MetricName: NODE_METRICS.cpuUtilization,
      Dimensions: [{ Name: 'Fleet', Value: plan.name }],
      StartTime: new Date(start * 1000),
      EndTime: new Date((start + SIMULATED_MINUTES * 60) * 1000),
      Period: 60,
      Statistics: ['SampleCount'],
    });

    // What reached the strict layer during the hour (the setup above called moto directly).
    const calls = emulator.calls.slice(callsBefore);
    const callsByOperation: Record<string, number> = {};
    for (const call of calls) callsByOperation[call] = (callsByOperation[call] ?? 0) + 1;
    const route53Calls = calls.filter((call) => call.startsWith('route53 ')).length;

    const nodes = plan.slots.length;
    const hours = SIMULATED_MINUTES / 60;
    const perNodeHour = (cpu: number) => cpu / nodes / hours;
    const activities: AgentActivityCost[] = [
      {
        id: 'reconcile',
        description: `\`cachefleet-node reconcile\` (its timer: every ${RECONCILE_PERIOD_SECONDS} s; Sentinel's events, none at steady state, add runs)`,
        periodSeconds: RECONCILE_PERIOD_SECONDS,
        runs: activity.reconcile.runs,
        cpuSeconds: round(activity.reconcile.cpu),
        cpuSecondsPerHourPerNode: round(perNodeHour(activity.reconcile.cpu)),
      },
      {
        id: 'metrics',
        description: `\`cachefleet-node metrics\` (its timer: every ${METRICS_PERIOD_SECONDS} s; one CloudWatch call, signed by curl, every 5)`,
        periodSeconds: METRICS_PERIOD_SECONDS,
        runs: activity.metrics.runs,
        cpuSeconds: round(activity.metrics.cpu),
        cpuSecondsPerHourPerNode: round(perNodeHour(activity.metrics.cpu)),
      },
      {
        id: 'lifecycle-watch',
        description: `\`aws/lifecycle.sh\` (one instance-metadata read every ${LIFECYCLE_POLL_SECONDS} s, one token for hours; `
          + 'measured for real time, extrapolated)',
        periodSeconds: LIFECYCLE_POLL_SECONDS,
        runs: Math.round(lifecycleSeconds / LIFECYCLE_POLL_SECONDS),
        cpuSeconds: round(lifecycleCpu),
        cpuSecondsPerHourPerNode: round((lifecycleCpu * 3600) / lifecycleSeconds),
      },
    ];
    const cpuPerHour = activities.reduce((sum, a) => sum + a.cpuSecondsPerHourPerNode, 0);
    const route53PerMinute = route53Calls / SIMULATED_MINUTES;
    return {
      method:
        `a 1 + 2 replication group (Redis 7.0, 3 sentinels) on ${AGENT_COST_ADDRESSES.join(', ')}; ${SIMULATED_MINUTES} simulated minutes of every node's timer runs ` +
        '(the agent reads a simulated clock), aws platform: its AWS calls (signed by curl) against moto_server behind the strict layer, instance metadata from a stand-in; ' +
        'CPU = user + system of each run and its descendants (/usr/bin/time); the termination watch runs for real and is extrapolated by its period',
      simulatedMinutes: SIMULATED_MINUTES,
      nodes,
      activities,
      cpuSecondsPerHourPerNode: round(cpuPerHour),
      awsCallsByOperation: callsByOperation,
      awsCallsPerMinutePerFleet: round(calls.length / SIMULATED_MINUTES),
      route53CallsPerMinutePerFleet: round(route53PerMinute),
      route53QuotaFleets: QUOTA_FLEETS,
      route53RequestsPerSecondWithQuotaFleets: round((route53PerMinute * QUOTA_FLEETS) / 60),
      route53QuotaRequestsPerSecond: ROUTE53_REQUESTS_PER_SECOND,
      cloudWatchMinutesWithFleetCpu: (cpuPoints.Datapoints ?? []).length,
    };
  } finally {
    await imds?.close();
    await emulator?.stop();
    await fleet.dispose();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (require.main === module) runStandalone(measureAgentCost);
