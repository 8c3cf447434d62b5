import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import Redis from 'ioredis';
import { describeInteg } from './support/binaries';
import { ParameterSpec } from '../../src/core/parameters/catalog/parameter-spec';
import { catalogEntries, memcachedArgs, resolveParameters } from '../../src/core/parameters/resolve';
import { existsOn } from '../../src/core/parameters/validate';

/**
 * The engine parameter catalog against the real servers: `redis7` against
 * Redis 7.0, `valkey8` against Valkey 8.0 (`CONFIG GET *`), `memcached1.6` against memcached
 * (`stats settings`). For each family:
 * - every engine parameter the server's version has exists on it, and the ones gated to a later
 *   version (`since`) are indeed absent;
 * - each default equals the server's built-in one, or is marked as a deliberate difference that
 *   records that very built-in value;
 * - a configuration rendered from the catalog starts the server, every value in place;
 * - `apply: live` parameters are accepted by CONFIG SET, `restart` ones refused as immutable.
 *
 * Each server runs on its own loopback address with the usual port; every server is stopped after
 * the tests, even when they fail. A missing binary fails the tests unless CACHEFLEET_SKIP_INTEG=1.
 */

/** What the throwaway configuration sets: the server's built-in default of these cannot be observed. */
const THROWAWAY_DIRECTIVES = ['save', 'appendonly'];

/**
 * Test machines may cap open files below ElastiCache's 65000 connections (this one at 20000):
 * memcached would then refuse to start, and Redis would lower maxclients itself. The rendered
 * servers get a limit that fits; the defaults themselves are checked against the stock servers.
 */
const CONNECTION_LIMITS = { redis: { maxclients: '4096' }, memcached: { max_simultaneous_connections: '4096' } };

/** One figure line per family, printed after the tests. */
const figures: string[] = [];

interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** The servers the tests started, and their scratch directory; all stopped and removed at the end. */
class Workspace {
  public readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-catalog-'));
  private readonly processes: ChildProcess[] = [];

  constructor() {
    // Should the test process end without afterAll (a crash, an interrupt), no server outlives it.
    process.once('exit', () => this.processes.forEach((child) => child.kill('SIGKILL')));
  }

