import { spawnSync } from 'child_process';
import * as os from 'os';
import { MachineInfo } from './results';

/** The first line a program prints for its version flag, or why it could not. */
function versionOf(program: string, flag: string): string {
  const result = spawnSync(program, [flag], { encoding: 'utf8' });
  if (result.error) return `unavailable (${result.error.message})`;
  return `${result.stdout}${result.stderr}`.split('\n')[0].trim();
}

/** What the figures were measured on. */
export function describeMachine(withValkey: boolean, loadAtStart: number[]): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    memoryMiB: Math.round(os.totalmem() / 1024 / 1024),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    redisServer: versionOf('redis-server', '--version'),
    valkeyServer: withValkey ? versionOf('valkey-server', '--version') : undefined,
    memcached: versionOf('memcached', '-V'),
    loadAverage: { start: loadAtStart.map(round2), end: os.loadavg().map(round2) },
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
