import { spawn } from 'child_process';
import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import Redis from 'ioredis';
import { BackupCostResults, BackupTiming, RestoreTiming, WriterWindow } from './results';
import { REDIS_PORT } from './servers';
import { round, runStandalone } from './standalone';
import { FleetPlan, planFleet } from '../../src/core/topology';
import { validateCacheClusterOptions, validateReplicationGroupOptions } from '../../src/core/validation';
import { cli, connect, Credentials, infoFields } from '../integ/support/clients';
import { Fleet } from '../integ/support/fleet';
import { REDIS_7_0 } from '../integ/support/plans';
import { ManagedProcess, runCommand, sleep, startProcess, waitFor } from '../integ/support/processes';
import { cpus } from '../shared/machine';
import { median } from '../shared/run-stats';

/**
 * What a backup costs (`cachefleet-node backup <name>`, src/agent/lib/backup.sh) on a Sentinel
 * group of Redis 7.0, 1 primary + 1 replica, holding about 1 GB:
 *
 * - its wall time into a directory location against a plain `redis-cli --rdb <file>` copy from the
 *   same replica, alternated, several rounds; how long `sha256sum` and `cp` of that RDB take on
 *   their own, which the agent adds to the stream (its manifest's SHA-256; the copy from its
 *   temporary directory into the location);
 * - the restore: a new single node started with CACHEFLEET_RESTORE_FROM, from its start until it
 *   serves every key and its agent says it is ready, against a stock redis-server started on a copy
 *   of the same RDB;
 * - the primary's SET latency (p99, one steady writer) while a backup streams from the replica,
 *   against the same writer with no backup, alternated; every manifest's sourceRole.
 *
 * Everything shares this machine's cores and disk: on hosts of their own the replica's work would
 * not take CPU from the primary. The dataset is sized from the memory and disk free at the start.
 */

/** The group (primary, replica, third sentinel), the restored node and the stock server (127.0.0.141-149 are the benchmarks'). */
export const BACKUP_ADDRESSES = {
  group: ['127.0.0.141', '127.0.0.142', '127.0.0.143'],
  restored: '127.0.0.144',
  stock: '127.0.0.145',
} as const;

/** The dataset aimed at: 1,000,000 strings of 1,000 random characters (about 1 GB of RDB: LZF finds nothing to compress). */
export const TARGET_KEYS = 1_000_000;
export const VALUE_BYTES = 1_000;
/** CACHEFLEET_MEMORY_BYTES of every node: maxmemory is 75 % of it (1.5 GiB), the rest the replicas' buffers and forks. */
export const BACKUP_MEMORY_BYTES = 2 * 1024 ** 3;
/** What the machine keeps for everything else, whatever the dataset. */
const SPARE_MEMORY_BYTES = 4 * 1024 ** 3;
const SPARE_DISK_BYTES = 10 * 1024 ** 3;
/** Bytes per key, in memory (a 1,024-byte allocation, the key, its entry) and on disk (the RDB). */
const MEMORY_PER_KEY = 1_150;
const DISK_PER_KEY = 1_050;
/** In memory at once at the most: the primary, the replica, the restored node, with forks' copies. */
const MEMORY_COPIES = 4;
/** On disk at once at the most: two AOFs (and a rewrite), the agent's temporary copy, the location, the plain copy, the restored node's. */
const DISK_COPIES = 8;

export const BACKUP_ROUNDS = 5;
export const RESTORE_ROUNDS = 3;
export const WRITER_ROUNDS = 3;
/** The writer: SETs of 1,000-byte values on 10,000 keys, at a steady rate (the fault runs' ~1k writes/s). */
export const WRITER_RATE = 1_000;
const WRITER_KEYS = 10_000;

const KEY_PREFIX = 'bench:backup:';
const REDIS_CLI = REDIS_7_0.cli;

interface Group {
  readonly fleet: Fleet;
  readonly primary: string;
  readonly app: Required<Credentials>;
  readonly admin: Required<Credentials>;
}