  /** Starts a server and waits until it accepts connections on `endpoint`. */
  public async start(name: string, command: string, args: string[], endpoint: Endpoint): Promise<void> {
    const log = path.join(this.dir, `${name}.log`);
    const out = fs.openSync(log, 'a');
    const child = spawn(command, args, { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    this.processes.push(child);
    const deadline = Date.now() + 10_000;
    while (!(await accepts(endpoint))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`${name} did not start on ${endpoint.host}:${endpoint.port}:\n${fs.readFileSync(log, 'utf8')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Stops every server (SIGTERM, then SIGKILL after 5 s) and removes the scratch directory. */
  public async cleanUp(): Promise<void> {
    await Promise.all(this.processes.map((child) => stopProcess(child)));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Overrides of every kind of value, so that the rendered server shows the non-default forms in place too. */
const REDIS_OVERRIDES: Record<string, string> = {
  ...CONNECTION_LIMITS.redis,
  'maxmemory-policy': 'allkeys-lfu',
  'notify-keyspace-events': 'Ex',
  'client-output-buffer-limit-pubsub-hard-limit': '64mb',
  'hash-max-listpack-entries': '256',
  'repl-backlog-size': '16mb',
  'io-threads': '2',
  'latency-tracking': 'yes',
  'latency-tracking-info-percentiles': '50 90 99',
  'save': '900 1 300 10',
  'lazyfree-lazy-user-del': 'yes',
};

/** Non-default values of every Memcached mapping: flags on, switches off (through no_modern), options changed. */
const MEMCACHED_OVERRIDES: Record<string, string> = {
  ...CONNECTION_LIMITS.memcached,
  no_modern: '1',
  cas_disabled: '1',
  error_on_memory_exhausted: '1',
  disable_flush_all: '1',
  binding_protocol: 'ascii',
  max_item_size: '2097152',
  chunk_size: '64',
  chunk_size_growth_factor: '1.5',
  idle_timeout: '30',
  track_sizes: '1',
  watcher_logbuf_size: '128',
  hashpower_init: '20',
  num_threads: '2',
  requests_per_event: '10',
  backlog_queue_limit: '512',
};

describeInteg('the parameter catalog against real servers', () => {
  // Made in beforeAll, not here: a skipped suite still runs this body, and must leave nothing behind.
  let current: Workspace | undefined;
  const workspace = () => current!;

  beforeAll(() => {
    current = new Workspace();
  });

  afterAll(async () => {
    await current?.cleanUp();
    if (figures.length > 0) console.log(`Parameter catalog against real servers:\n${figures.join('\n')}`);
  });

  describeRedisFamily(workspace, { family: 'redis7', binary: 'redis-server', stock: '127.0.0.51', rendered: '127.0.0.54' });
  describeRedisFamily(workspace, { family: 'valkey8', binary: 'valkey-server', stock: '127.0.0.52', rendered: '127.0.0.55' });
  describeMemcachedFamily(workspace, { stock: '127.0.0.53', rendered: '127.0.0.56', modified: '127.0.0.57', probe: '127.0.0.58' });
});

function describeRedisFamily(workspace: () => Workspace, setup: { family: string; binary: string; stock: string; rendered: string }) {
  describe(`${setup.family} against ${setup.binary}`, () => {
    const stock: Endpoint = { host: setup.stock, port: 6379 };
    const rendered: Endpoint = { host: setup.rendered, port: 6379 };
    let version = '';
    let builtIn = new Map<string, string>();
    const entries = catalogEntries(setup.family).filter((spec) => spec.target === 'engine');
    const present = () => entries.filter((spec) => existsOn(spec, version));
    const counts = { checked: 0, same: 0, deliberate: 0, gated: 0, skipped: 0, live: 0, restart: 0 };

    beforeAll(async () => {
      requireBinaries(setup.binary);
      await workspace().start(`${setup.family}-stock`, setup.binary, [throwawayConfig(workspace(), `${setup.family}-stock`, stock, [])], stock);
      version = await serverVersion(stock);
      builtIn = await configGetAll(stock);
      const resolved = resolveParameters(setup.family, REDIS_OVERRIDES, version);
      const configFile = throwawayConfig(workspace(), `${setup.family}-rendered`, rendered, resolved.engine);
      await workspace().start(`${setup.family}-rendered`, setup.binary, [configFile], rendered);
    });

    afterAll(() => {
      figures.push(
        `  ${setup.family} vs ${setup.binary} ${version}: ${counts.checked} engine parameters checked, ${counts.same} defaults equal, ` +
          `${counts.deliberate} deliberate differences, ${counts.gated} gated to a later version (absent as expected), ` +
          `${counts.skipped} set by the throwaway config (not compared); CONFIG SET: ${counts.live} live, ${counts.restart} refused as immutable`,
      );
    });

    test('every parameter the server version has is one of its directives', () => {
      const missing = present().map(directiveOf).filter((name) => !builtIn.has(name));
      expect(missing).toEqual([]);
      counts.checked = present().length;
    });

    test('parameters gated to a later version are absent from this one', () => {
      const gated = entries.filter((spec) => !existsOn(spec, version));
      expect(gated.filter((spec) => builtIn.has(spec.name)).map((spec) => spec.name)).toEqual([]);
      counts.gated = gated.length;
    });

    test('each default is the built-in one, or a deliberate difference recording the built-in value and why', () => {
      const problems: string[] = [];
      for (const spec of present()) {
        if (THROWAWAY_DIRECTIVES.includes(spec.name)) {
          counts.skipped++;
          continue;
        }
        const server = canonical(spec, serverValue(builtIn, spec));
        const ours = canonical(spec, spec.defaultValue);
        if (server === ours) {
          counts.same++;
          if (spec.defaultDiffers) problems.push(`${spec.name}: marked as differing, but the server's default is the same (${server})`);
        } else if (!spec.defaultDiffers) {
          problems.push(`${spec.name}: ours ${ours}, the server's ${server}, not marked as a deliberate difference`);
        } else if (canonical(spec, spec.defaultDiffers.engineDefault) !== server || spec.defaultDiffers.reason.length < 10) {
          problems.push(`${spec.name}: the mark records ${spec.defaultDiffers.engineDefault}, the server's default is ${server}`);
        } else {
          counts.deliberate++;
        }
      }
      expect(problems).toEqual([]);
    });

