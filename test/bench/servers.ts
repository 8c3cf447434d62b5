import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Persistence } from '../../src/core/persistence';
import { cli, Credentials, infoFields } from '../integ/support/clients';
import { Fleet } from '../integ/support/fleet';
import { REDIS_7_0, standalonePlan } from '../integ/support/plans';
import { ManagedProcess, startProcess, waitFor } from '../integ/support/processes';

// Redis 7.0 (REDIS_7_0) is the engine the throughput benchmarks compare configurations of.

/** The engine's usual port: every server has a loopback address of its own, like a host. */
export const REDIS_PORT = 6379;

/**
 * The temporary roots of the servers still running, removed when the process exits however it
 * exits (the processes themselves are killed by the support library's exit handler, registered
 * before this one).
 */
const liveRoots = new Set<string>();
process.on('exit', () => {
  if (process.env.CACHEFLEET_KEEP_INTEG === '1') return;
  for (const root of liveRoots) fs.rmSync(root, { recursive: true, force: true });
});

/** A running server the benchmark can load. */
export interface BenchServer {
  readonly id: string;
  readonly description: string;
  readonly address: string;
  readonly port: number;
  /** How it was started, secrets masked. */
  readonly serverCommand: string;
  /** Who the benchmark authenticates as (`undefined`: nobody). */
  readonly credentials?: Required<Credentials>;
  /** Stops the server and removes its files. */
  stop(): Promise<void>;
}

/** What the stock server persists: nothing, or an AOF fsynced every second. */
export type StockPersistence = 'none' | 'aof-everysec';

/**
 * Redis with its compiled-in defaults and only the persistence set, as in the generated
 * configuration it is compared with. Chosen over Debian's /etc/redis/redis.conf, which is the same
 * defaults plus packaging (daemonize, pidfile, log file, systemd supervision) that would have to be
 * overridden anyway to run it here.
 */
export async function startStockServer(id: string, address: string, persistence: StockPersistence): Promise<BenchServer> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `cachefleet-bench-${id}-`));
  liveRoots.add(root);
  const persistenceArgs = persistence === 'none' ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', 'everysec'];
  const args = ['--port', String(REDIS_PORT), '--bind', address, '--save', '', ...persistenceArgs, '--dir', root];
  let server: ManagedProcess | undefined;
  const stop = async () => {
    try {
      await server?.stop('SIGTERM', 5_000);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
      liveRoots.delete(root);
    }
  };
  try {
    server = startProcess(`${id} redis-server`, REDIS_7_0.server, args, { PATH: process.env.PATH }, path.join(root, 'redis.log'));
    const started = server;
    await waitFor(`the ${id} redis-server on ${address}`, async () => {
      if (!started.running) throw new Error(`it exited (${started.status}): ${started.log()}`);
      return (await cli(REDIS_7_0.cli, address, REDIS_PORT, ['ping'])).stdout.trim() === 'PONG';
    }, { timeoutMs: 10_000 });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    id,
    description: `redis-server with its compiled-in defaults, ${persistence === 'none' ? 'no persistence' : 'AOF everysec'}`,
    address,
    port: REDIS_PORT,
    serverCommand: `${REDIS_7_0.server} ${args.map((arg) => (arg === '' ? "''" : arg === root ? '<temporary dir>' : arg)).join(' ')}`,
    stop,
  };
}

/**
 * Redis run by the node agent with the configuration core renders for a single-node CacheCluster
 * (`renderBundle`), the shipped defaults and AUTH as the app user, through the behaviour tests'
 * `Fleet`.
 */
export async function startGeneratedServer(id: string, description: string, address: string, persistence: Persistence): Promise<BenchServer> {
  const fleet = Fleet.create({ plan: standalonePlan(`bench-${id}`, REDIS_7_0.engine, address, persistence), label: `bench-${id}` });
  liveRoots.add(fleet.root);
  const dispose = async () => {
    try {
      await fleet.dispose();
    } finally {
      liveRoots.delete(fleet.root);
    }
  };
  const slot = fleet.plan.slots[0];
  try {
    fleet.start(slot, 'redis');
    await fleet.waitReady(slot, 'redis');
  } catch (error) {
    await dispose();
    throw error;
  }
  return {
    id,
    description,
    address,
    port: slot.enginePort ?? REDIS_PORT,
    serverCommand: `cachefleet-node start redis (CACHEFLEET_PLATFORM=local, the rendered bundle of a ${fleet.plan.kind} ${REDIS_7_0.title} fleet)`,
    credentials: { username: fleet.plan.users.application, password: fleet.appPassword },
    stop: dispose,
  };
}

/**
 * Waits until no background save or AOF rewrite runs on the server, so that one configuration's
 * forked child does not take CPU from the next configuration's run.
 */
export async function waitQuiet(server: BenchServer): Promise<void> {
  await waitFor(`${server.id}: no background save or rewrite`, async () => {
    const result = await cli(REDIS_7_0.cli, server.address, server.port, ['info', 'persistence'], server.credentials ?? {});
    if (result.code !== 0) throw new Error(result.stderr || result.stdout);
    const fields = infoFields(result.stdout.replace(/\r?\n/g, '\r\n'));
    return fields.rdb_bgsave_in_progress === '0' && fields.aof_rewrite_in_progress === '0' && fields.aof_rewrite_scheduled === '0';
  }, { timeoutMs: 120_000, intervalMs: 200 });
}
