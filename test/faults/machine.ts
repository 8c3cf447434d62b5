import * as os from 'os';
import { MachineInfo } from './results';
import { cpus, versionOf } from '../shared/machine';
import { round } from '../shared/run-stats';

/** A program's version line, or why it could not be read (the run goes on without it). */
function versionOrWhy(program: string, flag: string): string {
  try {
    return versionOf(program, flag);
  } catch (error) {
    return `unavailable (${(error as Error).message})`;
  }
}

/** What the figures were measured on. */
export function describeMachine(withValkey: boolean, loadAtStart: number[]): MachineInfo {
  const cpu = cpus();
  return {
    cpuModel: cpu.model,
    cpuCount: cpu.count,
    memoryMiB: Math.round(os.totalmem() / 1024 / 1024),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    redisServer: versionOrWhy('redis-server', '--version'),
    valkeyServer: withValkey ? versionOrWhy('valkey-server', '--version') : undefined,
    memcached: versionOrWhy('memcached', '-V'),
    loadAverage: { start: loadAtStart.map((l) => round(l, 2)), end: os.loadavg().map((l) => round(l, 2)) },
  };
}
