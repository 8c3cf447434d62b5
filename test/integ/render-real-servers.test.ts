import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Construct } from 'constructs';
import Redis from 'ioredis';
import { describeInteg, needsBinaries } from './support/binaries';
import { connect, Credentials, infoFields, memcachedRequest, pairs, withClient } from './support/clients';
import { ManagedProcess, startProcess, waitFor } from './support/processes';
import { CacheEngine } from '../../src/core/engine';
import { ParameterGroup } from '../../src/core/parameters/parameter-group';
import { Persistence } from '../../src/core/persistence';
import { BUNDLE_FILES, fillPlaceholders, PlaceholderValues, renderBundle } from '../../src/core/render';
import { FleetPlan, NodeSlot, planFleet } from '../../src/core/topology';
import { validateCacheClusterOptions, validateReplicationGroupOptions } from '../../src/core/validation';
import { MEMCACHED_16, REDIS_7, redisPlan, VALKEY_8 } from '../core/render/fixtures';

/**
 * The renderers' files on real servers, filled as the node agent fills them and laid out as it lays
 * them out (docs/node-agent.md): the files parse, the ACL users have the rights they need and no
 * more, and Sentinel fails a group over with its own user. Addresses 127.0.0.61-69 only.
 */

/** An AUTH token with characters a config line or a shell would mind: it only ever appears hashed. */
const APP_TOKEN = 'T0ken\'s\\#$!;`~&|^-0123456789';
const INTERNAL_PASSWORD = 'internal-Pass_5678-abcd';
const ADMIN_PASSWORD = 'admin-Pass_9012-efgh';
const MEMORY_BYTES = 64 * 1024 * 1024;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const APP = { username: 'app', password: APP_TOKEN };
const SENTINEL_USER = { username: 'cachefleet-sentinel', password: INTERNAL_PASSWORD };
const REPLICATION_USER = { username: 'cachefleet-replication', password: INTERNAL_PASSWORD };
const ADMIN = { username: 'cachefleet-admin', password: ADMIN_PASSWORD };

/** A parameter group, as a user declares one. */
function parameterGroup(engine: CacheEngine, parameters: Record<string, string>): ParameterGroup {
  return new ParameterGroup(new Construct(undefined as any, 'Root'), 'Params', { engine, parameters });
}

/** Slot i of the planner's plan lives at addresses[i]. */
const at = (addresses: string[]) => ({ index }: { index: number }) => addresses[index];

interface Engine {
  readonly title: string;
  readonly engine: CacheEngine;
  readonly server: string;
}

const ENGINES: Record<'redis' | 'valkey', Engine> = {
  redis: { title: 'Redis 7.0', engine: REDIS_7, server: 'redis-server' },
  valkey: { title: 'Valkey 8.0', engine: VALKEY_8, server: 'valkey-server' },
};

/**
 * A fleet on this machine: the bundle rendered once, each slot's files filled and written under a
 * temporary root, the engine started directly from them (not through the agent: this tests the
 * files, whatever the agent does).
 */
class LocalFleet {
  public readonly root: string;
  public readonly bundle: Record<string, string>;
  private readonly processes: ManagedProcess[] = [];

