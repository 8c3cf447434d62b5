import { createHash } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { describeInteg, needsBinaries, requireBinaries } from './support/binaries';
import { auth, cli, command } from './support/clients';
import { AGENT, Fleet, TEST_MEMORY_BYTES } from './support/fleet';
import { memcachedPlan, replicationGroupPlan, standalonePlan } from './support/plans';
import { runCommand } from './support/processes';
import { RedisEngineVersion, CacheEngine } from '../../src/core/engine';
import { fillPlaceholders, PlaceholderValues } from '../../src/core/render';
import { sentinelPort } from '../../src/core/render/plan-facts';

/**
 * The node agent on its own: shellcheck, placeholder filling, kernel preparation, memory, live
 * files and the role decision without sentinels, the failover hook, and a node started with a
 * hostile AUTH token, and the publication while the sentinels' answer moves (sentinels the test
 * plays on 127.0.0.77-79). Addresses 127.0.0.71-79 only; nothing listens on 127.0.0.71-73 (the
 * "sentinels" asked there refuse at once).
 */

const redis = CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 });
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** Paths with a space and a quote: every path the agent writes into a file or a script is quoted. */
const LABEL = "agent test's";

/** A token validation accepts (ElastiCache's rules) with every character sed, awk and shells mind. */
const HOSTILE_APP_TOKEN = "A&b|c$d'e\\f`id`$(id)&&\\1%s-tok";
/** The internal password sits inside double quotes in the files: no `"` or `\`, the rest hostile. */
const HOSTILE_INTERNAL = "i&n|t$HOME'e`id`$(id)&&%s-rnal";

/** The permission bits as three octal digits (`755`). */
function permissions(file: string): string {
  return fs.statSync(file).mode.toString(8).slice(-3);
}

function read(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

function expectOk(result: { code: number | null; stderr: string }): void {
  if (result.code !== 0) throw new Error(`the agent failed (${result.code}): ${result.stderr}`);
}

/** The replicas' output-buffer limits a node of <memory> bytes takes, as docs/node-agent.md states them. */
function replicaOutputBuffer(memory: number, reservedPercent: number): { 'replica-output-buffer-hard': string; 'replica-output-buffer-soft': string } {
  const reserved = memory - Math.floor((memory * (100 - reservedPercent)) / 100);
  const within = (value: number, high: number) => String(Math.min(Math.max(Math.floor(value), 1024 ** 2), high));
  return { 'replica-output-buffer-hard': within(reserved / 2, 256 * 1024 ** 2), 'replica-output-buffer-soft': within(reserved / 8, 64 * 1024 ** 2) };
}

/** A RESP bulk string. */
const bulk = (value: string) => `$${Buffer.byteLength(value)}\r\n${value}\r\n`;

/**
 * Sentinels whose answer moves while the agent works, as during a failover: sentinel i names
 * `answers(question)` as the primary at its question-th `get-master-addr-by-name` (from 1). It
 * speaks what redis-cli sends (AUTH, then the command, as RESP arrays) and answers anything else OK.
 */
async function movingSentinels(
  addresses: string[], port: number, answers: (question: number) => string,
): Promise<{ questions: number[]; close(): Promise<void> }> {
  const questions = addresses.map(() => 0);
  const servers = await Promise.all(addresses.map((address, index) => new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer((socket) => {
      let pending = '';
      socket.on('data', (chunk) => {
        pending += chunk.toString('utf8');
        // Whole commands only: *<n>, then n pairs of $<length> and the value.
        for (;;) {
          const lines = pending.split('\r\n');
          const count = /^\*(\d+)$/.exec(lines[0])?.[1];
          if (count === undefined || lines.length < 1 + 2 * Number(count) + 1) return;
          const words = Array.from({ length: Number(count) }, (_, i) => lines[2 + 2 * i]);
          pending = lines.slice(1 + 2 * Number(count)).join('\r\n');
          if (words[0].toUpperCase() === 'SENTINEL' && words[1]?.toLowerCase() === 'get-master-addr-by-name') {
            questions[index]++;
            socket.write(`*2\r\n${bulk(answers(questions[index]))}${bulk('6379')}`);
          } else {
            socket.write('+OK\r\n');
          }
        }
      });
      socket.on('error', () => undefined);
    });
    server.once('error', reject);
    server.listen(port, address, () => resolve(server));
  })));
  return {
    questions,
    close: () => Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve)))).then(() => undefined),
  };
}