    test('a configuration rendered from the catalog starts the server with every value in place', async () => {
      const resolved = resolveParameters(setup.family, REDIS_OVERRIDES, version);
      const running = await configGetAll(rendered);
      const problems: string[] = [];
      for (const spec of present()) {
        const expected = resolvedValue(resolved.engine, spec);
        const actual = canonical(spec, serverValue(running, spec));
        if (canonical(spec, expected) !== actual) problems.push(`${spec.name}: rendered ${expected}, running ${actual}`);
      }
      expect(problems).toEqual([]);
    });

    test('live parameters apply through CONFIG SET, restart ones are refused as immutable', async () => {
      const resolved = resolveParameters(setup.family, REDIS_OVERRIDES, version);
      const problems: string[] = [];
      for (const spec of present()) {
        const answer = await configSet(rendered, directiveOf(spec), directiveValue(resolved.engine, spec));
        const ok = spec.apply === 'live' ? answer === 'OK' : /immutable/.test(answer);
        if (!ok) problems.push(`${spec.name} (${spec.apply}): CONFIG SET answered ${answer}`);
        else counts[spec.apply]++;
      }
      expect(problems).toEqual([]);
    });
  });
}

function describeMemcachedFamily(workspace: () => Workspace, setup: { stock: string; rendered: string; modified: string; probe: string }) {
  describe('memcached1.6 against memcached', () => {
    const stock: Endpoint = { host: setup.stock, port: 11211 };
    const entries = catalogEntries('memcached1.6').filter((spec) => spec.target === 'engine');
    const reported = entries.filter((spec) => spec.memcached && 'key' in spec.memcached.stats);
    const counts = { checked: 0, same: 0, deliberate: 0, notReported: 0 };
    let builtIn = new Map<string, string>();
    let version = '';

    beforeAll(async () => {
      requireBinaries('memcached');
      await workspace().start('memcached-stock', 'memcached', memcachedBaseArgs(stock), stock);
      builtIn = await memcachedStats(stock);
      version = spawnSync('memcached', ['-V'], { encoding: 'utf8' }).stdout.trim();
    });

    afterAll(() => {
      figures.push(
        `  memcached1.6 vs ${version}: ${counts.checked} engine parameters checked in stats settings, ${counts.same} defaults equal, ` +
          `${counts.deliberate} deliberate differences, ${counts.notReported} not reported by stats settings (each with its reason)`,
      );
    });

    test('every reported parameter has its stats settings entry; the others say why they are not reported', () => {
      const missing = reported.filter((spec) => !builtIn.has(statsOf(spec).key)).map((spec) => spec.name);
      expect(missing).toEqual([]);
      const unexplained = entries.filter((spec) => !spec.memcached || ('notReported' in spec.memcached.stats && spec.memcached.stats.notReported.length < 10));
      expect(unexplained.map((spec) => spec.name)).toEqual([]);
      counts.checked = reported.length;
      counts.notReported = entries.length - reported.length;
    });

    test('each default is the built-in one, or a deliberate difference recording the built-in value and why', () => {
      const problems: string[] = [];
      for (const spec of reported) {
        const server = builtIn.get(statsOf(spec).key)!;
        if (sameStat(spec, spec.defaultValue, server)) {
          counts.same++;
          if (spec.defaultDiffers) problems.push(`${spec.name}: marked as differing, but the server shows the same (${server})`);
        } else if (!spec.defaultDiffers) {
          problems.push(`${spec.name}: ours ${spec.defaultValue}, the server's ${server}, not marked as a deliberate difference`);
        } else if (!sameStat(spec, spec.defaultDiffers.engineDefault, server) || spec.defaultDiffers.reason.length < 10) {
          problems.push(`${spec.name}: the mark records ${spec.defaultDiffers.engineDefault}, the server shows ${server}`);
        } else {
          counts.deliberate++;
        }
      }
      expect(problems).toEqual([]);
    });

    test('the rendered arguments leave the slab classes as memcached lays them out itself', () => {
      // An option parser slip can change more than its setting: memcached's worker_logbuf_size also
      // replaces the slab classes, which stats settings does not show.
      const probe: Endpoint = { host: setup.probe, port: 11211 };
      const rendered = memcachedArgs(resolveParameters('memcached1.6', CONNECTION_LIMITS.memcached));
      const own = slabClasses(memcachedBaseArgs(probe));
      expect(own.length).toBeGreaterThan(10);
      expect(slabClasses([...memcachedBaseArgs(probe), ...rendered])).toEqual(own);
    });

    test.each([
      ['the defaults', setup.rendered, CONNECTION_LIMITS.memcached],
      ['non-default values and the no_modern preset', setup.modified, MEMCACHED_OVERRIDES],
    ])('arguments rendered from %s start memcached with every value in place', async (_what, host, overrides) => {
      const endpoint: Endpoint = { host, port: 11211 };
      const resolved = resolveParameters('memcached1.6', overrides);
      await workspace().start(`memcached-${host}`, 'memcached', [...memcachedBaseArgs(endpoint), ...memcachedArgs(resolved)], endpoint);
      const running = await memcachedStats(endpoint);
      const problems = reported
        .map((spec) => [spec, resolvedValue(resolved.engine, spec)] as const)
        .filter(([spec, value]) => !sameStat(spec, value, running.get(statsOf(spec).key)!))
        .map(([spec, value]) => `${spec.name}: rendered ${value}, running ${statsOf(spec).key} ${running.get(statsOf(spec).key)}`);
      expect(problems).toEqual([]);
    });
  });
}