/** Dataset values: slices of a random pool at offsets that differ from key to key. */
class Values {
  private readonly pool = randomBytes(96 * 1024).toString('base64');
  public of(i: number): string {
    const offset = (i * 7_919) % (this.pool.length - VALUE_BYTES);
    return this.pool.slice(offset, offset + VALUE_BYTES);
  }
}

/** The temporary directories still to remove, whatever way the process ends. */
const liveDirs = new Set<string>();
process.on('exit', () => {
  for (const dir of liveDirs) fs.rmSync(dir, { recursive: true, force: true });
});
function tempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cachefleet-bench-${label}-`));
  liveDirs.add(dir);
  return dir;
}
function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

/** MemAvailable of /proc/meminfo, bytes. */
function memoryAvailable(): number {
  const kb = /^MemAvailable:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))?.[1];
  return kb === undefined ? os.freemem() : Number(kb) * 1024;
}

/** Bytes free to an unprivileged writer on the filesystem of `dir`. */
function diskAvailable(dir: string): number {
  const stats = fs.statfsSync(dir);
  return stats.bavail * stats.bsize;
}

/** The keys that fit: TARGET_KEYS, or fewer when memory or disk is short, with why. */
export function sizeDataset(memoryBytes: number, diskBytes: number): { keys: number; limitedBy?: string } {
  const byMemory = Math.floor((memoryBytes - SPARE_MEMORY_BYTES) / (MEMORY_COPIES * MEMORY_PER_KEY));
  const byDisk = Math.floor((diskBytes - SPARE_DISK_BYTES) / (DISK_COPIES * DISK_PER_KEY));
  // maxmemory (75 % of the nodes' memory) must hold the dataset with room to spare.
  const byMaxmemory = Math.floor((BACKUP_MEMORY_BYTES * 0.75 * 0.85) / MEMORY_PER_KEY);
  const keys = Math.min(TARGET_KEYS, byMemory, byDisk, byMaxmemory);
  if (keys < 10_000) throw new Error(`too little memory (${memoryBytes} bytes available) or disk (${diskBytes} bytes) for a backup benchmark`);
  if (keys === TARGET_KEYS) return { keys };
  const limitedBy = keys === byMemory ? `memory (${gib(memoryBytes)} GiB available)` : keys === byDisk ? `disk (${gib(diskBytes)} GiB free)` : 'maxmemory';
  return { keys: Math.floor(keys / 1_000) * 1_000, limitedBy };
}
const gib = (bytes: number) => (bytes / 1024 ** 3).toFixed(1);

/** The group's plan: Redis 7.0, 1 primary + 1 replica, a sentinel on each and a third on its own slot (the planner's layout). */
function groupPlan(): FleetPlan {
  const fleet = validateReplicationGroupOptions({ engine: REDIS_7_0.engine, replicasPerShard: 1 });
  return planFleet({ name: 'bench-backup', fleet, zoneCount: 2, addressOf: (position) => BACKUP_ADDRESSES.group[position.index] });
}

/** A single node (a CacheCluster of one) of the same engine, for the restore. */
function restoredPlan(): FleetPlan {
  const fleet = validateCacheClusterOptions({ engine: REDIS_7_0.engine });
  return planFleet({ name: 'bench-restored', fleet, zoneCount: 1, addressOf: () => BACKUP_ADDRESSES.restored });
}

async function info(address: string, section: string, credentials: Credentials): Promise<Record<string, string>> {
  const result = await cli(REDIS_CLI, address, REDIS_PORT, ['info', section], credentials);
  if (result.code !== 0) throw new Error(`INFO ${section} on ${address}: ${result.stderr || result.stdout}`);
  return infoFields(result.stdout.replace(/\r?\n/g, '\r\n'));
}

/** No background save, AOF rewrite or replication fork runs on the node. */
async function waitQuiet(address: string, credentials: Credentials): Promise<void> {
  await waitFor(`${address}: no background save or rewrite`, async () => {
    const fields = await info(address, 'persistence', credentials);
    return fields.rdb_bgsave_in_progress === '0' && fields.aof_rewrite_in_progress === '0' && fields.aof_rewrite_scheduled === '0';
  }, { timeoutMs: 300_000, intervalMs: 200 });
}

async function dbsize(address: string, credentials: Credentials): Promise<number> {
  const result = await cli(REDIS_CLI, address, REDIS_PORT, ['dbsize'], credentials);
  const keys = Number(result.stdout.trim());
  if (result.code !== 0 || !Number.isInteger(keys)) throw new Error(`DBSIZE on ${address}: ${result.stderr || result.stdout}`);
  return keys;
}

/** Writes the dataset through the primary with `redis-cli --pipe` (the protocol generated here, streamed). */
async function loadDataset(group: Group, keys: number, values: Values): Promise<void> {
  const child = spawn(REDIS_CLI, ['--no-auth-warning', '-h', group.primary, '-p', String(REDIS_PORT), '--user', group.app.username, '--pipe'], {
    env: { PATH: process.env.PATH, REDISCLI_AUTH: group.app.password },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.stdin.on('error', () => undefined);
  const batch = 1_000;
  for (let from = 0; from < keys; from += batch) {
    const parts: string[] = [];
    for (let i = from; i < Math.min(keys, from + batch); i++) {
      const key = `${KEY_PREFIX}${i}`;
      parts.push(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${VALUE_BYTES}\r\n${values.of(i)}\r\n`);
    }
    if (!child.stdin.write(parts.join(''))) await new Promise((resolve) => child.stdin.once('drain', resolve));
  }
  child.stdin.end();
  const code = await exited;
  const replies = /errors: (\d+), replies: (\d+)/.exec(output);
  if (code !== 0 || !replies || replies[1] !== '0' || Number(replies[2]) !== keys) {
    throw new Error(`redis-cli --pipe into ${group.primary} failed (${code}): ${output.slice(-2_000)}`);
  }
}

