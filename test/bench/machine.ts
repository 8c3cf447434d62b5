import * as fs from 'fs';
import * as os from 'os';
import { MachineInfo } from './results';
import { cpus, versionOf } from '../shared/machine';

/** The machine the figures come from. */
export function describeMachine(): MachineInfo {
  const cpu = cpus();
  return {
    os: prettyOsName() ?? os.type(),
    kernel: os.release(),
    arch: os.arch(),
    cpuModel: cpu.model,
    cpuCount: cpu.count,
    totalMemoryBytes: os.totalmem(),
    nodeVersion: process.version,
    redisServerVersion: requiredVersion('redis-server'),
    redisBenchmarkVersion: requiredVersion('redis-benchmark'),
  };
}

function prettyOsName(): string | undefined {
  try {
    const match = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'));
    return match?.[1];
  } catch {
    return undefined;
  }
}

/** `<program> --version`; throws when the program is missing (a benchmark without it means nothing). */
function requiredVersion(program: string): string {
  try {
    return versionOf(program);
  } catch (error) {
    throw new Error(`the benchmarks need ${program} on PATH (Debian: redis-server, redis-tools): ${(error as Error).message}`);
  }
}
