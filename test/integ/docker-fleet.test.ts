import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import Redis from 'ioredis';
import { describeInteg, needsBinaries } from './support/binaries';
import { auth, command, connect, infoFields, memcachedRequest, pairs } from './support/clients';
import { bundleContainer, bundleFile, nodeContainers } from './support/docker-bundle';
import { loopbackAddresses } from './support/plans';
import { waitFor } from './support/processes';
import { TerraformContainers } from './support/terraform-json';
import { CacheFleetsStack } from '../../examples/docker/stack';
import { RedisEngineVersion } from '../../src/core/engine';

/**
 * The Docker example, from its synthesized Terraform JSON to running servers: every
 * `docker_container` of `cdk.tf.json` runs here with its uploaded files, environment, entrypoint and
 * command unchanged (support/terraform-json.ts), the Debian servers standing in for the images'.
 * Addresses 127.0.0.81-89 (test/integ/README.md): the group's six containers on 81-86, the
 * Memcached nodes on 87-89.
 */
jest.setTimeout(180_000);

const TOKEN = 'Docker&Token|$HOME-9876';
const ADMIN_TOKEN = 'Docker-Admin_5432-ijkl';
const INTERNAL = createHash('sha256').update(`${TOKEN}:cachefleet-internal`).digest('hex');