/** A Redis/Valkey configuration file: the throwaway lines, then the given directives. */
function throwawayConfig(workspace: Workspace, name: string, endpoint: Endpoint, directives: Array<[string, string]>): string {
  const dir = path.join(workspace.dir, name);
  fs.mkdirSync(dir);
  const lines = [
    `bind ${endpoint.host}`,
    `port ${endpoint.port}`,
    'save ""',
    'appendonly no',
    `dir ${dir}`,
    'daemonize no',
    // Values are words separated by spaces (several arguments) or empty, which redis.conf writes "".
    ...directives.map(([directive, value]) => `${directive} ${value === '' ? '""' : value}`),
  ];
  const file = path.join(workspace.dir, `${name}.conf`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** memcached on one loopback address, TCP only, dropping root as memcached requires. */
function memcachedBaseArgs(endpoint: Endpoint): string[] {
  const asRoot = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  return [...asRoot, '-U', '0', '-l', endpoint.host, '-p', String(endpoint.port)];
}

function requireBinaries(...binaries: string[]): void {
  const missing = binaries.filter((binary) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', binary]).status !== 0);
  if (missing.length > 0) {
    throw new Error(`missing ${missing.join(', ')} on PATH: install it, or set CACHEFLEET_SKIP_INTEG=1 to skip the behaviour tests`);
  }
}

/** The directive a parameter is given by (`client-output-buffer-limit` for its nine ElastiCache parts). */
function directiveOf(spec: ParameterSpec): string {
  return spec.part?.directive ?? spec.name;
}

/** The server's value of a parameter: one argument of a multi-part directive, or the directive's value. */
function serverValue(config: ReadonlyMap<string, string>, spec: ParameterSpec): string {
  const value = config.get(directiveOf(spec));
  if (value === undefined) throw new Error(`the server has no ${directiveOf(spec)}`);
  return spec.part ? partOf(value, spec.part.group, spec.part.position) : value;
}

/** The resolved value of a parameter's directive: for one of several parts, its group's whole line. */
function directiveValue(engine: Array<[string, string]>, spec: ParameterSpec): string {
  const part = spec.part;
  if (!part) return engine.find(([name]) => name === spec.name)![1];
  return engine.find(([name, value]) => name === part.directive && value.startsWith(`${part.group} `))![1];
}

/** The resolved value of a parameter, taken apart again from its directive's line for a multi-part one. */
function resolvedValue(engine: Array<[string, string]>, spec: ParameterSpec): string {
  const value = directiveValue(engine, spec);
  return spec.part ? value.split(' ')[spec.part.position + 1] : value;
}

/** `client-output-buffer-limit` as CONFIG GET shows it: `normal 0 0 0 slave 268435456 …` (replica is `slave`). */
function partOf(value: string, group: string, position: number): string {
  const words = value.split(' ');
  const aliases = group === 'replica' ? ['replica', 'slave'] : [group];
  const start = words.findIndex((word) => aliases.includes(word));
  return words[start + 1 + position];
}

/** A value as the catalog writes it; event letters are a set, whatever their order. */
function canonical(spec: ParameterSpec, value: string): string {
  if (spec.type.kind === 'letters') return [...value].sort().join('');
  return spec.type.normalize(value) ?? value;
}

function statsOf(spec: ParameterSpec): { key: string; values?: { readonly [value: string]: string }; multiplier?: number } {
  const stats = spec.memcached!.stats;
  if (!('key' in stats)) throw new Error(`${spec.name} is not reported`);
  return stats;
}

/** Whether memcached's shown setting is what the catalog value means. */
function sameStat(spec: ParameterSpec, value: string, shown: string): boolean {
  const stats = statsOf(spec);
  if (stats.values) return stats.values[value] === shown;
  if (!/^[\d.]+$/.test(value)) return value === shown;
  // Numbers compare as numbers: memcached shows the growth factor as 1.25 or 1.50.
  return Number(value) * (stats.multiplier ?? 1) === Number(shown);
}

async function withRedis<T>(endpoint: Endpoint, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({ ...endpoint, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  await client.connect();
  try {
    return await use(client);
  } finally {
    client.disconnect();
  }
}

async function configGetAll(endpoint: Endpoint): Promise<Map<string, string>> {
  const flat = (await withRedis(endpoint, (client) => client.config('GET', '*'))) as string[];
  const config = new Map<string, string>();
  for (let i = 0; i < flat.length; i += 2) config.set(flat[i], flat[i + 1]);
  return config;
}

/** `OK`, or the server's error message. */
async function configSet(endpoint: Endpoint, name: string, value: string): Promise<string> {
  return withRedis(endpoint, async (client) => {
    try {
      return String(await client.config('SET', name, value));
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  });
}

/** The server's own version: Valkey's `valkey_version`, else `redis_version`. */
async function serverVersion(endpoint: Endpoint): Promise<string> {
  const info = await withRedis(endpoint, (client) => client.info('server'));
  const match = /^valkey_version:(\S+)/m.exec(info) ?? /^redis_version:(\S+)/m.exec(info);
  if (!match) throw new Error(`no version in INFO server:\n${info}`);
  return match[1];
}

/** The chunk size of each slab class, as memcached -vv prints them at start (it is stopped after 0.7 s). */
function slabClasses(args: string[]): number[] {
  const run = spawnSync('memcached', [...args, '-vv'], { encoding: 'utf8', timeout: 700 });
  return [...run.stderr.matchAll(/slab class\s+\d+: chunk size\s+(\d+)/g)].map((match) => Number(match[1]));
}

/** memcached's `stats settings`, over plain TCP. */
function memcachedStats(endpoint: Endpoint): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(endpoint);
    let text = '';
    socket.setTimeout(5000, () => socket.destroy(new Error('stats settings timed out')));
    socket.on('connect', () => socket.write('stats settings\r\n'));
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
      if (text.endsWith('END\r\n')) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const stats = new Map<string, string>();
      for (const line of text.split('\r\n')) {
        const [stat, key, ...value] = line.split(' ');
        if (stat === 'STAT') stats.set(key, value.join(' '));
      }
      resolve(stats);
    });
  });
}

function accepts(endpoint: Endpoint): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(endpoint);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