/** One manifest of a backup set (the fields read here). */
interface Manifest {
  readonly keys: number;
  readonly size: number;
  readonly sha256: string;
  readonly sourceNode: string;
  readonly sourceRole: string;
}

/** `cachefleet-node backup <set>` on the primary's slot; its wall time and manifest. The set is kept. */
async function agentBackup(group: Group, location: string, set: string): Promise<{ seconds: number; manifest: Manifest }> {
  const started = performance.now();
  const result = await group.fleet.agent('node-0', ['backup', set], {}, 900_000);
  const seconds = (performance.now() - started) / 1000;
  if (result.code !== 0 || result.stdout.trim() !== `${location}/${set}`) {
    throw new Error(`cachefleet-node backup ${set} failed (${result.code ?? result.signal}): ${result.stderr}${result.stdout}`);
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(location, set, 'shard-0.json'), 'utf8')) as Manifest;
  const size = fs.statSync(path.join(location, set, 'shard-0.rdb')).size;
  if (manifest.size !== size) throw new Error(`${set}: the manifest says ${manifest.size} bytes, the RDB has ${size}`);
  return { seconds, manifest };
}

/** The plain copy: `redis-cli --rdb <file>` from the replica, as the agent's admin user. */
function plainCopyArgs(replica: string, file: string, group: Group): string[] {
  return ['--no-auth-warning', '--user', group.admin.username, '-h', replica, '-p', String(REDIS_PORT), '--rdb', file];
}
async function plainCopy(group: Group, replica: string, file: string): Promise<number> {
  const started = performance.now();
  const env = { PATH: process.env.PATH, REDISCLI_AUTH: group.admin.password };
  const result = await runCommand(REDIS_CLI, plainCopyArgs(replica, file, group), { env, timeoutMs: 900_000 });
  const seconds = (performance.now() - started) / 1000;
  if (result.code !== 0 || !/Transfer finished with success/.test(result.stdout + result.stderr)) {
    throw new Error(`redis-cli --rdb from ${replica} failed (${result.code ?? result.signal}): ${result.stderr}${result.stdout}`);
  }
  return seconds;
}