describeInteg('the Docker example run from its cdk.tf.json', () => {
  needsBinaries(['redis-server', 'redis-cli', 'memcached']);

  let fleet: TerraformContainers;
  let outputs: Record<string, { value: unknown; sensitive: boolean }>;
  // The example's backup folder on the Docker host stands at a directory of the test's.
  const backups = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-example-backups-'));
  const inputs = { variables: { sessions_auth_token: TOKEN, sessions_admin_token: ADMIN_TOKEN }, hostPaths: { '/var/backups/cachefleet/sessions': backups } };
  const app = { username: 'app', password: TOKEN };
  const admin = { username: 'cachefleet-admin', password: ADMIN_TOKEN };

  beforeAll(() => {
    const app_ = Testing.app();
    // The example's stack, with the Redis version this machine's servers are (Debian bookworm: 7.0;
    // the example's 7.2 configuration has 7.2-only directives such as `set-max-listpack-entries`).
    const stack = new CacheFleetsStack(app_, 'cachefleet-docker', { redisVersion: RedisEngineVersion.VER_7_0 });
    const synthesized = Testing.synth(stack);
    // Sessions' containers first (81-86), then Pages' (87-89), whatever order the JSON has.
    const tf = JSON.parse(synthesized);
    const ordered = Object.fromEntries(
      Object.entries(tf.resource.docker_container as Record<string, any>).sort(([, a], [, b]) =>
        Number(a.name.startsWith('pages')) - Number(b.name.startsWith('pages')) || a.name.localeCompare(b.name),
      ),
    );
    tf.resource.docker_container = ordered;
    // The Docker host's 127.0.0.1, where ports are published, stands at 127.0.0.81 (other ports).
    fleet = TerraformContainers.prepare(JSON.stringify(tf), inputs, loopbackAddresses(81, 9), 'docker', '127.0.0.81');
    outputs = tf.output;
  });

  afterAll(async () => {
    await fleet?.dispose();
    fs.rmSync(backups, { recursive: true, force: true });
  });

  const sessions = () => nodeContainers(fleet, 'sessions');
  const dataNodes = () => sessions().filter((c) => c.labels['cachefleet.service'] === 'redis');
  const sentinels = () => sessions().filter((c) => c.labels['cachefleet.service'] === 'sentinel');
  const pages = () => nodeContainers(fleet, 'pages');

  /** Starts a fleet's bundle container, then its nodes (which wait for its first bundle). */
  function startFleet(name: string): void {
    fleet.start(bundleContainer(fleet, name).name);
    for (const container of nodeContainers(fleet, name)) fleet.start(container.name);
  }

  async function healthy(name: string): Promise<void> {
    await waitFor(`${name}'s health check`, async () => {
      if (!fleet.process(name).running) throw new Error(`${name} exited (${fleet.process(name).status})`);
      return (await fleet.health(name)).code === 0;
    }, { timeoutMs: 30_000, intervalMs: 250 }).catch((error) => {
      throw new Error(`${error.message}\n${fleet.logs()}`);
    });
  }

  function reservedPercent(name: string): number {
    const match = /^CF_RESERVED_MEMORY_PERCENT='(\d+)'$/m.exec(bundleFile(fleet, 'fleet.env', fleet.container(name).labels['cachefleet.fleet']));
    if (!match) throw new Error('fleet.env sets no CF_RESERVED_MEMORY_PERCENT');
    return Number(match[1]);
  }

  async function primaryBySentinels(): Promise<string> {
    const answers = await Promise.all(
      sentinels().map((s) => command(s.address, 26379, { password: TOKEN }, 'SENTINEL', 'get-master-addr-by-name', 'sessions').catch(() => undefined)),
    );
    const named = answers.filter((a): a is string[] => Array.isArray(a)).map((a) => a.join(':'));
    if (named.length !== sentinels().length || new Set(named).size !== 1) throw new Error(`sentinels disagree: ${JSON.stringify(named)}`);
    return named[0];
  }

  test('the synthesized files are what runs: secrets resolved from the variable, addresses mapped', () => {
    expect(sessions()).toHaveLength(6);
    expect(pages()).toHaveLength(3);
    const node0 = fleet.container('sessions-node-0');
    expect(node0.files['/run/cachefleet/secrets/app-password']).toBe(TOKEN);
    expect(node0.files['/run/cachefleet/secrets/internal-password']).toBe(INTERNAL);
    expect(bundleFile(fleet, 'sentinel.conf', 'sessions')).toContain('sentinel monitor sessions 127.0.0.81 6379 2');
    expect(bundleFile(fleet, 'fleet.env', 'sessions')).toContain("CF_SENTINELS='127.0.0.84:26379 127.0.0.85:26379 127.0.0.86:26379'");
    // The nodes upload only the launcher and their secrets: the bundle comes from the fleet volume.
    expect(Object.keys(node0.files).sort()).toEqual([
      '/run/cachefleet/secrets/admin-password', '/run/cachefleet/secrets/app-password', '/run/cachefleet/secrets/internal-password', '/usr/local/bin/cachefleet-launch',
    ]);
    expect(bundleContainer(fleet, 'sessions').address).toBe('');
    expect(node0.argv.slice(1)).toEqual(['start', 'redis']);
    expect(node0.env.CACHEFLEET_PLATFORM).toBe('docker');
    // No secret in any file other than the secrets themselves.
    for (const container of fleet.containers) {
      for (const [file, content] of Object.entries(container.files)) {
        if (!file.startsWith('/run/cachefleet/secrets/')) expect(content).not.toContain(TOKEN);
      }
    }
  });

  test('the group forms: one primary, two replicas in sync, three sentinels with quorum', async () => {
    startFleet('sessions');
    await Promise.all(sessions().map((c) => healthy(c.name)));

    // Healthy is not formed: a replica of a new group is healthy before its primary answers (the
    // nodes start in any order), so the links come up after.
    await waitFor('the primary to have two replicas, each with its link up', async () => {
      const replication = infoFields(String(await command('127.0.0.81', 6379, app, 'INFO', 'replication')));
      const replicas = await Promise.all(dataNodes().slice(1).map(async (replica) => infoFields(String(await command(replica.address, 6379, app, 'INFO', 'replication')))));
      return replication.role === 'master' && replication.connected_slaves === '2' &&
        replicas.every((info) => info.role === 'slave' && info.master_host === '127.0.0.81' && info.master_link_status === 'up');
    }, { timeoutMs: 30_000, intervalMs: 250 });
    await waitFor('every sentinel to see its two peers and the two replicas', async () => {
      for (const s of sentinels()) {
        const master = pairs(await command(s.address, 26379, { password: TOKEN }, 'SENTINEL', 'MASTER', 'sessions'));
        if (master['num-other-sentinels'] !== '2' || master['num-slaves'] !== '2') return false;
      }
      return true;
    }, { timeoutMs: 30_000, intervalMs: 250 });
    for (const s of sentinels()) {
      expect(await command(s.address, 26379, { password: TOKEN }, 'SENTINEL', 'CKQUORUM', 'sessions')).toMatch(/^OK 3 usable Sentinels/);
    }
    expect(await primaryBySentinels()).toBe('127.0.0.81:6379');
  });

  test('maxmemory follows the container memory limit less the reserved share', async () => {
    const limit = fleet.container('sessions-node-0').memoryMiB! * 1024 * 1024;
    const [, maxmemory] = (await command('127.0.0.81', 6379, admin, 'CONFIG', 'GET', 'maxmemory')) as string[];
    const reserved = reservedPercent('sessions-node-0');
    expect(Number(maxmemory)).toBe(Math.floor((limit * (100 - reserved)) / 100));
  });

  test('AUTH is required: no anonymous access, a wrong token is refused, the right one works', async () => {
    await expect(command('127.0.0.81', 6379, {}, 'GET', 'x')).rejects.toThrow(/NOAUTH/);
    await expect(auth('127.0.0.81', 6379, 'wrong-token-1234567')).rejects.toThrow(/WRONGPASS/);
    await expect(auth('127.0.0.81', 6379, TOKEN, 'app')).resolves.toBe('OK');
    await expect(command('127.0.0.84', 26379, {}, 'SENTINEL', 'MASTERS')).rejects.toThrow(/NOAUTH/);
  });

  test('kill -9 of the primary: the sentinels promote a replica, writes resume, the old primary rejoins as a replica', async () => {
    const client = await connect('127.0.0.81', 6379, app);
    try {
      for (let i = 0; i < 100; i++) await client.set(`before:${i}`, String(i));
      expect(await client.call('WAIT', 2, 5000)).toBe(2);
    } finally {
      client.disconnect();
    }
    const killedAt = Date.now();
    fleet.process('sessions-node-0').signal('SIGKILL');
    await fleet.process('sessions-node-0').exited;

    const promoted = await waitFor('the sentinels to name a new primary', async () => {
      const primary = await primaryBySentinels().catch(() => undefined);
      return primary && primary !== '127.0.0.81:6379' ? primary : undefined;
    }, { timeoutMs: 60_000, intervalMs: 100 });
    const [host] = promoted.split(':');
    await waitFor('a write through the new primary', async () => (await command(host, 6379, app, 'SET', 'after', 'failover')) === 'OK');
    // A figure, not a verdict: two sentinels that start their election at once split the vote, and
    // Sentinel retries only after twice its failover timeout, a valid path that takes much longer.
    const seconds = (Date.now() - killedAt) / 1000;
    expect(await command(host, 6379, app, 'GET', 'before:99')).toBe('99');

    // The restart policy brings the container back: it must come back as a replica.
    fleet.start('sessions-node-0');
    await healthy('sessions-node-0');
    // Healthy is not linked: the replica's link to the new primary comes up after.
    await waitFor('the old primary to follow the new one, its link up', async () => {
      const info = infoFields(String(await command('127.0.0.81', 6379, app, 'INFO', 'replication')));
      return info.role === 'slave' && info.master_host === host && info.master_link_status === 'up';
    }, { timeoutMs: 30_000, intervalMs: 250 });
    expect(await primaryBySentinels()).toBe(promoted);
    expect(await command('127.0.0.81', 6379, app, 'GET', 'after')).toBe('failover');
    console.log(`docker fleet failover: a write succeeded ${seconds.toFixed(2)} s after kill -9 of the primary; new primary ${promoted}`);
  });

  test('every container restarts: one primary again, the data intact, AUTH still required', async () => {
    const before = await primaryBySentinels();
    await fleet.stopAll();
    startFleet('sessions');
    await Promise.all(sessions().map((c) => healthy(c.name)));

    // Every container starting at once (as after a daemon restart) can let the sentinels fail over
    // before a slow primary answers; the old primary is then turned into a replica. What must hold
    // once they settle: exactly one primary, named by every sentinel, followed by every replica.
    const primary = await waitFor('one primary, named by every sentinel and followed by every replica', async () => {
      const named = await primaryBySentinels();
      const roles = await Promise.all(dataNodes().map(async (c) => infoFields(String(await command(c.address, 6379, app, 'INFO', 'replication')))));
      const masters = dataNodes().filter((_, i) => roles[i].role === 'master').map((c) => `${c.address}:6379`);
      const following = roles.filter((r) => r.role === 'slave').every((r) => `${r.master_host}:${r.master_port}` === named && r.master_link_status === 'up');
      return masters.length === 1 && masters[0] === named && following ? named : undefined;
    }, { timeoutMs: 60_000, intervalMs: 200 });
    console.log(`docker fleet full restart: primary before ${before}, after ${primary}`);
    for (const c of dataNodes()) {
      expect(await command(c.address, 6379, app, 'GET', 'before:42')).toBe('42');
      expect(await command(c.address, 6379, app, 'GET', 'after')).toBe('failover');
    }
    await expect(command(primary.split(':')[0], 6379, {}, 'PING')).rejects.toThrow(/NOAUTH/);
  });

  test('a Sentinel client on the Docker host follows the primary through the published ports and the address map', async () => {
    await fleet.publishPorts();
    const natMap = fleet.resolve(outputs.sessions_host_address_map.value, inputs) as Record<string, string>;
    const hostSentinels = fleet.resolve(outputs.sessions_host_sentinels.value, inputs) as string[];
    const masterName = fleet.resolve(outputs.sessions_sentinel_master_name.value, inputs) as string;
    expect(Object.keys(natMap)).toHaveLength(6);
    // sentinel-j publishes on hostPortBase + 6 + j, whatever the replica count.
    expect(hostSentinels).toEqual(['127.0.0.81:16385', '127.0.0.81:16386', '127.0.0.81:16387']);
    // No output names a primary: the group's outputs lead a client to the sentinels, which follow it.
    expect(Object.keys(outputs).filter((name) => /primary/.test(name))).toEqual([]);

    const client = new Redis({
      sentinels: hostSentinels.map((hp) => ({ host: hp.split(':')[0], port: Number(hp.split(':')[1]) })),
      name: masterName,
      natMap: Object.fromEntries(Object.entries(natMap).map(([from, to]) => [from, { host: to.split(':')[0], port: Number(to.split(':')[1]) }])),
      username: 'app',
      password: TOKEN,
      sentinelPassword: TOKEN,
      sentinelRetryStrategy: () => null,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      expect(await client.set('host:client', 'via-nat')).toBe('OK');
      const primary = await primaryBySentinels();
      // The connection goes to the primary's published port, not to its container address.
      const stream = (client as any).stream as import('net').Socket;
      expect(`${stream.remoteAddress}:${stream.remotePort}`).toBe(natMap[primary]);
      expect(await command(primary.split(':')[0], 6379, app, 'GET', 'host:client')).toBe('via-nat');
    } finally {
      client.disconnect();
    }
  });

  test('the Memcached nodes serve, each on its own address', async () => {
    startFleet('pages');
    await Promise.all(pages().map((c) => healthy(c.name)));
    for (const [i, container] of pages().entries()) {
      expect(container.address).toBe(`127.0.0.${87 + i}`);
      expect(await memcachedRequest(container.address, 11211, `set page:${i} 0 0 5\r\nhello\r\n`)).toBe('STORED\r\n');
      expect(await memcachedRequest(container.address, 11211, `get page:${i}\r\n`)).toBe(`VALUE page:${i} 0 5\r\nhello\r\nEND\r\n`);
    }
    // Memory from the container limit less the reserved share.
    const limitMiB = fleet.container('pages-node-0').memoryMiB!;
    const settings = await memcachedRequest('127.0.0.87', 11211, 'stats settings\r\n');
    const maxbytes = /STAT maxbytes (\d+)/.exec(settings)?.[1];
    expect(Number(maxbytes)).toBe(Math.floor((limitMiB * (100 - reservedPercent('pages-node-0'))) / 100) * 1024 * 1024);
  });

  test('the engines run as the images\' users with no capability; the agent keeps only the six it needs, and none can gain more', () => {
    /** A process's status fields, or undefined when it ended meanwhile (the agents start short-lived helpers). */
    const status = (pid: number): Record<string, string> | undefined => {
      let text: string;
      try {
        text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      } catch {
        return undefined;
      }
      return Object.fromEntries(text.split('\n').map((line) => line.split(':\t')).filter((pair) => pair.length === 2).map(([key, value]) => [key, value.trim()]));
    };
    /** The processes of a container: its process group. */
    const processesOf = (name: string) => {
      const group = fleet.process(name).pid;
      return fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number).filter((pid) => {
        try {
          // The fields after the command's `)`: state, ppid, pgrp.
          return Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[2]) === group;
        } catch {
          return false; // gone meanwhile
        }
      }).map(status).filter((p): p is Record<string, string> => p !== undefined);
    };
    // CHOWN, DAC_OVERRIDE, FOWNER, KILL, SETGID, SETUID: bits 0, 1, 3, 5, 6, 7.
    const agentCapabilities = (2 ** 0 + 2 ** 1 + 2 ** 3 + 2 ** 5 + 2 ** 6 + 2 ** 7).toString(16).padStart(16, '0');
    const seen: string[] = [];
    for (const container of [...sessions(), ...pages()]) {
      const user = container.labels['cachefleet.fleet'] === 'pages' ? '11211' : '999';
      for (const p of processesOf(container.name)) {
        if (p.Name === 'redis-server' || p.Name === 'memcached') {
          const ids = `${user}\t${user}\t${user}\t${user}`; // real, effective, saved, filesystem
          const seenAs = {
            container: container.name, engine: p.Name, uid: p.Uid, gid: p.Gid, capabilities: p.CapEff, bounding: p.CapBnd, noNewPrivs: p.NoNewPrivs,
          };
          expect(seenAs).toEqual({ ...seenAs, uid: ids, gid: ids, capabilities: '0000000000000000', bounding: agentCapabilities, noNewPrivs: '1' });
          seen.push(container.name);
        } else if (p.Name === 'cachefleet-node') {
          expect({ container: container.name, uid: p.Uid.split('\t')[0], capabilities: p.CapEff, noNewPrivs: p.NoNewPrivs })
            .toEqual({ container: container.name, uid: '0', capabilities: agentCapabilities, noNewPrivs: '1' });
        }
      }
    }
    // Every container's engine was found (the check cannot pass by finding nothing).
    expect(seen.sort()).toEqual([...sessions(), ...pages()].map((c) => c.name).sort());
    // The bundle containers run as root with no capability at all: they only copy files.
    for (const name of ['sessions', 'pages']) {
      const processes = processesOf(bundleContainer(fleet, name).name);
      expect(processes.length).toBeGreaterThan(0);
      for (const p of processes) expect({ name, capabilities: p.CapEff, bounding: p.CapBnd, noNewPrivs: p.NoNewPrivs }).toEqual({ name, capabilities: '0000000000000000', bounding: '0000000000000000', noNewPrivs: '1' });
    }
    // The data on the volume is the engine's.
    const data = path.join(fleet.container('sessions-node-0').root, 'var/lib/cachefleet/redis/data');
    expect(fs.statSync(data).uid).toBe(999);
  });
});