  constructor(public readonly plan: FleetPlan, private readonly server: string) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), `cachefleet-render-${plan.name}-`));
    this.bundle = renderBundle(plan);
    const bundleDir = path.join(this.root, 'bundle');
    for (const [relative, text] of Object.entries(this.bundle)) {
      fs.mkdirSync(path.dirname(path.join(bundleDir, relative)), { recursive: true });
      fs.writeFileSync(path.join(bundleDir, relative), text);
    }
  }

  public slot(name: string): NodeSlot {
    return this.plan.slots.find((slot) => slot.name === name)!;
  }

  /** The slot's directories; the data directory has a space, which the quoted `dir` must keep. */
  public dirs(slot: NodeSlot) {
    const base = path.join(this.root, slot.name);
    return {
      run: path.join(base, 'run'),
      data: path.join(base, 'state', 'redis', 'data dir'),
      liveRedisConf: path.join(base, 'state', 'redis', 'redis.conf'),
      liveAcl: path.join(base, 'state', 'redis', 'users.acl'),
      sentinel: path.join(base, 'state', 'sentinel'),
      hookLog: path.join(base, 'run', 'failover.log'),
    };
  }

  /** What the agent would fill a template with on this slot. */
  public values(slot: NodeSlot): PlaceholderValues {
    const dirs = this.dirs(slot);
    return {
      'address': slot.address,
      'data-dir': dirs.data,
      'sentinel-dir': dirs.sentinel,
      'acl-file': dirs.liveAcl,
      'maxmemory': String(MEMORY_BYTES),
      'memory-mb': String(MEMORY_BYTES / 1024 / 1024),
      // What a node whose maxmemory leaves 64 MiB over takes (docs/node-agent.md).
      'replica-output-buffer-hard': String(32 * 1024 * 1024),
      'replica-output-buffer-soft': String(8 * 1024 * 1024),
      'app-password': APP_TOKEN,
      'app-password-sha256': sha256(APP_TOKEN),
      'internal-password': INTERNAL_PASSWORD,
      'internal-password-sha256': sha256(INTERNAL_PASSWORD),
      'admin-password': ADMIN_PASSWORD,
      'admin-password-sha256': sha256(ADMIN_PASSWORD),
      'on-failover-hook': path.join(dirs.run, 'on-failover'),
    };
  }

  public fill(file: string, slot: NodeSlot): string {
    return fillPlaceholders(this.bundle[file], this.values(slot));
  }

  /**
   * Starts a data node the way docs/node-agent.md lays it out: the live redis.conf, written only
   * when absent, includes the shipped redis.conf and this boot's filled redis-node.conf; the role
   * is the agent's line below them.
   */
  public startDataNode(slot: NodeSlot, replicaOf?: NodeSlot): ManagedProcess {
    const dirs = this.dirs(slot);
    fs.mkdirSync(dirs.run, { recursive: true });
    fs.mkdirSync(dirs.data, { recursive: true });
    const nodeConf = path.join(dirs.run, 'redis-node.conf');
    fs.writeFileSync(nodeConf, this.fill(BUNDLE_FILES.redisNodeConf, slot));
    fs.writeFileSync(dirs.liveAcl, this.fill(BUNDLE_FILES.usersAcl, slot));
    if (!fs.existsSync(dirs.liveRedisConf)) {
      const role = replicaOf ? `replicaof ${replicaOf.address} ${this.plan.port}\n` : '';
      const shipped = path.join(this.root, 'bundle', BUNDLE_FILES.redisConf);
      fs.writeFileSync(dirs.liveRedisConf, `include "${shipped}"\ninclude "${nodeConf}"\n${role}`);
    }
    return this.launch(`${slot.name}/redis`, this.server, [dirs.liveRedisConf]);
  }

  /** Starts a sentinel from its filled sentinel.conf, with a failover hook that records its arguments. */
  public startSentinel(slot: NodeSlot): ManagedProcess {
    const dirs = this.dirs(slot);
    fs.mkdirSync(dirs.run, { recursive: true });
    fs.mkdirSync(dirs.sentinel, { recursive: true });
    const hook = this.values(slot)['on-failover-hook']!;
    fs.writeFileSync(hook, `#!/bin/sh\necho "$*" >> '${dirs.hookLog}'\n`, { mode: 0o755 });
    const live = path.join(dirs.sentinel, 'sentinel.conf');
    if (!fs.existsSync(live)) fs.writeFileSync(live, this.fill(BUNDLE_FILES.sentinelConf, slot));
    return this.launch(`${slot.name}/sentinel`, this.server, [live, '--sentinel']);
  }

  public launch(name: string, command: string, args: string[]): ManagedProcess {
    const started = startProcess(name, command, args, { PATH: process.env.PATH }, path.join(this.root, 'logs', `${name.replace('/', '-')}.log`));
    this.processes.push(started);
    return started;
  }

  /** Waits until a server accepts connections (a `NOAUTH` answer is an answer); fails with its log if it exits. */
  public async ready(process: ManagedProcess, host: string, port: number): Promise<void> {
    await waitFor(`${process.name} on ${host}:${port}`, async () => {
      if (!process.running) throw new Error(`${process.name} exited (${process.status}):\n${process.log()}`);
      const client = await connect(host, port);
      client.disconnect();
      return true;
    });
  }

  public async dispose(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop('SIGTERM', 5_000)));
    if (process.env.CACHEFLEET_KEEP_INTEG !== '1') fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** One command on a fresh connection authenticated as `credentials` (or not at all). */
const run = (host: string, port: number, credentials: Credentials, ...args: Array<string | number>) =>
  withClient(host, port, credentials, (client) => client.call(String(args[0]), ...args.slice(1)));

