import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import { MachineInfo } from './results';

/** The machine the figures come from. */
export function describeMachine(): MachineInfo {
  const cpus = os.cpus();
  return {
    os: prettyOsName() ?? os.type(),
    kernel: os.release(),
    arch: os.arch(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    totalMemoryBytes: os.totalmem(),
    nodeVersion: process.version,
    redisServerVersion: versionOf('redis-server'),
    redisBenchmarkVersion: versionOf('redis-benchmark'),
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
function versionOf(program: string): string {
  const result = spawnSync(program, ['--version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Error(`the benchmarks need ${program} on PATH (Debian: redis-server, redis-tools)`);
  }
  return result.stdout.trim();
}
