import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/**
 * Processes of the behaviour tests: each runs in a process group of its own so that it and
 * everything it starts can be stopped together, and every one is stopped when the test process
 * ends, even when a test fails or times out.
 */

/** Every live process group this test process started. */
const liveGroups = new Set<number>();

process.on('exit', () => {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** A long-running process (a server started through the agent), with its output in a log file. */
export class ManagedProcess {
  /** The process (and process group) id. */
  public readonly pid: number;
  /** Resolves with the exit code (or the signal's name) when the process has exited. */
  public readonly exited: Promise<number | string>;
  private exitStatus: number | string | undefined;
  /** Whether the group was killed after the leader exited (its id is then no longer ours). */
  private groupKilled = false;

  constructor(
    /** A name for messages. */
    public readonly name: string,
    child: ChildProcess,
    /** Where its standard output and error go (appended: a restarted service shares the file). */
    public readonly logFile: string,
    /** Where this process's own output starts in `logFile`. */
    private readonly logOffset = 0,
  ) {
    if (child.pid === undefined) throw new Error(`${name}: the process did not start`);
    this.pid = child.pid;
    liveGroups.add(this.pid);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitStatus = code ?? signal ?? 'unknown';
        liveGroups.delete(this.pid);
        resolve(this.exitStatus);
      });
    });
  }

  /** Whether the process is still running. */
  public get running(): boolean {
    return this.exitStatus === undefined;
  }

  /** The exit code or signal, once it has exited. */
  public get status(): number | string | undefined {
    return this.exitStatus;
  }

  /** Sends a signal to the process group. */
  public signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // exited meanwhile
    }
  }

  /** Sends `signal`, waits up to `graceMs` for the exit, then SIGKILLs the group. */
  public async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<number | string> {
    if (!this.running) return this.status!;
    this.signal(signal);
    let timer: NodeJS.Timeout | undefined;
    const status = await Promise.race([this.exited, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), graceMs)))]);
    clearTimeout(timer);
    if (status !== undefined) return status;
    this.signal('SIGKILL');
    return this.exited;
  }

  /**
   * Stops the process as Docker stops a container's main process: `signal` to the leader only (not
   * the rest of its group; none when null, as for a PID 1 without a handler for it), up to
   * `graceMs` for it to exit, then SIGKILL to the whole group (even when the leader exited in time:
   * nothing outlives it). Resolves with the leader's exit status once the leader has exited and
   * nothing of the group runs any more.
   */
  public async stopLeader(signal: NodeJS.Signals | null = 'SIGTERM', graceMs = 10_000): Promise<number | string> {
    if (this.running && signal !== null) {
      try {
        process.kill(this.pid, signal);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    }
    if (this.running) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    }
    this.killGroup();
    const status = await this.exited;
    await this.groupEnded();
    return status;
  }

  /**
   * SIGKILL to the whole process group, also after the leader exited (what it started may still
   * run); a group already gone (ESRCH) is no error. Once the leader has exited, the group is killed
   * at most once: after that its id may belong to a new process group.
   */
  public killGroup(): void {
    if (this.groupKilled) return;
    const leaderExited = !this.running;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
    if (leaderExited) this.groupKilled = true;
  }

  /** Resolves once no live process (zombies aside) is in the group any more, or after `timeoutMs`. */
  private async groupEnded(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && groupMembers(this.pid) > 0) await sleep(10);
  }

  /** This process's output so far (not that of an earlier run sharing the log file). */
  public log(): string {
    return fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile).subarray(this.logOffset).toString('utf8') : '';
  }
}

/** A process as /proc/<pid>/stat shows it. */
export interface ProcessStat {
  readonly pid: number;
  readonly comm: string;
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
}

/** Every process /proc lists now (one that ends meanwhile is left out). */
export function processStats(): ProcessStat[] {
  const stats: ProcessStat[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses, the last ')' ends it.
    const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    stats.push({ pid: Number(entry), comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), state, ppid: Number(ppid), pgrp: Number(pgrp) });
  }
  return stats;
}

/** How many live processes (zombies aside) are in process group `pgid` (/proc/<pid>/stat). */
function groupMembers(pgid: number): number {
  return processStats().filter((p) => p.pgrp === pgid && p.state !== 'Z' && p.state !== 'X').length;
}

/** Starts a long-running process in a new process group, its output appended to `logFile`. */
export function startProcess(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): ManagedProcess {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const offset = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
  const fd = fs.openSync(logFile, 'a');
  try {
    const child = spawn(command, args, { env, detached: true, stdio: ['ignore', fd, fd] });
    return new ManagedProcess(name, child, logFile, offset);
  } finally {
    fs.closeSync(fd);
  }
}

/** The result of a command that ran to its end. */
export interface CommandResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end (bounded by `timeoutMs`), in its own process group. */
export function runCommand(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const pid = child.pid;
    if (pid !== undefined) liveGroups.add(pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      if (pid !== undefined) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }, options.timeoutMs ?? 30_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      if (pid !== undefined) liveGroups.delete(pid);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (pid !== undefined) liveGroups.delete(pid);
      resolve({ code, signal, stdout, stderr });
    });
    // A command that does not read its input may exit first: EPIPE is not an error of the test.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * How long `waitFor` waits unless told: generous, as the servers share two cores with whatever else
 * runs. A wait ends as soon as its outcome holds, so a long deadline costs a passing test nothing.
 */
export const DEFAULT_WAIT_MS = 30_000;

/**
 * Polls `probe` every `intervalMs` until it returns a value other than `undefined`/`false`, and
 * returns that value; throws, naming `what` and the last error or value, after `timeoutMs`
 * (DEFAULT_WAIT_MS unless told).
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
      last = value;
    } catch (error) {
      last = error instanceof Error ? error.message : error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}

/** Whether a program is on PATH. */
export function onPath(program: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', program], { stdio: 'ignore' }).status === 0;
}