/** The name the tests' own connections as the sentinel user carry, to tell them from the sentinels'. */
const TEST_CLIENT = 'render-test';

/**
 * Runs `fn` on a connection as the sentinel user, named TEST_CLIENT before anything else is sent
 * (and without ioredis's `CLIENT SETINFO`, which the user may not run), so that `ACL LOG` entries
 * of the tests' own denied commands are told apart from the sentinels'.
 */
async function asSentinelUser<T>(host: string, port: number, fn: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({
    host,
    port,
    ...SENTINEL_USER,
    connectionName: TEST_CLIENT,
    disableClientInfo: true,
    lazyConnect: true,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

/**
 * What `ACL LOG` recorded against cachefleet's own users, but for the tests' own connections: a
 * denied command, key or channel, or a failed AUTH. A sentinel whose `CLIENT SETNAME` is denied has
 * no name, so sentinels' entries are told apart by the tests' name, not by theirs.
 */
async function internalDenials(host: string, port: number, users: string[]): Promise<string[]> {
  const entries = ((await run(host, port, ADMIN, 'ACL', 'LOG')) as unknown[]).map((entry) => pairs(entry));
  return entries
    .filter((entry) => users.includes(entry.username) && !entry['client-info'].includes(`name=${TEST_CLIENT} `))
    .map((entry) => `${entry.reason} ${entry.object} as ${entry.username}`);
}

const INTERNAL_USERS = [SENTINEL_USER.username, REPLICATION_USER.username];

describeInteg('rendered files on real servers', () => {
  needsBinaries(['redis-server', 'valkey-server', 'memcached']);

  describe.each([
    { engine: ENGINES.redis, address: '127.0.0.61', persistence: Persistence.aofEverySecond() },
    { engine: ENGINES.valkey, address: '127.0.0.62', persistence: Persistence.rdb() },
  ])('$engine.title: one primary and its sentinel', ({ engine, address, persistence }) => {
    const PORT = 6379;
    const SENTINEL_PORT = 26379;
    let fleet: LocalFleet;
    let node: NodeSlot;

    beforeAll(async () => {
      const plan = redisPlan({
        name: 'single',
        engine: engine.engine,
        dataAddresses: [address],
        failover: true,
        sentinel: { quorum: 1 },
        persistence,
        engineParameters: [
          ['maxmemory-policy', 'allkeys-lru'],
          ['notify-keyspace-events', 'Ex'],
          ['client-output-buffer-limit', 'pubsub 64mb 16mb 90'],
          ['latency-tracking-info-percentiles', '50 99 99.9'],
          ['min-replicas-max-lag', '10'],
          ['timeout', '300'],
          ['save', '60 1'],
        ],
      });
      fleet = new LocalFleet(plan, engine.server);
      node = fleet.slot('node-0');
      const data = fleet.startDataNode(node);
      const sentinel = fleet.startSentinel(node);
      await fleet.ready(data, address, PORT);
      await fleet.ready(sentinel, address, SENTINEL_PORT);
    });

    afterAll(async () => fleet?.dispose());

    test('redis.conf carries no placeholder: it is shipped as is', () => {
      expect(fillPlaceholders(fleet.bundle[BUNDLE_FILES.redisConf], {})).toBe(fleet.bundle[BUNDLE_FILES.redisConf]);
    });

    test('the server runs with every rendered directive', async () => {
      const config = pairs(await run(address, PORT, ADMIN, 'CONFIG', 'GET', '*'));
      expect(config).toMatchObject({
        'port': '6379',
        'bind': address,
        'protected-mode': 'no',
        'daemonize': 'no',
        'logfile': '',
        'dir': fleet.dirs(node).data,
        'aclfile': fleet.dirs(node).liveAcl,
        'maxmemory': String(MEMORY_BYTES),
        'masteruser': 'cachefleet-replication',
        'replica-announce-ip': address,
        'replica-announce-port': '6379',
        'maxmemory-policy': 'allkeys-lru',
        'notify-keyspace-events': 'xE',
        'latency-tracking-info-percentiles': '50 99 99.9',
        'min-replicas-max-lag': '10',
        'timeout': '300',
      });
      expect(config['client-output-buffer-limit']).toMatch(/ pubsub 67108864 16777216 90$/);
      if (persistence.mode === 'aof') {
        expect(config).toMatchObject({ 'appendonly': 'yes', 'appendfsync': 'everysec', 'aof-use-rdb-preamble': 'yes', 'save': '' });
      } else {
        // Three `save` lines add up; the parameter `save 60 1` was skipped (the plan's persistence wins).
        expect(config).toMatchObject({ appendonly: 'no', save: '3600 1 300 100 60 10000' });
      }
    });

    test('default is refused, with or without the token', async () => {
      await expect(run(address, PORT, {}, 'GET', 'k')).rejects.toThrow(/NOAUTH/);
      await expect(run(address, PORT, {}, 'AUTH', APP_TOKEN)).rejects.toThrow(/WRONGPASS/);
      await expect(run(address, PORT, {}, 'AUTH', 'default', '')).rejects.toThrow(/WRONGPASS/);
    });

    test('the application user may use the data, not administer the engine (CONFIG is the admin user\'s)', async () => {
      await withClient(address, PORT, APP, async (client) => {
        expect(await client.call('ACL', 'WHOAMI')).toBe('app');
        expect(await client.set('k', 'v')).toBe('OK');
        expect(await client.get('k')).toBe('v');
        await expect(client.call('CONFIG', 'SET', 'timeout', '301')).rejects.toThrow(/NOPERM/);
        expect(await client.call('PUBLISH', 'any-channel', 'x')).toBe(0);
      });
      await withClient(address, PORT, ADMIN, async (client) => {
        expect(await client.call('CONFIG', 'SET', 'timeout', '301')).toBe('OK');
      });
    });

    test('the sentinel user can INFO and ROLE, and cannot read data', async () => {
      await asSentinelUser(address, PORT, async (client) => {
        expect(infoFields(String(await client.call('INFO', 'replication'))).role).toBe('master');
        expect(((await client.call('ROLE')) as unknown[])[0]).toBe('master');
        await expect(client.get('k')).rejects.toThrow(/NOPERM/);
        await expect(client.call('FLUSHALL')).rejects.toThrow(/NOPERM/);
        await expect(client.call('PUBLISH', 'other', 'x')).rejects.toThrow(/NOPERM/);
      });
    });

    test('the replication user can PING, and cannot read data', async () => {
      await withClient(address, PORT, REPLICATION_USER, async (client) => {
        expect(await client.call('PING')).toBe('PONG');
        await expect(client.get('k')).rejects.toThrow(/NOPERM/);
        await expect(client.call('INFO')).rejects.toThrow(/NOPERM/);
      });
    });

    test('the sentinel monitors the primary with its own user, and nothing it sent was denied', async () => {
      const master = await waitFor('the sentinel to see a healthy primary', async () => {
        const fields = pairs(await run(address, SENTINEL_PORT, APP, 'SENTINEL', 'MASTER', 'single'));
        return fields.flags === 'master' && fields['role-reported'] === 'master' && Number(fields['info-refresh']) < 10_000 && fields;
      });
      expect(master).toMatchObject({ 'name': 'single', 'ip': address, 'port': '6379', 'quorum': '1', 'down-after-milliseconds': '1500' });
      expect(await internalDenials(address, PORT, [SENTINEL_USER.username])).toEqual([]);
    });

    test('clients reach the sentinel with the token, as the application user or as default, and not without', async () => {
      await expect(run(address, SENTINEL_PORT, {}, 'SENTINEL', 'get-master-addr-by-name', 'single')).rejects.toThrow(/NOAUTH/);
      expect(await run(address, SENTINEL_PORT, APP, 'SENTINEL', 'get-master-addr-by-name', 'single')).toEqual([address, '6379']);
      expect(await run(address, SENTINEL_PORT, { password: APP_TOKEN }, 'SENTINEL', 'get-master-addr-by-name', 'single')).toEqual([address, '6379']);
      await expect(asSentinelUser(address, SENTINEL_PORT, (client) => client.call('SENTINEL', 'masters'))).rejects.toThrow(/NOPERM/);
    });
  });

  describe.each([
    { engine: ENGINES.redis, dataAddresses: ['127.0.0.63', '127.0.0.64'], sentinelAddress: '127.0.0.65' },
    { engine: ENGINES.valkey, dataAddresses: ['127.0.0.66', '127.0.0.67'], sentinelAddress: '127.0.0.68' },
  ])('$engine.title: a failover with the rendered users', ({ engine, dataAddresses, sentinelAddress }) => {
    const PORT = 6379;
    const SENTINEL_PORT = 26379;
    let fleet: LocalFleet;
    let primary: NodeSlot;
    let replica: NodeSlot;
    let sentinels: NodeSlot[];
    const processes = new Map<string, ManagedProcess>();

    const masterAddresses = () =>
      Promise.all(sentinels.map((s) => run(s.address, SENTINEL_PORT, APP, 'SENTINEL', 'get-master-addr-by-name', 'failover') as Promise<string[]>));
    const replication = async (slot: NodeSlot) => infoFields(String(await run(slot.address, PORT, APP, 'INFO', 'replication')));

    beforeAll(async () => {
      // The planner's plan, with every default of the catalog: 1 + 1 and a sentinel-only slot.
      const fleetProps = validateReplicationGroupOptions({
        engine: engine.engine,
        replicasPerShard: 1,
        // Redis waits 5 s for more replicas before a diskless full sync; one is all there is.
        parameterGroup: parameterGroup(engine.engine, { 'repl-diskless-sync-delay': '0' }),
      });
      const plan = planFleet({ name: 'failover', fleet: fleetProps, zoneCount: 3, addressOf: at([...dataAddresses, sentinelAddress]) });
      fleet = new LocalFleet(plan, engine.server);
      [primary, replica] = [fleet.slot('node-0'), fleet.slot('node-1')];
      sentinels = plan.slots.filter((slot) => slot.services.includes('sentinel'));
      processes.set('primary', fleet.startDataNode(primary));
      processes.set('replica', fleet.startDataNode(replica, primary));
      for (const slot of sentinels) processes.set(slot.name, fleet.startSentinel(slot));
      await fleet.ready(processes.get('primary')!, primary.address, PORT);
      await fleet.ready(processes.get('replica')!, replica.address, PORT);
      for (const slot of sentinels) await fleet.ready(processes.get(slot.name)!, slot.address, SENTINEL_PORT);
    });

    afterAll(async () => fleet?.dispose());

    test('the replica synchronizes with the replication user and serves the primary\'s writes', async () => {
      await waitFor('the replication link', async () => (await replication(replica)).master_link_status === 'up', { timeoutMs: 30_000 });
      expect(await run(primary.address, PORT, APP, 'SET', 'before-failover', 'kept')).toBe('OK');
      await waitFor('the write on the replica', async () => (await run(replica.address, PORT, APP, 'GET', 'before-failover')) === 'kept');
      // The primary counts the replica online once it has acknowledged the end of its sync.
      await waitFor('the primary to list the replica online', async () =>
        (await replication(primary)).slave0?.includes(`ip=${replica.address},port=6379,state=online`), { timeoutMs: 30_000 });
    });

    test('the sentinels find each other and the replica through the primary', async () => {
      for (const slot of sentinels) {
        await waitFor(`${slot.name} to know its peers and the replica`, async () => {
          const master = pairs(await run(slot.address, SENTINEL_PORT, APP, 'SENTINEL', 'MASTER', 'failover'));
          return master['num-other-sentinels'] === '2' && master['num-slaves'] === '1';
        }, { timeoutMs: 30_000 });
        expect(await run(slot.address, SENTINEL_PORT, APP, 'SENTINEL', 'CKQUORUM', 'failover')).toMatch(/^OK 3 usable Sentinels/);
      }
      const peers = ((await run(sentinels[0].address, SENTINEL_PORT, APP, 'SENTINEL', 'SENTINELS', 'failover')) as unknown[]).map((p) => pairs(p).ip);
      expect(peers.sort()).toEqual([dataAddresses[1], sentinelAddress]);
    });

    test('a killed primary is replaced by the replica: the sentinels agree and call the hook', async () => {
      // WHEN
      await processes.get('primary')!.stop('SIGKILL');

      // THEN
      await waitFor('every sentinel to name the replica primary', async () => {
        const answers = await masterAddresses();
        return answers.every(([ip]) => ip === replica.address);
      }, { timeoutMs: 30_000, intervalMs: 250 });
      expect((await replication(replica)).role).toBe('master');
      expect(await run(replica.address, PORT, APP, 'GET', 'before-failover')).toBe('kept');
      // The promoted node persisted its new role (`CONFIG REWRITE` inside Sentinel's transaction).
      await waitFor('the promoted node\'s live file to lose its replicaof', () => !/^replicaof /m.test(fs.readFileSync(fleet.dirs(replica).liveRedisConf, 'utf8')), { timeoutMs: 30_000 });
      const hookCalls = () => sentinels.flatMap((slot) => (fs.existsSync(fleet.dirs(slot).hookLog) ? fs.readFileSync(fleet.dirs(slot).hookLog, 'utf8').trim().split('\n') : []));
      const leaderCall = `failover leader start ${primary.address} 6379 ${replica.address} 6379`;
      await waitFor('the leader to call the failover hook', () => hookCalls().includes(leaderCall), { timeoutMs: 30_000 });
    }, 120_000);

    test('the old primary, restarted from the same files, is turned into a replica of the new one', async () => {
      // WHEN
      processes.set('primary', fleet.startDataNode(primary));
      await fleet.ready(processes.get('primary')!, primary.address, PORT);

      // THEN
      await waitFor('the old primary to replicate from the new one', async () => {
        const info = await replication(primary);
        return info.role === 'slave' && info.master_host === replica.address && info.master_link_status === 'up';
      }, { timeoutMs: 30_000, intervalMs: 250 });
      expect(await run(primary.address, PORT, APP, 'GET', 'before-failover')).toBe('kept');
      expect(fs.readFileSync(fleet.dirs(primary).liveRedisConf, 'utf8')).toMatch(new RegExp(`^replicaof ${replica.address.replace(/\./g, '\\.')} 6379$`, 'm'));
    }, 45_000);

    test('nothing a sentinel or a replica sent was denied', async () => {
      for (const slot of [primary, replica]) expect(await internalDenials(slot.address, PORT, INTERNAL_USERS)).toEqual([]);
      for (const slot of sentinels) expect(await internalDenials(slot.address, SENTINEL_PORT, INTERNAL_USERS)).toEqual([]);
    });
  });

  describe('Memcached from memcached.args', () => {
    const ADDRESS = '127.0.0.69';
    const PORT = 11211;
    let fleet: LocalFleet;
    let server: ManagedProcess;

    beforeAll(async () => {
      // The planner's plan, with the catalog's defaults and a few parameters set.
      const parameters = {
        max_simultaneous_connections: '4096',
        max_item_size: '2097152',
        chunk_size_growth_factor: '1.5',
        cas_disabled: '1',
        hashpower_init: '18',
        lru_crawler: '0',
        idle_timeout: '60',
      };
      const fleetProps = validateCacheClusterOptions({ engine: MEMCACHED_16, parameterGroup: parameterGroup(MEMCACHED_16, parameters) });
      const plan = planFleet({ name: 'pages', fleet: fleetProps, zoneCount: 1, addressOf: at([ADDRESS]) });
      fleet = new LocalFleet(plan, 'memcached');
      const args = fleet.fill(BUNDLE_FILES.memcachedArgs, plan.slots[0]).trimEnd().split('\n');
      // The agent's part: memcached refuses to run as root without a user to switch to.
      if (process.getuid?.() === 0) args.push('--user=nobody');
      server = fleet.launch('node-0/memcached', 'memcached', args);
      await waitFor('memcached to answer', async () => {
        if (!server.running) throw new Error(`memcached exited (${server.status}):\n${server.log()}`);
        return (await memcachedRequest(ADDRESS, PORT, 'version\r\n')).startsWith('VERSION');
      });
    });

    afterAll(async () => fleet?.dispose());

    test('the fixed arguments and the parameters took effect (stats settings)', async () => {
      const reply = await memcachedRequest(ADDRESS, PORT, 'stats settings\r\n');
      const settings = Object.fromEntries([...reply.matchAll(/^STAT (\S+) (.*)\r$/gm)].map((m) => [m[1], m[2]]));
      expect(settings).toMatchObject({
        tcpport: '11211',
        udpport: '0',
        maxbytes: String(MEMORY_BYTES),
        maxconns: '4096',
        item_size_max: '2097152',
        growth_factor: '1.50',
        cas_enabled: 'no',
        hashpower_init: '18',
        lru_crawler: 'no',
        idle_timeout: '60',
      });
    });

    test('listens on the slot address only', async () => {
      // Another address of this file's range, where nothing listens on memcached's port.
      await expect(memcachedRequest('127.0.0.68', PORT, 'version\r\n')).rejects.toThrow(/ECONNREFUSED/);
    });

    test('stores and returns an item on the slot address', async () => {
      expect(await memcachedRequest(ADDRESS, PORT, 'set k 0 0 1\r\nv\r\n')).toBe('STORED\r\n');
      expect(await memcachedRequest(ADDRESS, PORT, 'get k\r\n')).toBe('VALUE k 0 1\r\nv\r\nEND\r\n');
    });
  });
});
