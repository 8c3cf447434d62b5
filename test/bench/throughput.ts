import { BenchCommand, OpsByCommand, ServerConfigurationResult, ThroughputRatio } from './results';
import { BenchServer, waitQuiet } from './servers';
import { runCommand } from '../integ/support/processes';
import { median, round } from '../shared/run-stats';

/**
 * The load of every sample, the one the README's performance targets are stated for:
 * `redis-benchmark -t set,get -n 1000000 -c 50 -P 16`.
 */
export const LOAD_ARGS = ['-t', 'set,get', '-n', '1000000', '-c', '50', '-P', '16', '--csv'];

/** A shorter run of the same load before the samples: page cache, allocator and CPU clocks settle. */
const WARM_UP_ARGS = ['-t', 'set,get', '-n', '200000', '-c', '50', '-P', '16', '--csv'];

const COMMANDS: readonly BenchCommand[] = ['SET', 'GET'];

/** redis-benchmark's arguments against a server, with the password, or `<password>` when masked. */
function benchmarkArgs(server: BenchServer, load: readonly string[], masked: boolean): string[] {
  const auth = server.credentials
    ? ['--user', server.credentials.username, '-a', masked ? '<password>' : server.credentials.password]
    : [];
  return ['-h', server.address, '-p', String(server.port), ...auth, ...load];
}

export function benchmarkCommandLine(server: BenchServer): string {
  return ['redis-benchmark', ...benchmarkArgs(server, LOAD_ARGS, true)].join(' ');
}

/** One redis-benchmark run: operations per second by command. */
async function runBenchmark(server: BenchServer, load: readonly string[]): Promise<OpsByCommand> {
  const result = await runCommand('redis-benchmark', benchmarkArgs(server, load, false), { timeoutMs: 300_000 });
  if (result.code !== 0) {
    throw new Error(`redis-benchmark against ${server.id} failed (${result.code ?? result.signal}): ${result.stderr}${result.stdout}`);
  }
  return parseCsv(server.id, result.stdout);
}

/** redis-benchmark's `--csv`: a header, then `"SET","739645.00",…` per test. */
export function parseCsv(what: string, csv: string): OpsByCommand {
  const ops: Partial<OpsByCommand> = {};
  for (const line of csv.split('\n')) {
    const match = /^"([A-Z]+)","([0-9.]+)"/.exec(line.trim());
    if (match && (COMMANDS as readonly string[]).includes(match[1])) ops[match[1] as BenchCommand] = Number(match[2]);
  }
  for (const command of COMMANDS) {
    if (ops[command] === undefined) throw new Error(`redis-benchmark against ${what} printed no ${command} figure:\n${csv}`);
  }
  return ops as OpsByCommand;
}

export interface ThroughputRun {
  readonly roundOrder: string[];
  readonly configurations: ServerConfigurationResult[];
}

/**
 * `rounds` rounds, each running the load once against every server. Each round starts one server
 * later than the one before (A B C, B C A, C A B, …) so that drift and whatever one run leaves
 * behind fall on every configuration alike; before each run every server is quiet.
 */
export async function measureThroughput(
  servers: readonly BenchServer[],
  rounds: number,
  progress: (line: string) => void,
): Promise<ThroughputRun> {
  const samples = new Map(servers.map((server) => [server.id, { SET: [] as number[], GET: [] as number[] }]));
  for (const server of servers) await runBenchmark(server, WARM_UP_ARGS);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < servers.length; i++) {
      const server = servers[(r + i) % servers.length];
      for (const other of servers) await waitQuiet(other);
      const ops = await runBenchmark(server, LOAD_ARGS);
      for (const command of COMMANDS) samples.get(server.id)![command].push(ops[command]);
      progress(`  round ${r + 1}/${rounds} ${server.id.padEnd(14)} SET ${ops.SET.toFixed(0).padStart(9)}  GET ${ops.GET.toFixed(0).padStart(9)} ops/s`);
    }
  }
  return {
    roundOrder: servers.map((server) => server.id),
    configurations: servers.map((server) => {
      const own = samples.get(server.id)!;
      return {
        id: server.id,
        description: server.description,
        address: server.address,
        port: server.port,
        serverCommand: server.serverCommand,
        benchmarkCommand: benchmarkCommandLine(server),
        samples: own,
        median: { SET: median(own.SET), GET: median(own.GET) },
      };
    }),
  };
}

/** The ratio of two configurations' medians. */
export function throughputRatio(
  id: string,
  configurations: readonly ServerConfigurationResult[],
  numerator: string,
  denominator: string,
): ThroughputRatio {
  const find = (which: string) => {
    const found = configurations.find((configuration) => configuration.id === which);
    if (!found) throw new Error(`no throughput configuration ${which}`);
    return found;
  };
  const top = find(numerator);
  const bottom = find(denominator);
  return {
    id,
    numerator,
    denominator,
    ratio: { SET: round(top.median.SET / bottom.median.SET), GET: round(top.median.GET / bottom.median.GET) },
  };
}
