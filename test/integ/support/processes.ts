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

  /** This process's output so far (not that of an earlier run sharing the log file). */
  public log(): string {
    return fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile).subarray(this.logOffset).toString('utf8') : '';
  }
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
 * Polls `probe` every `intervalMs` until it returns a value other than `undefined`/`false`, and
 * returns that value; throws, naming `what` and the last error or value, after `timeoutMs`.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
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
      throw new Error(`timed out after ${options.timeoutMs ?? 10_000} ms waiting for ${what} (last: ${String(last)})`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}

/** Whether a program is on PATH. */
export function onPath(program: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', program], { stdio: 'ignore' }).status === 0;
}