/** The wall time of a command that must succeed. */
async function timed(command: string, args: string[]): Promise<number> {
  const started = performance.now();
  const result = await runCommand(command, args, { timeoutMs: 600_000 });
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.code ?? result.signal}): ${result.stderr}`);
  return (performance.now() - started) / 1000;
}

/** SHA-256 of a file, read here (the manifest's is the agent's). */
function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    fs.createReadStream(file).on('data', (chunk) => hash.update(chunk)).on('error', reject).on('end', () => resolve(hash.digest('hex')));
  });
}

/** One SET of the writer: when it was sent (performance.now()) and how long its reply took, ms. */
interface Sample {
  readonly sentAt: number;
  readonly latencyMs: number;
}

/** A steady writer on the primary: WRITER_RATE SETs a second until `until` resolves; every reply's latency. */
async function steadyWriter(client: Redis, values: Values, until: Promise<unknown>): Promise<{ samples: Sample[]; errors: number; seconds: number }> {
  let done = false;
  void until.finally(() => (done = true));
  const samples: Sample[] = [];
  const pending: Array<Promise<void>> = [];
  let errors = 0;
  let sent = 0;
  const started = performance.now();
  while (!done) {
    const due = Math.floor(((performance.now() - started) * WRITER_RATE) / 1000);
    for (; sent < due; sent++) {
      const at = performance.now();
      pending.push(client.set(`bench:writer:${sent % WRITER_KEYS}`, values.of(sent)).then(
        () => void samples.push({ sentAt: at, latencyMs: performance.now() - at }),
        () => void errors++,
      ));
    }
    await sleep(1);
  }
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(pending);
  return { samples, errors, seconds };
}

/**
 * When the replica's fork for a backup started (performance.now()): polls its INFO persistence
 * (rdb_bgsave_in_progress) on one connection until `until` resolves. Before it, the replica only
 * waits (repl-diskless-sync-delay) for other replicas to join the transfer.
 */
async function forkStart(replica: Redis, until: Promise<unknown>): Promise<number | undefined> {
  let done = false;
  void until.finally(() => (done = true));
  while (!done) {
    const fields = infoFields(String(await replica.info('persistence')).replace(/\r?\n/g, '\r\n'));
    if (fields.rdb_bgsave_in_progress === '1') return performance.now();
    await sleep(50);
  }
  return undefined;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function window(kind: WriterWindow['kind'], roundNumber: number, run: { samples: Sample[]; errors: number; seconds: number }, forkStartedAt?: number): WriterWindow {
  const ms = (value: number) => Math.round(value * 1000) / 1000;
  const latencies = run.samples.map((s) => s.latencyMs);
  const active = forkStartedAt === undefined ? [] : run.samples.filter((s) => s.sentAt >= forkStartedAt).map((s) => s.latencyMs);
  return {
    kind,
    round: roundNumber,
    seconds: Math.round(run.seconds * 100) / 100,
    writes: latencies.length,
    errors: run.errors,
    p50Ms: ms(percentile(latencies, 50)),
    p99Ms: ms(percentile(latencies, 99)),
    maxMs: ms(Math.max(...latencies)),
    ...(kind === 'backup' ? { activeWrites: active.length, activeP99Ms: active.length > 0 ? ms(percentile(active, 99)) : undefined } : {}),
  };
}

/** Starts a node on `address` and returns the seconds until it serves `keys` keys, and until `ready` says so too. */
async function timeUntilLoaded(
  address: string, keys: number, credentials: Credentials, ready: () => Promise<void>, start: () => void,
): Promise<{ keys: number; ready: number }> {
  const started = performance.now();
  start();
  await waitFor(`${address} serving ${keys} keys`, async () => {
    let client: Redis | undefined;
    try {
      client = await connect(address, REDIS_PORT, credentials, 500);
      return (await client.dbsize()) === keys;
    } finally {
      client?.disconnect();
    }
  }, { timeoutMs: 600_000, intervalMs: 50 });
  const loaded = (performance.now() - started) / 1000;
  await ready();
  return { keys: loaded, ready: (performance.now() - started) / 1000 };
}

/** A few keys of the dataset, read from `address`, are the values written. */
async function spotCheck(address: string, credentials: Credentials, keys: number, values: Values): Promise<void> {
  const client = await connect(address, REDIS_PORT, credentials, 2_000);
  try {
    for (const i of [0, 1, Math.floor(keys / 2), keys - 1]) {
      const value = await client.get(`${KEY_PREFIX}${i}`);
      if (value !== values.of(i)) throw new Error(`${address}: ${KEY_PREFIX}${i} is not the value written`);
    }
  } finally {
    client.disconnect();
  }
}

/** Runs the three measurements and returns their figures; every process and file it made is gone when it returns. */
export async function measureBackupCost(progress: (line: string) => void, rounds = BACKUP_ROUNDS): Promise<BackupCostResults> {
  const started = new Date();
  const loadAtStart = os.loadavg().map((v) => Math.round(v * 100) / 100);
  const memoryAtStart = memoryAvailable();
  const diskAtStart = diskAvailable(os.tmpdir());
  const sized = sizeDataset(memoryAtStart, diskAtStart);
  // A smaller dataset on request (a quick trial of the benchmark itself): the results say so.
  const asked = process.env.CACHEFLEET_BENCH_BACKUP_KEYS;
  const keys = asked ? Number(asked) : sized.keys;
  const limitedBy = asked ? `CACHEFLEET_BENCH_BACKUP_KEYS=${asked}` : sized.limitedBy;
  const values = new Values();
  progress(`Backup: a Redis 7.0 group of 1 + 1 on ${BACKUP_ADDRESSES.group.join(', ')}, ${keys.toLocaleString('en-US')} keys of ${VALUE_BYTES} bytes` +
    `${limitedBy ? ` (limited by ${limitedBy})` : ''}; ${gib(memoryAtStart)} GiB memory available, ${gib(diskAtStart)} GiB disk free`);

  const location = tempDir('backups');
  const copies = tempDir('plain-copies');
  const plan = groupPlan();
  const fleet = Fleet.create({ plan, label: 'bench-backup', env: { CACHEFLEET_MEMORY_BYTES: String(BACKUP_MEMORY_BYTES), CACHEFLEET_BACKUP_LOCATION: location } });
  const group: Group = {
    fleet,
    primary: BACKUP_ADDRESSES.group[0],
    app: { username: plan.users.application, password: fleet.appPassword },
    admin: { username: plan.users.admin, password: fleet.adminPassword },
  };
  const cleanups: Array<() => Promise<void>> = [async () => fleet.dispose()];
  try {
    fleet.startAll();
    await fleet.withLogs(() => fleet.waitAllReady(120));

    // The dataset, through the primary, replicated.
    const loadStarted = performance.now();
    await loadDataset(group, keys, values);
    await waitFor('the replica holding the dataset', async () => (await dbsize(BACKUP_ADDRESSES.group[1], group.admin)) === keys, { timeoutMs: 300_000, intervalMs: 500 });
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    for (const address of BACKUP_ADDRESSES.group.slice(0, 2)) await waitQuiet(address, group.admin);
    const memory = await info(group.primary, 'memory', group.admin);
    progress(`  loaded in ${loadSeconds.toFixed(1)} s; used_memory ${memory.used_memory} bytes, maxmemory ${memory.maxmemory}`);

    // A warm-up of each, which also gives the RDB's size and its source.
    const warmUp = await agentBackup(group, location, 'bench-warm-up');
    if (warmUp.manifest.keys !== keys) throw new Error(`the warm-up backup holds ${warmUp.manifest.keys} keys, not ${keys}`);
    const agentSha = warmUp.manifest.sha256;
    const rdbFile = path.join(location, 'bench-warm-up', 'shard-0.rdb');
    if ((await sha256File(rdbFile)) !== agentSha) throw new Error('the warm-up backup\'s SHA-256 is not its manifest\'s');
    const replica = warmUp.manifest.sourceNode.replace(/:\d+$/, '');
    const rdbBytes = warmUp.manifest.size;
    // What the agent adds to the stream, each on its own, on the same file: the SHA-256 and the copy into the location.
    const sha256Seconds = await timed('sha256sum', [rdbFile]);
    const copySeconds = await timed('cp', [rdbFile, path.join(copies, 'cp-test.rdb')]);
    fs.rmSync(path.join(copies, 'cp-test.rdb'));
    removeDir(path.join(location, 'bench-warm-up'));
    await waitQuiet(replica, group.admin);
    await plainCopy(group, replica, path.join(copies, 'warm-up.rdb'));
    fs.rmSync(path.join(copies, 'warm-up.rdb'));
    progress(`  RDB ${rdbBytes} bytes from ${warmUp.manifest.sourceNode} (${warmUp.manifest.sourceRole}); sha256sum ${sha256Seconds.toFixed(2)} s, cp ${copySeconds.toFixed(2)} s`);

    // Alternated rounds: the agent first in even rounds, the plain copy first in odd ones.
    const backups: BackupTiming[] = [];
    const plains: number[] = [];
    const sourceRoles: string[] = [warmUp.manifest.sourceRole];
    for (let r = 0; r < rounds; r++) {
      for (const kind of r % 2 === 0 ? ['agent', 'plain'] : ['plain', 'agent']) {
        await waitQuiet(replica, group.admin);
        if (kind === 'agent') {
          const set = `bench-${r + 1}`;
          const taken = await agentBackup(group, location, set);
          sourceRoles.push(taken.manifest.sourceRole);
          const { size: bytes, sourceNode, sourceRole } = taken.manifest;
          backups.push({ round: r + 1, seconds: round(taken.seconds), bytes, sourceNode, sourceRole });
          // The last set stays for the restore.
          if (r < rounds - 1) removeDir(path.join(location, set));
          progress(`  round ${r + 1}/${rounds} cachefleet-node backup  ${taken.seconds.toFixed(2)} s (${taken.manifest.sourceRole} ${taken.manifest.sourceNode})`);
        } else {
          const file = path.join(copies, `round-${r + 1}.rdb`);
          const seconds = await plainCopy(group, replica, file);
          plains.push(round(seconds));
          fs.rmSync(file);
          progress(`  round ${r + 1}/${rounds} redis-cli --rdb          ${seconds.toFixed(2)} s`);
        }
      }
    }
    const restoreSet = path.join(location, `bench-${rounds}`);

    // The writer, with and without a backup, alternated; each window without one as long as the median backup.
    const windowSeconds = median(backups.map((b) => b.seconds));
    const writer = await connect(group.primary, REDIS_PORT, group.app, 2_000);
    const watcher = await connect(replica, REDIS_PORT, group.admin, 2_000);
    cleanups.push(async () => writer.disconnect(), async () => watcher.disconnect());
    const windows: WriterWindow[] = [];
    await steadyWriter(writer, values, sleep(2_000));
    for (let r = 0; r < WRITER_ROUNDS; r++) {
      for (const kind of r % 2 === 0 ? ['none', 'backup'] as const : ['backup', 'none'] as const) {
        await waitQuiet(replica, group.admin);
        await waitQuiet(group.primary, group.admin);
        if (kind === 'none') {
          windows.push(window('none', r + 1, await steadyWriter(writer, values, sleep(windowSeconds * 1000))));
        } else {
          const set = `bench-writer-${r + 1}`;
          const backup = agentBackup(group, location, set);
          const ended = backup.catch(() => undefined);
          const [run, forkStartedAt] = await Promise.all([steadyWriter(writer, values, ended), forkStart(watcher, ended)]);
          const taken = await backup;
          sourceRoles.push(taken.manifest.sourceRole);
          removeDir(path.join(location, set));
          windows.push(window('backup', r + 1, run, forkStartedAt));
        }
        const last = windows[windows.length - 1];
        progress(`  writer round ${r + 1}/${WRITER_ROUNDS} ${last.kind.padEnd(6)} ${last.writes} SETs in ${last.seconds.toFixed(1)} s, p50 ${last.p50Ms.toFixed(2)} ms, p99 ${last.p99Ms.toFixed(2)} ms, max ${last.maxMs.toFixed(1)} ms, ${last.errors} errors` +
          `${last.activeWrites !== undefined ? `; from the replica's fork on: ${last.activeWrites} SETs, p99 ${last.activeP99Ms?.toFixed(2) ?? '—'} ms` : ''}`);
      }
    }
    writer.disconnect();
    watcher.disconnect();
    await fleet.dispose();

    // The restore: a new node seeded from the last set, against a stock server on a copy of the same RDB; alternated.
    const restores: RestoreTiming[] = [];
    const rPlan = restoredPlan();
    for (let r = 0; r < RESTORE_ROUNDS; r++) {
      for (const kind of r % 2 === 0 ? ['cachefleet', 'stock'] as const : ['stock', 'cachefleet'] as const) {
        if (kind === 'cachefleet') {
          const restored = Fleet.create({ plan: rPlan, label: 'bench-restored', env: { CACHEFLEET_MEMORY_BYTES: String(BACKUP_MEMORY_BYTES), CACHEFLEET_RESTORE_FROM: restoreSet } });
          const credentials = { username: rPlan.users.application, password: restored.appPassword };
          try {
            const t = await timeUntilLoaded(BACKUP_ADDRESSES.restored, keys, credentials, () => restored.waitReady('node-0', 'redis', 120), () => restored.start('node-0', 'redis'));
            if (r === 0) await spotCheck(BACKUP_ADDRESSES.restored, credentials, keys, values);
            if (!fs.existsSync(path.join(restored.dirs('node-0').state, 'redis', 'restored-from'))) throw new Error('the restored node has no restored-from mark');
            restores.push({ kind, round: r + 1, keysServedSeconds: round(t.keys), readySeconds: round(t.ready) });
          } catch (error) {
            throw new Error(`${(error as Error).message}\n${restored.logs()}`);
          } finally {
            await restored.dispose();
          }
        } else {
          const dir = tempDir('stock-load');
          let server: ManagedProcess | undefined;
          try {
            const t = await timeUntilLoaded(BACKUP_ADDRESSES.stock, keys, {}, async () => undefined, () => {
              fs.copyFileSync(path.join(restoreSet, 'shard-0.rdb'), path.join(dir, 'dump.rdb'));
              server = startProcess('stock redis-server', REDIS_7_0.server,
                ['--bind', BACKUP_ADDRESSES.stock, '--port', String(REDIS_PORT), '--dir', dir, '--save', '', '--appendonly', 'no'], { PATH: process.env.PATH }, path.join(dir, 'redis.log'));
            });
            restores.push({ kind, round: r + 1, keysServedSeconds: round(t.keys), readySeconds: round(t.ready) });
          } finally {
            await server?.stop('SIGTERM', 30_000);
            removeDir(dir);
          }
        }
        const last = restores[restores.length - 1];
        progress(`  restore round ${r + 1}/${RESTORE_ROUNDS} ${last.kind.padEnd(10)} every key served after ${last.keysServedSeconds.toFixed(2)} s, ready after ${last.readySeconds.toFixed(2)} s`);
      }
    }

    const agentMedian = median(backups.map((b) => b.seconds));
    const plainMedian = median(plains);
    const none = windows.filter((w) => w.kind === 'none');
    const during = windows.filter((w) => w.kind === 'backup');
    const of = (kind: RestoreTiming['kind']) => restores.filter((t) => t.kind === kind);
    return {
      date: started.toISOString(),
      durationSeconds: Math.round((Date.now() - started.getTime()) / 1000),
      cpuCount: cpus().count,
      loadAverage: { start: loadAtStart, end: os.loadavg().map((v) => Math.round(v * 100) / 100) },
      engine: REDIS_7_0.title,
      group: `a Sentinel group of 1 primary + 1 replica (${BACKUP_ADDRESSES.group.slice(0, 2).join(', ')}), 3 sentinels, persistence ${plan.persistence.mode}` +
        `${plan.persistence.appendFsync ? ` ${plan.persistence.appendFsync}` : ''} (the group's default), CACHEFLEET_MEMORY_BYTES ${BACKUP_MEMORY_BYTES} (maxmemory ${memory.maxmemory})`,
      dataset: {
        keys,
        valueBytes: VALUE_BYTES,
        rdbBytes,
        usedMemoryBytes: Number(memory.used_memory),
        targetKeys: TARGET_KEYS,
        limitedBy,
        memoryAvailableBytes: memoryAtStart,
        diskAvailableBytes: diskAtStart,
        loadedBy: `redis-cli --pipe into the primary as the app user (${keys} SETs, values random base64 characters), replicated`,
        loadSeconds: round(loadSeconds),
      },
      backup: {
        location: 'a directory on the same filesystem as the agent\'s temporary directory',
        agentCommand: 'cachefleet-node backup <name> (CACHEFLEET_PLATFORM=local, run on the primary\'s slot; CACHEFLEET_BACKUP_LOCATION a directory)',
        plainCommand: ['redis-cli', ...plainCopyArgs('<replica>', '<file>', group)].join(' '),
        rounds,
        roundOrder: ['agent', 'plain'],
        agent: backups,
        plainSeconds: plains,
        agentMedianSeconds: round(agentMedian),
        plainMedianSeconds: round(plainMedian),
        ratio: round(agentMedian / plainMedian),
        sha256sumSeconds: round(sha256Seconds),
        cpSeconds: round(copySeconds),
      },
      restore: {
        method: 'from the start of `cachefleet-node start redis` (CACHEFLEET_RESTORE_FROM: the last set) on a new single node until DBSIZE is the dataset\'s, then until `cachefleet-node wait-ready redis` succeeds; ' +
          'the stock server: from the copy of the same RDB into its empty directory until DBSIZE is the dataset\'s',
        restoredNode: `a single ${REDIS_7_0.title} node (${BACKUP_ADDRESSES.restored}), persistence ${rPlan.persistence.mode}${rPlan.persistence.appendFsync ? ` ${rPlan.persistence.appendFsync}` : ''} (the CacheCluster's default)`,
        stockServer: `redis-server --save '' --appendonly no on ${BACKUP_ADDRESSES.stock}`,
        rounds: RESTORE_ROUNDS,
        timings: restores,
        medianReadySeconds: round(median(of('cachefleet').map((t) => t.readySeconds))),
        medianKeysServedSeconds: round(median(of('cachefleet').map((t) => t.keysServedSeconds))),
        stockMedianSeconds: round(median(of('stock').map((t) => t.keysServedSeconds))),
      },
      writer: {
        method: `one ioredis connection to the primary, ${WRITER_RATE} SETs/s of ${VALUE_BYTES}-byte values over ${WRITER_KEYS} keys; latency from each send to its reply; ` +
          'a window with a backup lasts from the start of `cachefleet-node backup` to its end, one without lasts as long as the median backup; ' +
          'the active part of a backup starts when the replica\'s fork starts (rdb_bgsave_in_progress, polled every 50 ms), after the replica\'s repl-diskless-sync-delay',
        ratePerSecond: WRITER_RATE,
        rounds: WRITER_ROUNDS,
        windows,
        p99NoneMs: round(median(none.map((w) => w.p99Ms))),
        p99BackupMs: round(median(during.map((w) => w.p99Ms))),
        p99Ratio: round(median(during.map((w) => w.p99Ms)) / median(none.map((w) => w.p99Ms))),
        activeP99BackupMs: round(median(during.map((w) => w.activeP99Ms ?? Number.NaN))),
        activeP99Ratio: round(median(during.map((w) => w.activeP99Ms ?? Number.NaN)) / median(none.map((w) => w.p99Ms))),
      },
      sourceRoles,
      backupsFromPrimary: sourceRoles.filter((role) => role !== 'replica').length,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    removeDir(location);
    removeDir(copies);
  }
}

if (require.main === module) runStandalone(measureBackupCost);
