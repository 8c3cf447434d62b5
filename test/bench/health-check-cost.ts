import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { HealthCheckCostResults, HealthCheckServiceCost } from './results';
import { round, runStandalone } from './standalone';
import { agentScript } from '../../src/core/agent-script';
import { NodeService } from '../../src/core/topology';
import { Fleet } from '../integ/support/fleet';
import { memcachedPlan, REDIS_7_0, replicationGroupPlan } from '../integ/support/plans';

/**
 * The Docker flavor's container health check: its CPU per call and per hour per node, with real
 * servers, for a primary, a replica (its link up), a sentinel and a Memcached node.
 *
 * Each node's bundle directory holds the agent as the flavor ships it (agentScript()), and the
 * health check's command runs as the container runs it (`cachefleet-launch health <service>`, the
 * launcher exec'ing the agent, the docker platform) CALLS times in a row from one shell, which then
 * prints its children's CPU time (`times`: user + system of every process it waited for, from the
 * kernel's accounting, not wall time). The former check (`env CACHEFLEET_READY_TIMEOUT=2
 * cachefleet-launch wait-ready <service>`) is measured the same way, for comparison. Docker's own
 * work for an exec (runc, the shim) is not counted by either.
 */

/** The loopback addresses (the benchmarks' range is 127.0.0.141-149; run after the agent cost, which uses 145-147). */
export const HEALTH_CHECK_ADDRESSES = { group: ['127.0.0.145', '127.0.0.146', '127.0.0.147'], memcached: '127.0.0.148' };
/** The health check's interval, seconds (src/docker/private/fleet.ts: `interval: '5s'`). */
export const HEALTH_CHECK_INTERVAL_SECONDS = 5;
/** Calls measured per service and command. */
const CALLS = 200;
/** The launcher, run by its interpreter as its `#!/bin/sh` line has the kernel do (the source file is not executable; the upload is). */
const LAUNCHER = ['/bin/sh', path.resolve(__dirname, '../../src/agent/docker/launch.sh')];

/** The CPU-seconds of `calls` runs of a command, from the shell that ran them (its children's times). */
function childrenCpuSeconds(command: string[], env: NodeJS.ProcessEnv, calls: number): { cpu: number; failures: number; lastError: string } {
  // The count comes in the environment: the arguments are the command.
  const runner = [
    'fail=0',
    'i=0',
    'while [ "$i" -lt "$CALLS" ]; do',
    '  if ! "$@" >/dev/null 2>"$ERR_FILE"; then fail=$((fail + 1)); fi',
    '  i=$((i + 1))',
    'done',
    'echo "failures $fail"',
    'times',
  ].join('\n');
  const errFile = path.join(env.TMPDIR ?? '/tmp', 'health-check-cost.err');
  const result = spawnSync('/bin/sh', ['-c', runner, 'sh', ...command], { env: { ...env, CALLS: String(calls), ERR_FILE: errFile }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`the measuring shell failed (${result.status}): ${result.stderr}`);
  const lines = result.stdout.trim().split('\n');
  const failures = Number(/^failures (\d+)$/.exec(lines[0])?.[1]);
  // `times`: the shell's own user and system time, then its children's: "0m0.120000s 0m0.080000s".
  const seconds = (text: string) => [...text.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
  return { cpu: seconds(lines[lines.length - 1]), failures, lastError: fs.existsSync(errFile) ? fs.readFileSync(errFile, 'utf8').trim() : '' };
}

/** Puts the agent as shipped into each slot's bundle directory: the launcher runs it from there. */
function shipAgent(fleet: Fleet): void {
  for (const slot of fleet.plan.slots) {
    fs.writeFileSync(path.join(fleet.dirs(slot).config, 'cachefleet-node'), agentScript(), { mode: 0o755 });
  }
}

export async function measureHealthCheckCost(log: (line: string) => void): Promise<HealthCheckCostResults> {
  const group = Fleet.create({ plan: replicationGroupPlan('bench-health', REDIS_7_0.engine, HEALTH_CHECK_ADDRESSES.group), label: 'bench-health' });
  const cache = Fleet.create({ plan: memcachedPlan('bench-health-mc', [HEALTH_CHECK_ADDRESSES.memcached]), label: 'bench-health-mc' });
  try {
    shipAgent(group);
    shipAgent(cache);
    group.startAll();
    cache.startAll();
    await group.waitAllReady(30);
    await cache.waitAllReady(30);
    const callsPerHour = 3600 / HEALTH_CHECK_INTERVAL_SECONDS;
    const cases: Array<{ id: string; fleet: Fleet; slot: string; service: NodeService }> = [
      { id: 'primary', fleet: group, slot: 'node-0', service: 'redis' },
      { id: 'replica', fleet: group, slot: 'node-1', service: 'redis' },
      { id: 'sentinel', fleet: group, slot: 'node-0', service: 'sentinel' },
      { id: 'memcached', fleet: cache, slot: 'node-0', service: 'memcached' },
    ];
    log(`Health check cost: ${CALLS} calls each of the health check and of the former wait-ready check, for ${cases.map((c) => c.id).join(', ')}`);
    const services: HealthCheckServiceCost[] = [];
    for (const c of cases) {
      const env = { ...c.fleet.env(c.slot), CACHEFLEET_PLATFORM: 'docker', CACHEFLEET_FLEET_DIR: path.join(c.fleet.root, 'fleet') };
      const health = childrenCpuSeconds([...LAUNCHER, 'health', c.service], env, CALLS);
      if (health.failures > 0) throw new Error(`${c.id}: ${health.failures} of ${CALLS} health checks failed, the last: ${health.lastError}`);
      const former = childrenCpuSeconds(['env', 'CACHEFLEET_READY_TIMEOUT=2', ...LAUNCHER, 'wait-ready', c.service], env, CALLS);
      if (former.failures > 0) throw new Error(`${c.id}: ${former.failures} of ${CALLS} wait-ready checks failed, the last: ${former.lastError}`);
      const perCall = health.cpu / CALLS;
      const formerPerCall = former.cpu / CALLS;
      services.push({
        id: c.id,
        calls: CALLS,
        cpuMillisecondsPerCall: round(perCall * 1000),
        cpuSecondsPerHourPerNode: round(perCall * callsPerHour),
        formerCpuMillisecondsPerCall: round(formerPerCall * 1000),
        formerCpuSecondsPerHourPerNode: round(formerPerCall * callsPerHour),
      });
      log(`  ${c.id}: ${round(perCall * 1000)} ms a call, ${round(perCall * callsPerHour)} CPU-s an hour (wait-ready: ${round(formerPerCall * 1000)} ms, ${round(formerPerCall * callsPerHour)} CPU-s)`);
    }
    return {
      method:
        `the health check's command as the container runs it (cachefleet-launch health <service>, the agent as shipped, docker platform) ${CALLS} times in a row ` +
        'from one shell, whose children\'s CPU time (`times`: user + system) is divided by the calls; a 1 + 2 Redis 7.0 replication group (sentinels beside the data nodes) ' +
        `on ${HEALTH_CHECK_ADDRESSES.group.join(', ')} and a Memcached node on ${HEALTH_CHECK_ADDRESSES.memcached}; the former check (wait-ready) measured the same way`,
      intervalSeconds: HEALTH_CHECK_INTERVAL_SECONDS,
      callsPerHour,
      services,
      maxCpuSecondsPerHourPerNode: Math.max(...services.map((s) => s.cpuSecondsPerHourPerNode)),
    };
  } finally {
    await group.dispose();
    await cache.dispose();
  }
}

if (require.main === module) runStandalone(measureHealthCheckCost);