describe('cachefleet-node: the program', () => {
  test('is one executable POSIX sh program', () => {
    const text = read(AGENT);
    expect(text.startsWith('#!/bin/sh\n')).toBe(true);
    expect(permissions(AGENT)).toMatch(/^[1357]{3}$/);
  });

  test('passes shellcheck -s sh without a finding', async () => {
    requireBinaries(['shellcheck']);
    const result = await runCommand('shellcheck', ['-s', 'sh', AGENT]);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  test('refuses an unknown subcommand and an unknown platform', async () => {
    const unknown = await runCommand(AGENT, ['no-such-subcommand'], { env: { PATH: process.env.PATH, CACHEFLEET_PLATFORM: 'local' } });
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('no-such-subcommand');
    const platform = await runCommand(AGENT, ['help'], { env: { PATH: process.env.PATH, CACHEFLEET_PLATFORM: 'azure' } });
    expect(platform.code).not.toBe(0);
    expect(platform.stderr).toContain('azure');
  });
});

describeInteg('cachefleet-node on the local platform', () => {
  needsBinaries(['redis-server', 'redis-cli', 'sha256sum', 'awk']);

  const fleets: Fleet[] = [];
  afterAll(async () => {
    await Promise.all(fleets.map((f) => f.dispose()));
  }, 30_000);

  function fleetOf(plan: Parameters<typeof Fleet.create>[0]['plan'], options: { appPassword?: string; internalPassword?: string } = {}): Fleet {
    const fleet = Fleet.create({ plan, label: LABEL, env: { CACHEFLEET_SENTINEL_WAIT: '0', CACHEFLEET_QUERY_TIMEOUT: '1' }, ...options });
    fleets.push(fleet);
    return fleet;
  }

  /** The values the agent fills in on a slot, as docs/node-agent.md defines them. */
  function valuesOf(fleet: Fleet, slot: string): PlaceholderValues {
    const dirs = fleet.dirs(slot);
    const maxmemory = Math.floor((TEST_MEMORY_BYTES * (100 - fleet.plan.reservedMemoryPercent)) / 100);
    return {
      'address': fleet.slot(slot).address,
      'data-dir': path.join(dirs.state, 'redis', 'data'),
      'sentinel-dir': path.join(dirs.state, 'sentinel'),
      'acl-file': path.join(dirs.state, 'redis', 'users.acl'),
      'maxmemory': String(maxmemory),
      'memory-mb': String(Math.floor(maxmemory / 1048576)),
      ...replicaOutputBuffer(TEST_MEMORY_BYTES, fleet.plan.reservedMemoryPercent),
      'app-password': fleet.appPassword,
      'app-password-sha256': sha256(fleet.appPassword),
      'internal-password': fleet.internalPassword,
      'internal-password-sha256': sha256(fleet.internalPassword),
      'admin-password': fleet.adminPassword,
      'admin-password-sha256': sha256(fleet.adminPassword),
      'on-failover-hook': path.join(dirs.run, 'on-failover'),
    };
  }

  describe('placeholders', () => {
    test('the agent fills every rendered template exactly as core\'s fillPlaceholders, hostile tokens inserted literally', async () => {
      const fleet = fleetOf(replicationGroupPlan('agent-fill', redis, ['127.0.0.71', '127.0.0.72', '127.0.0.73']), {
        appPassword: HOSTILE_APP_TOKEN,
        internalPassword: HOSTILE_INTERNAL,
      });
      const values = valuesOf(fleet, 'node-1');
      const dirs = fleet.dirs('node-1');
      expectOk(await fleet.agent('node-1', ['configure', 'redis']));
      expectOk(await fleet.agent('node-1', ['configure', 'sentinel']));

      expect(read(path.join(dirs.run, 'redis.conf'))).toBe(fillPlaceholders(fleet.bundle['redis.conf'], values));
      // The agent appends the role it decided to the node include.
      const nodeConf = read(path.join(dirs.run, 'redis-node.conf'));
      const expectedNodeConf = fillPlaceholders(fleet.bundle['redis-node.conf'], values);
      expect(nodeConf.startsWith(expectedNodeConf)).toBe(true);
      expect(nodeConf.slice(expectedNodeConf.length)).toMatch(/^\n# cachefleet-node: [^\n]*\nreplicaof 127\.0\.0\.71 6379\n$/);
      expect(nodeConf).toContain(`masterauth "${HOSTILE_INTERNAL}"`);
      expect(read(path.join(dirs.state, 'redis', 'users.acl'))).toBe(fillPlaceholders(fleet.bundle['users.acl'], values));
      expect(read(path.join(dirs.state, 'redis', 'users.acl'))).toContain(`#${sha256(HOSTILE_APP_TOKEN)}`);
      expect(read(path.join(dirs.state, 'sentinel', 'sentinel.conf'))).toBe(fillPlaceholders(fleet.bundle['sentinel.conf'], values));
      // Filled files hold secrets: readable by the node's user only.
      for (const file of [path.join(dirs.run, 'redis-node.conf'), path.join(dirs.state, 'sentinel', 'sentinel.conf')]) {
        expect(permissions(file)).toMatch(/^[0-7]00$/);
      }
    });

    test('an unknown placeholder is refused by name and nothing is written', async () => {
      const fleet = fleetOf(standalonePlan('agent-unknown', redis, '127.0.0.74'));
      const dirs = fleet.dirs('node-0');
      fs.appendFileSync(path.join(dirs.config, 'redis-node.conf'), 'io-threads {{no-such-placeholder}}\n');
      const result = await fleet.agent('node-0', ['configure', 'redis']);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('{{no-such-placeholder}}');
      expect(fs.existsSync(path.join(dirs.run, 'redis-node.conf'))).toBe(false);
      expect(fs.readdirSync(dirs.run).filter((f) => f.includes('.tmp.'))).toEqual([]);
    });

    test('a value a double-quoted argument cannot hold is refused by placeholder name', async () => {
      const fleet = fleetOf(standalonePlan('agent-quote', redis, '127.0.0.74'), { internalPassword: 'has\\backslash-1234' });
      const result = await fleet.agent('node-0', ['configure', 'redis']);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('{{internal-password}}');
      expect(() => fillPlaceholders(fleet.bundle['redis-node.conf'], { ...valuesOf(fleet, 'node-0') })).toThrow(/\{\{internal-password\}\}/);
    });

    test('a secret with a line break is refused (it would add config lines)', async () => {
      const fleet = fleetOf(standalonePlan('agent-newline', redis, '127.0.0.74'), { appPassword: 'line-one-1234567\nrequirepass x' });
      const result = await fleet.agent('node-0', ['configure', 'redis']);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('app-password');
      // Nothing of it reached a file the engine reads.
      expect(fs.existsSync(path.join(fleet.dirs('node-0').run, 'redis-node.conf')) && read(path.join(fleet.dirs('node-0').run, 'redis-node.conf')).includes('requirepass x')).toBe(false);
    });
  });

  describe('prepare-kernel', () => {
    /** Stand-ins for /proc and /sys under the fleet's root (removed with it). */
    function kernelDirs(fleet: Fleet, values: { overcommit?: string; thp?: string; somaxconn?: string }) {
      const root = fs.mkdtempSync(path.join(fleet.root, 'kernel-'));
      const proc = path.join(root, 'proc');
      const sys = path.join(root, 'sys');
      const files = {
        overcommit: path.join(proc, 'sys/vm/overcommit_memory'),
        thp: path.join(sys, 'kernel/mm/transparent_hugepage/enabled'),
        somaxconn: path.join(proc, 'sys/net/core/somaxconn'),
      };
      for (const [name, file] of Object.entries(files)) {
        const value = values[name as keyof typeof values];
        if (value === undefined) continue;
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, `${value}\n`);
      }
      return { root, proc, sys, files, env: { CACHEFLEET_PROC_DIR: proc, CACHEFLEET_SYS_DIR: sys } };
    }

    test('writes overcommit 1, THP never and somaxconn >= the engine\'s TCP backlog', async () => {
      const fleet = fleetOf(standalonePlan('agent-kernel', redis, '127.0.0.74'));
      const backlog = /^tcp-backlog (\d+)$/m.exec(fleet.bundle['redis.conf'])?.[1] ?? '511';
      const kernel = kernelDirs(fleet, { overcommit: '0', thp: 'always [madvise] never', somaxconn: '128' });
      const result = await fleet.agent('node-0', ['prepare-kernel'], kernel.env);
      expectOk(result);
      expect(read(kernel.files.overcommit)).toBe('1\n');
      expect(read(kernel.files.thp)).toBe('never\n');
      expect(read(kernel.files.somaxconn)).toBe(`${backlog}\n`);
    });

    test('leaves settings that are already right, and a larger somaxconn, alone', async () => {
      const fleet = fleetOf(standalonePlan('agent-kernel2', redis, '127.0.0.74'));
      const kernel = kernelDirs(fleet, { overcommit: '1', thp: 'always madvise [never]', somaxconn: '65535' });
      const result = await fleet.agent('node-0', ['prepare-kernel'], kernel.env);
      expectOk(result);
      expect(read(kernel.files.overcommit)).toBe('1\n');
      expect(read(kernel.files.thp)).toBe('always madvise [never]\n');
      expect(read(kernel.files.somaxconn)).toBe('65535\n');
    });

    test('memcached: somaxconn >= memcached\'s listen backlog', async () => {
      const fleet = fleetOf(memcachedPlan('agent-kernel-mc', ['127.0.0.75']));
      const backlog = /^--listen-backlog=(\d+)$/m.exec(fleet.bundle['memcached.args'])?.[1] ?? '1024';
      const kernel = kernelDirs(fleet, { overcommit: '0', thp: '[always] madvise never', somaxconn: '128' });
      expectOk(await fleet.agent('node-0', ['prepare-kernel'], kernel.env));
      expect(read(kernel.files.somaxconn)).toBe(`${backlog}\n`);
    });

    test('warns, and still succeeds, where it cannot write', async () => {
      const fleet = fleetOf(standalonePlan('agent-kernel3', redis, '127.0.0.74'));
      const kernel = kernelDirs(fleet, {});
      const result = await fleet.agent('node-0', ['prepare-kernel'], kernel.env);
      expectOk(result);
      // Each warning names the setting it could not make.
      expect(result.stderr).toContain('overcommit_memory');
      expect(result.stderr).toMatch(/transparent.huge/i);
      expect(result.stderr).toContain('somaxconn');
    });
  });

  describe('memory', () => {
    async function maxmemoryWith(files: Record<string, string>): Promise<number> {
      const fleet = fleetOf(standalonePlan('agent-memory', redis, '127.0.0.74'));
      const root = fs.mkdtempSync(path.join(fleet.root, 'memory-'));
      for (const [relative, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
        fs.writeFileSync(path.join(root, relative), content);
      }
      const env: NodeJS.ProcessEnv = { ...fleet.env('node-0'), CACHEFLEET_PROC_DIR: path.join(root, 'proc'), CACHEFLEET_SYS_DIR: path.join(root, 'sys') };
      delete env.CACHEFLEET_MEMORY_BYTES;
      const result = await runCommand(AGENT, ['configure', 'redis'], { env });
      expectOk(result);
      const line = /^maxmemory (\d+)$/m.exec(read(path.join(fleet.dirs('node-0').run, 'redis-node.conf')));
      return Number(line?.[1]);
    }
    const MEMINFO = 'MemTotal:        2097152 kB\nMemFree:          100000 kB\n';

    test('maxmemory is the machine\'s memory less the reserved share', async () => {
      expect(await maxmemoryWith({ 'proc/meminfo': MEMINFO })).toBe((2 * 1024 ** 3 * 75) / 100);
    });

    test('a cgroup v2 limit lower than the machine\'s memory wins', async () => {
      expect(await maxmemoryWith({
        'proc/meminfo': MEMINFO,
        'proc/self/cgroup': '0::/cachefleet.slice\n',
        'sys/fs/cgroup/cachefleet.slice/memory.max': '536870912\n',
      })).toBe((512 * 1024 ** 2 * 75) / 100);
    });

    test('an unlimited cgroup v2 (max) leaves the machine\'s memory', async () => {
      expect(await maxmemoryWith({ 'proc/meminfo': MEMINFO, 'sys/fs/cgroup/memory.max': 'max\n' })).toBe((2 * 1024 ** 3 * 75) / 100);
    });

    test('the replicas\' output-buffer limit fits what maxmemory leaves over: a small container\'s, a large machine\'s (the engine\'s defaults)', async () => {
      const limits = async (memory: number) => {
        const fleet = fleetOf(standalonePlan('agent-buffers', redis, '127.0.0.74'));
        expectOk(await fleet.agent('node-0', ['configure', 'redis'], { CACHEFLEET_MEMORY_BYTES: String(memory) }));
        return /^client-output-buffer-limit replica (\d+) (\d+) 60$/m.exec(read(path.join(fleet.dirs('node-0').run, 'redis-node.conf')))?.slice(1).map(Number);
      };
      // 256 MiB, 25 % kept: 64 MiB left over; half and an eighth of it.
      expect(await limits(256 * 1024 ** 2)).toEqual([32 * 1024 ** 2, 8 * 1024 ** 2]);
      // 16 GiB: the engine's defaults, the most a node takes.
      expect(await limits(16 * 1024 ** 3)).toEqual([256 * 1024 ** 2, 64 * 1024 ** 2]);
      // 2 MiB: never below 1 MiB (0 would mean no limit).
      expect(await limits(2 * 1024 ** 2)).toEqual([1024 ** 2, 1024 ** 2]);
    });

    test('a cgroup v1 limit lower than the machine\'s memory wins, a larger one does not', async () => {
      expect(await maxmemoryWith({ 'proc/meminfo': MEMINFO, 'sys/fs/cgroup/memory/memory.limit_in_bytes': '1073741824\n' })).toBe((1024 ** 3 * 75) / 100);
      expect(await maxmemoryWith({ 'proc/meminfo': MEMINFO, 'sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n' })).toBe((2 * 1024 ** 3 * 75) / 100);
    });
  });

  describe('live files and the role at boot', () => {
    test('sentinel.conf at every configure: the deploy\'s lines, plus only the state Sentinel kept about this fleet', async () => {
      const fleet = fleetOf(replicationGroupPlan('agent-live', redis, ['127.0.0.71', '127.0.0.72', '127.0.0.73']));
      const live = path.join(fleet.dirs('node-0').state, 'sentinel', 'sentinel.conf');
      expectOk(await fleet.agent('node-0', ['configure', 'sentinel']));
      const deployed = read(live);
      const [monitor, master] = /^sentinel monitor (\S+) 127\.0\.0\.71 6379 \d+$/m.exec(deployed)!;
      const downAfter = new RegExp(`^sentinel down-after-milliseconds ${master} \\d+$`, 'm');
      expect(deployed).toMatch(downAfter);
      // What Sentinel wrote since: a failover to node-1, its id, epochs and peers (one of them at an
      // address that is no longer the fleet's); and a timing an earlier deploy or SENTINEL SET left.
      const kept = [
        'sentinel myid 0123456789012345678901234567890123456789',
        'sentinel current-epoch 7',
        `sentinel config-epoch ${master} 7`,
        `sentinel known-replica ${master} 127.0.0.71 6379`,
        `sentinel known-sentinel ${master} 127.0.0.72 26379 1111111111111111111111111111111111111111`,
      ];
      fs.writeFileSync(live, [
        ...deployed.replace(monitor, monitor.replace('127.0.0.71', '127.0.0.72')).replace(downAfter, `sentinel down-after-milliseconds ${master} 99999`).trimEnd().split('\n'),
        '# Generated by CONFIG REWRITE',
        ...kept.slice(0, 4),
        `sentinel known-sentinel ${master} 10.9.9.9 26379 2222222222222222222222222222222222222222`,
        kept[4],
        '',
      ].join('\n'));

      expectOk(await fleet.agent('node-0', ['configure', 'sentinel']));

      // The deploy's lines as deployed (the timing back), the primary Sentinel follows now, and the
      // state about the fleet's own nodes and sentinels; nothing else of the old file.
      expect(read(live)).toBe(`${deployed.replace(monitor, monitor.replace('127.0.0.71', '127.0.0.72'))}${kept.join('\n')}\n`);
    });

    test('redis.conf keeps its runtime part, minus what the includes set; with no sentinel answering, the live replicaof decides', async () => {
      const fleet = fleetOf(replicationGroupPlan('agent-live2', redis, ['127.0.0.71', '127.0.0.72', '127.0.0.73']));
      const dirs = fleet.dirs('node-1');
      const live = path.join(dirs.state, 'redis', 'redis.conf');
      const includes = `include "${path.join(dirs.run, 'redis.conf')}"\ninclude "${path.join(dirs.run, 'redis-node.conf')}"\n`;

      // First boot, nobody answers: the slot's initial role (a replica of node-0).
      const first = await fleet.agent('node-1', ['configure', 'redis']);
      expectOk(first);
      expect(read(live)).toBe(includes);
      expect(read(path.join(dirs.run, 'redis-node.conf'))).toMatch(/\nreplicaof 127\.0\.0\.71 6379\n$/);

      // What CONFIG REWRITE appends: Sentinel repointed the node (replicaof), an operator's CONFIG SET
      // of something the deploy does not set, and copies of included directives (aliases too).
      const setByIncludes = new Set(
        [fleet.bundle['redis.conf'], fleet.bundle['redis-node.conf']]
          .flatMap((text) => text.split('\n'))
          .filter((line) => line.trim() !== '' && !line.startsWith('#'))
          .map((line) => line.split(' ')[0]),
      );
      const operatorSet = ['crash-log-enabled no', 'maxclients 999', 'io-threads 2'].filter((line) => !setByIncludes.has(line.split(' ')[0]));
      expect(operatorSet.length).toBeGreaterThan(0);
      fs.appendFileSync(live, [
        '',
        '# Generated by CONFIG REWRITE',
        ...operatorSet,
        'maxmemory 1',
        'bind 127.0.0.1',
        'masterauth "old"',
        'masteruser old-user',
        'save 60 1',
        'appendonly no',
        'dir "/elsewhere"',
        'user default on nopass ~* +@all',
        // An earlier boot's includes, from a run directory that has moved since.
        'include "/old/run/redis.conf"',
        'include "/old/run/redis-node.conf"',
        'slaveof 127.0.0.72 6379',
        'replicaof 127.0.0.73 6379',
        '',
      ].join('\n'));
      const runtimePart = `# Generated by CONFIG REWRITE\n${operatorSet.map((line) => `${line}\n`).join('')}`;
      const second = await fleet.agent('node-1', ['configure', 'redis']);
      expectOk(second);
      expect(read(live)).toBe(`${includes}${runtimePart}`);
      expect(read(path.join(dirs.run, 'redis-node.conf'))).toMatch(/\nreplicaof 127\.0\.0\.73 6379\n$/);

      // A promoted node's live file has no replicaof: the last primary its sentinel's hook recorded decides.
      fs.writeFileSync(path.join(dirs.state, 'primary'), '127.0.0.72:6379\n');
      const third = await fleet.agent('node-1', ['configure', 'redis']);
      expectOk(third);
      expect(read(path.join(dirs.run, 'redis-node.conf'))).toMatch(/\nreplicaof no one\n$/);
      // Idempotent: the same boot twice gives the same live file.
      expect(read(live)).toBe(`${includes}${runtimePart}`);
    });

    test('the on-failover hook Sentinel calls is an executable that runs the agent, which publishes only what a majority of all the sentinels name', async () => {
      const fleet = fleetOf(replicationGroupPlan('agent-hook', redis, ['127.0.0.71', '127.0.0.72', '127.0.0.73']));
      const dirs = fleet.dirs('node-2');
      expectOk(await fleet.agent('node-2', ['configure', 'sentinel']));
      const hook = path.join(dirs.run, 'on-failover');
      expect(read(path.join(dirs.state, 'sentinel', 'sentinel.conf'))).toContain(`sentinel client-reconfig-script agent-hook "${hook}"`);
      expect(permissions(hook)).toMatch(/^[1357]{3}$/);
      // Sentinel runs it with its own, minimal environment.
      // No sentinel runs here, so no majority names the new primary: the hook reaches the agent with
      // Sentinel's arguments, and the agent leaves the published primary alone (the partition test
      // shows the publication when a majority agrees).
      const call = await runCommand(hook, ['agent-hook', 'leader', 'start', '127.0.0.71', '6379', '127.0.0.73', '6379'], { env: {}, timeoutMs: 25_000 });
      expect(call.code).toBe(1);
      expect(call.stderr).toContain('127.0.0.71:6379 -> 127.0.0.73:6379');
      expect(fs.existsSync(path.join(dirs.state, 'primary'))).toBe(false);
      const bad = await runCommand(hook, ['agent-hook', 'leader'], { env: {} });
      expect(bad.code).not.toBe(0);
    });
  });

  describe.each(['local', 'docker'])('the %s platform', (platform) => {
    test('prepare-storage creates the state directories, signal and prepare-network do nothing, configure reads the secrets from files', async () => {
      const fleet = fleetOf(replicationGroupPlan(`agent-${platform}`, redis, ['127.0.0.71', '127.0.0.72', '127.0.0.73']));
      const dirs = fleet.dirs('node-2');
      const env = { CACHEFLEET_PLATFORM: platform };
      expectOk(await fleet.agent('node-2', ['prepare-storage'], env));
      for (const dir of ['redis/data', 'sentinel']) expect(fs.statSync(path.join(dirs.state, dir)).isDirectory()).toBe(true);
      const signal = await fleet.agent('node-2', ['signal', 'success'], env);
      expectOk(signal);
      expectOk(await fleet.agent('node-2', ['prepare-network'], env));
      expectOk(await fleet.agent('node-2', ['configure', 'redis'], env));
      expect(read(path.join(dirs.run, 'redis-node.conf'))).toContain(`masterauth "${fleet.internalPassword}"`);
      fs.rmSync(path.join(dirs.secrets, 'internal-password'));
      const missing = await fleet.agent('node-2', ['configure', 'redis'], env);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain(path.join(dirs.secrets, 'internal-password'));
      const noSlot = await runCommand(AGENT, ['configure', 'redis'], { env: { ...fleet.env('node-2', env), CACHEFLEET_SLOT: '' } });
      expect(noSlot.code).not.toBe(0);
      expect(noSlot.stderr).toContain('CACHEFLEET_SLOT');
    });
  });

  describe('start: what the agent execs', () => {
    /** Runs `start <service>` with CACHEFLEET_BIN_DIR pointing at stand-ins that record their arguments and environment. */
    async function startWithStandIns(fleet: Fleet, slot: string, service: string, platform = 'local') {
      const bin = fs.mkdtempSync(path.join(fleet.root, 'bin-'));
      const capture = path.join(bin, 'capture');
      // The capture path reaches the stand-in through the environment the agent passes on.
      const script = ['#!/bin/sh', 'env > "$CAPTURE.env"', 'for arg in "$0" "$@"; do echo "$arg"; done > "$CAPTURE.args"', ''].join('\n');
      for (const program of ['redis-server', 'redis6-server', 'memcached']) fs.writeFileSync(path.join(bin, program), script, { mode: 0o755 });
      expectOk(await fleet.agent(slot, ['start', service], { CACHEFLEET_BIN_DIR: bin, CAPTURE: capture, CACHEFLEET_PLATFORM: platform }));
      return { args: read(`${capture}.args`).trimEnd().split('\n'), env: read(`${capture}.env`), bin };
    }

    test('redis: <prefix>-server <live redis.conf>, no secret in its arguments or environment', async () => {
      const fleet = fleetOf(standalonePlan('agent-exec', redis, '127.0.0.77'), { appPassword: HOSTILE_APP_TOKEN });
      const { args, env, bin } = await startWithStandIns(fleet, 'node-0', 'redis');
      expect(args).toEqual([path.join(bin, 'redis-server'), path.join(fleet.dirs('node-0').state, 'redis', 'redis.conf')]);
      expect(env).toContain('CACHEFLEET_SLOT=node-0');
      expect(env).not.toMatch(/^(CFV_|REDISCLI_AUTH)/m);
      for (const secret of [HOSTILE_APP_TOKEN, fleet.internalPassword, sha256(HOSTILE_APP_TOKEN)]) expect(env).not.toContain(secret);
    });

    test.each([
      ['local', 'redis6-server'],
      ['docker', 'redis-server'],
    ])("Redis 6.2 on the %s platform runs %s: Amazon Linux's package names, the image's own names in containers", async (platform, server) => {
      const redis62 = CacheEngine.redis({ version: RedisEngineVersion.VER_6_2 });
      const fleet = fleetOf(standalonePlan(`agent-exec-${platform}`, redis62, '127.0.0.74'));
      const { args, bin } = await startWithStandIns(fleet, 'node-0', 'redis', platform);
      expect(args[0]).toBe(path.join(bin, server));
    });

    test('sentinel: <prefix>-server <live sentinel.conf> --sentinel', async () => {
      const fleet = fleetOf(replicationGroupPlan('agent-exec2', redis, ['127.0.0.71', '127.0.0.72', '127.0.0.73']));
      const { args, bin } = await startWithStandIns(fleet, 'node-0', 'sentinel');
      expect(args).toEqual([path.join(bin, 'redis-server'), path.join(fleet.dirs('node-0').state, 'sentinel', 'sentinel.conf'), '--sentinel']);
    });

    /** memcached.args as the agent fills it (256 MiB less the reserved share), with a connection limit at most `maxConns`. */
    function filledMemcachedArgs(fleet: Fleet, address: string, maxConns: number): string[] {
      const memoryMb = Math.floor((TEST_MEMORY_BYTES * (100 - fleet.plan.reservedMemoryPercent)) / 100 / 1048576);
      return fleet.bundle['memcached.args']
        .replace('{{address}}', address)
        .replace('{{memory-mb}}', String(memoryMb))
        .trimEnd()
        .split('\n')
        .map((arg) => {
          const conns = /^--conn-limit=(\d+)$/.exec(arg);
          return conns && Number(conns[1]) > maxConns ? `--conn-limit=${maxConns}` : arg;
        });
    }
    /**
     * Arguments as memcached takes them: of repeated `--conn-limit`s the last counts (memcached keeps
     * the last value of an option), so the others are dropped and the one kept stands where the
     * first was; a lowered limit may be passed by replacing the rendered one or by adding one after.
     */
    function effectiveMemcachedArgs(args: string[]): string[] {
      const limits = args.filter((arg) => /^--conn-limit=/.test(arg));
      const first = args.findIndex((arg) => /^--conn-limit=/.test(arg));
      return args.flatMap((arg, i) => (/^--conn-limit=/.test(arg) ? (i === first ? [limits[limits.length - 1]] : []) : [arg]));
    }
    const asRoot = process.getuid?.() === 0;
    const memcacheUser = fs.readFileSync('/etc/passwd', 'utf8').includes('\nmemcache:') ? 'memcache' : 'nobody';
    const hardOpenFiles = Number(/^Max open files\s+\S+\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? Infinity);

    test('memcached: memcached.args filled, one argument per line, and -u <user> when root', async () => {
      const fleet = fleetOf(memcachedPlan('agent-exec3', ['127.0.0.78']));
      const { args, bin } = await startWithStandIns(fleet, 'node-0', 'memcached');
      expect(effectiveMemcachedArgs(args)).toEqual([path.join(bin, 'memcached'), ...filledMemcachedArgs(fleet, '127.0.0.78', hardOpenFiles), ...(asRoot ? ['-u', memcacheUser] : [])]);
    });

    test('memcached: a connection limit above the node\'s hard open-file limit is lowered to it, with a warning', async () => {
      const fleet = fleetOf(memcachedPlan('agent-exec4', ['127.0.0.79']));
      const configured = Number(/^--conn-limit=(\d+)$/m.exec(fleet.bundle['memcached.args'])?.[1]);
      expect(configured).toBeGreaterThan(1024);
      const bin = fs.mkdtempSync(path.join(fleet.root, 'bin-'));
      const capture = path.join(bin, 'capture');
      fs.writeFileSync(path.join(bin, 'memcached'), '#!/bin/sh\nfor arg in "$@"; do echo "$arg"; done > "$CAPTURE"\n', { mode: 0o755 });
      const result = await runCommand('sh', ['-c', 'ulimit -Sn 1024 && ulimit -Hn 1024 && exec "$0" start memcached', AGENT], {
        env: fleet.env('node-0', { CACHEFLEET_BIN_DIR: bin, CAPTURE: capture }),
      });
      expectOk(result);
      // The warning names both limits.
      expect(result.stderr).toContain(String(configured));
      expect(result.stderr).toContain('1024');
      expect(effectiveMemcachedArgs(read(capture).trimEnd().split('\n'))).toEqual([...filledMemcachedArgs(fleet, '127.0.0.79', 1024), ...(asRoot ? ['-u', memcacheUser] : [])]);
    });
  });

  describe('publication while the sentinels\' answer moves', () => {
    const sentinels = ['127.0.0.77', '127.0.0.78', '127.0.0.79'];

    test('a run that wrote asks again and publishes the newer answer: a slow write never leaves an older primary behind', async () => {
      const fleet = fleetOf(replicationGroupPlan('agent-settle', redis, sentinels));
      const primaryFile = path.join(fleet.dirs('node-1').state, 'primary');
      fs.mkdirSync(path.dirname(primaryFile), { recursive: true });
      fs.writeFileSync(primaryFile, '127.0.0.77:6379\n');
      // Every sentinel names node-1 at its first question, node-2 from then on: the failover ends
      // between the run's first question and its write.
      const moving = await movingSentinels(sentinels, sentinelPort(fleet.plan), (question) => (question === 1 ? '127.0.0.78' : '127.0.0.79'));
      try {
        const run = await fleet.agent('node-1', ['reconcile']);
        expectOk(run);
        expect(read(primaryFile).trim()).toBe('127.0.0.79:6379');
        // It stopped: a bounded number of questions.
        expect(Math.max(...moving.questions)).toBeLessThanOrEqual(3);
      } finally {
        await moving.close();
      }
    });

    test('an answer that keeps moving: at most 3 rounds, the last answer published, and the run ends', async () => {
      const fleet = fleetOf(replicationGroupPlan('agent-settle2', redis, sentinels));
      const primaryFile = path.join(fleet.dirs('node-2').state, 'primary');
      const moving = await movingSentinels(sentinels, sentinelPort(fleet.plan), (question) => sentinels[question % 3]);
      try {
        const run = await fleet.agent('node-2', ['reconcile']);
        expectOk(run);
        // At most three rounds of questions, and the last answer the sentinels gave published.
        const rounds = Math.max(...moving.questions);
        expect(rounds).toBeLessThanOrEqual(3);
        expect(read(primaryFile).trim()).toBe(`${sentinels[rounds % 3]}:6379`);
      } finally {
        await moving.close();
      }
    });
  });

  describe('a node with a hostile AUTH token', () => {
    let fleet: Fleet;
    beforeAll(async () => {
      fleet = fleetOf(standalonePlan('agent-token', redis, '127.0.0.76'), { appPassword: HOSTILE_APP_TOKEN });
      fleet.start('node-0', 'redis');
      await fleet.waitReady('node-0', 'redis', 30);
    }, 60_000);

    test('the application user authenticates with it; default and anonymous are refused', async () => {
      expect(await command('127.0.0.76', 6379, { username: 'app', password: HOSTILE_APP_TOKEN }, 'PING')).toBe('PONG');
      expect((await cli('redis-cli', '127.0.0.76', 6379, ['PING'], { username: 'app', password: HOSTILE_APP_TOKEN })).stdout.trim()).toBe('PONG');
      await expect(auth('127.0.0.76', 6379, HOSTILE_APP_TOKEN, 'default')).rejects.toThrow(/WRONGPASS/);
      await expect(command('127.0.0.76', 6379, {}, 'PING')).rejects.toThrow(/NOAUTH/);
    });

    test('no secret is on the engine\'s command line', () => {
      const cmdline = read(`/proc/${fleet.process('node-0', 'redis').pid}/cmdline`);
      for (const secret of [HOSTILE_APP_TOKEN, fleet.internalPassword, sha256(HOSTILE_APP_TOKEN)]) expect(cmdline).not.toContain(secret);
    });

    test('the engine runs the rendered maxmemory: 256 MiB less the reserved share', async () => {
      // CONFIG is the admin user's (the application user gets NOPERM).
      const reply = (await command('127.0.0.76', 6379, { username: 'cachefleet-admin', password: fleet.adminPassword }, 'CONFIG', 'GET', 'maxmemory')) as string[];
      expect(Number(reply[1])).toBe(Math.floor((TEST_MEMORY_BYTES * (100 - fleet.plan.reservedMemoryPercent)) / 100));
      // And the replicas' output-buffer limit the node sized from the same memory (the engine's
      // other classes as redis.conf sets them).
      const buffers = (await command('127.0.0.76', 6379, { username: 'cachefleet-admin', password: fleet.adminPassword }, 'CONFIG', 'GET', 'client-output-buffer-limit')) as string[];
      const expected = replicaOutputBuffer(TEST_MEMORY_BYTES, fleet.plan.reservedMemoryPercent);
      expect(buffers[1]).toBe(`normal 0 0 0 slave ${expected['replica-output-buffer-hard']} ${expected['replica-output-buffer-soft']} 60 pubsub 33554432 8388608 60`);
    });

    test('apply-parameters: CONFIG SETs each live parameter that changed, and stops naming one the engine refuses', async () => {
      const admin = { username: 'cachefleet-admin', password: fleet.adminPassword };
      const live = path.join(fleet.dirs('node-0').config, 'live-parameters');
      const running = path.join(fleet.dirs('node-0').run, 'live-parameters.running');
      fs.copyFileSync(live, running);
      fs.writeFileSync(live, `${fs.readFileSync(live, 'utf8')}timeout\t321\n`);
      const applied = await fleet.agent('node-0', ['apply-parameters', running]);
      expect({ code: applied.code, stderr: applied.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      expect(await command('127.0.0.76', 6379, admin, 'CONFIG', 'GET', 'timeout')).toEqual(['timeout', '321']);
      fs.writeFileSync(live, `${fs.readFileSync(live, 'utf8')}maxmemory-policy\tnot-a-policy\n`);
      const refused = await fleet.agent('node-0', ['apply-parameters', running]);
      expect(refused.code).not.toBe(0);
      // The refusal names the parameter and the value.
      expect(refused.stderr).toContain('maxmemory-policy');
      expect(refused.stderr).toContain('not-a-policy');
    });
  });
});
