import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CommandResult, ManagedProcess, runCommand, startProcess } from './processes';
import { renderBundle } from '../../../src/core/render';
import { FleetPlan, NodeService, NodeSlot } from '../../../src/core/topology';

/** The node agent under test. */
export const AGENT = path.resolve(__dirname, '../../../src/agent/cachefleet-node');

/** The memory every test node plans with (CACHEFLEET_MEMORY_BYTES). */
export const TEST_MEMORY_BYTES = 256 * 1024 * 1024;

/** AUTH tokens as validation accepts them (ElastiCache's rules), with characters shells and sed mind. */
export const DEFAULT_APP_PASSWORD = 'App&Token|$HOME-1234';
export const DEFAULT_INTERNAL_PASSWORD = 'internal-Pass_5678-abcd';
export const DEFAULT_ADMIN_PASSWORD = 'admin-Pass_9012-efgh';

export interface FleetOptions {
  /** The plan, from core's planner. */
  readonly plan: FleetPlan;
  /** @default DEFAULT_APP_PASSWORD */
  readonly appPassword?: string;
  /** @default DEFAULT_INTERNAL_PASSWORD */
  readonly internalPassword?: string;
  /** @default DEFAULT_ADMIN_PASSWORD */
  readonly adminPassword?: string;
  /** Extra environment for every agent run (timeouts, …). */
  readonly env?: Record<string, string>;
  /** A name for the temporary root. */
  readonly label?: string;
}

/** The directories of one slot under the fleet's temporary root, as a machine would have them. */
export interface SlotDirs {
  readonly config: string;
  readonly state: string;
  readonly run: string;
  readonly secrets: string;
}

/**
 * A fleet on this machine: the bundle rendered by core (`renderBundle(plan)`), written once per
 * slot with the slot's secrets under a temporary root, and each slot's services run by the node
 * agent with `CACHEFLEET_PLATFORM=local`, exactly as a supervisor runs them on a node.
 *
 * Call `dispose()` in `afterAll`: it stops every process (SIGTERM, then SIGKILL of the process
 * group) whether or not the tests passed.
 */
export class Fleet {
  /** Renders the plan and writes every slot's bundle and secrets. */
  public static create(options: FleetOptions): Fleet {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `cachefleet-${options.label ?? options.plan.name}-`));
    try {
      return new Fleet(options, root);
    } catch (error) {
      fs.rmSync(root, { recursive: true, force: true });
      throw error;
    }
  }

  public readonly plan: FleetPlan;
  public readonly appPassword: string;
  public readonly internalPassword: string;
  public readonly adminPassword: string;
  /** The rendered bundle, by relative path. */
  public readonly bundle: Record<string, string>;
  private readonly processes = new Map<string, ManagedProcess>();
  private readonly extraEnv: Record<string, string>;

  private constructor(options: FleetOptions, public readonly root: string) {
    this.plan = options.plan;
    this.appPassword = options.appPassword ?? DEFAULT_APP_PASSWORD;
    this.internalPassword = options.internalPassword ?? DEFAULT_INTERNAL_PASSWORD;
    this.adminPassword = options.adminPassword ?? DEFAULT_ADMIN_PASSWORD;
    this.extraEnv = options.env ?? {};
    this.bundle = renderBundle(this.plan);
    for (const slot of this.plan.slots) this.writeSlot(slot);
  }

  /** The slot named `name`. */
  public slot(name: string): NodeSlot {
    const slot = this.plan.slots.find((s) => s.name === name);
    if (!slot) throw new Error(`fleet ${this.plan.name} has no slot ${name}`);
    return slot;
  }

  /** The slots that run `service`, in plan order. */
  public slotsRunning(service: NodeService): NodeSlot[] {
    return this.plan.slots.filter((slot) => slot.services.includes(service));
  }

  /** The slot whose data node listens on `address`. */
  public slotAt(address: string): NodeSlot {
    const slot = this.plan.slots.find((s) => s.address === address);
    if (!slot) throw new Error(`fleet ${this.plan.name} has no slot at ${address}`);
    return slot;
  }

  public dirs(slot: NodeSlot | string): SlotDirs {
    const name = typeof slot === 'string' ? slot : slot.name;
    const base = path.join(this.root, name);
    return {
      config: path.join(base, 'config'),
      state: path.join(base, 'state'),
      run: path.join(base, 'run'),
      secrets: path.join(base, 'secrets'),
    };
  }

  /** The agent's environment on a slot. */
  public env(slot: NodeSlot | string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const name = typeof slot === 'string' ? slot : slot.name;
    const dirs = this.dirs(name);
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TMPDIR: this.root,
      CACHEFLEET_PLATFORM: 'local',
      CACHEFLEET_SLOT: name,
      CACHEFLEET_CONFIG_DIR: dirs.config,
      CACHEFLEET_STATE_DIR: dirs.state,
      CACHEFLEET_RUN_DIR: dirs.run,
      CACHEFLEET_SECRETS_DIR: dirs.secrets,
      CACHEFLEET_MEMORY_BYTES: String(TEST_MEMORY_BYTES),
      ...this.extraEnv,
      ...extra,
    };
  }

  /** Starts `cachefleet-node start <service>` on a slot, as a supervisor would. */
  public start(slot: NodeSlot | string, service: NodeService): ManagedProcess {
    const name = typeof slot === 'string' ? slot : slot.name;
    const key = `${name}/${service}`;
    const current = this.processes.get(key);
    if (current?.running) throw new Error(`${key} is already running (pid ${current.pid})`);
    const logFile = path.join(this.root, 'logs', `${name}-${service}.log`);
    const started = startProcess(key, AGENT, ['start', service], this.env(name), logFile);
    this.processes.set(key, started);
    return started;
  }

  /** Starts every service of every slot, all at once (a data node waits for the sentinels itself). */
  public startAll(): void {
    for (const slot of this.plan.slots) {
      for (const service of slot.services) this.start(slot, service);
    }
  }

  /** The process of a service, if it was started. */
  public process(slot: NodeSlot | string, service: NodeService): ManagedProcess {
    const name = typeof slot === 'string' ? slot : slot.name;
    const found = this.processes.get(`${name}/${service}`);
    if (!found) throw new Error(`${name}/${service} was never started`);
    return found;
  }

  /** Runs an agent subcommand on a slot to its end. */
  public agent(slot: NodeSlot | string, args: string[], extraEnv: Record<string, string> = {}, timeoutMs = 30_000): Promise<CommandResult> {
    return runCommand(AGENT, args, { env: this.env(slot, extraEnv), timeoutMs });
  }

  /** `cachefleet-node wait-ready <service>`; throws with the service's log when it fails. */
  public async waitReady(slot: NodeSlot | string, service: NodeService, timeoutSeconds = 20): Promise<void> {
    const name = typeof slot === 'string' ? slot : slot.name;
    const result = await this.agent(name, ['wait-ready', service], { CACHEFLEET_READY_TIMEOUT: String(timeoutSeconds) }, (timeoutSeconds + 5) * 1000);
    if (result.code !== 0) {
      const log = this.processes.get(`${name}/${service}`)?.log() ?? '(not started)';
      throw new Error(`${name}/${service} is not ready: ${result.stderr}\n--- its log ---\n${tail(log)}`);
    }
  }

  /** Waits until every started service is ready. */
  public async waitAllReady(timeoutSeconds = 20): Promise<void> {
    await Promise.all(
      [...this.processes.entries()]
        .filter(([, p]) => p.running)
        .map(([key]) => {
          const [name, service] = key.split('/');
          return this.waitReady(name, service as NodeService, timeoutSeconds);
        }),
    );
  }

  /** Stops every running process gracefully: sentinels first, then the data nodes. */
  public async stopAll(graceMs = 10_000): Promise<void> {
    const running = [...this.processes.entries()].filter(([, p]) => p.running);
    const sentinels = running.filter(([key]) => key.endsWith('/sentinel')).map(([, p]) => p);
    const others = running.filter(([key]) => !key.endsWith('/sentinel')).map(([, p]) => p);
    await Promise.all(sentinels.map((p) => p.stop('SIGTERM', graceMs)));
    await Promise.all(others.map((p) => p.stop('SIGTERM', graceMs)));
  }

  /** Stops everything and removes the temporary root (kept when CACHEFLEET_KEEP_INTEG=1). */
  public async dispose(): Promise<void> {
    try {
      await this.stopAll(5_000);
    } finally {
      for (const p of this.processes.values()) p.signal('SIGKILL');
      if (process.env.CACHEFLEET_KEEP_INTEG !== '1') fs.rmSync(this.root, { recursive: true, force: true });
    }
  }

  /** The logs of every process, for a failure message. */
  public logs(): string {
    return [...this.processes.entries()].map(([key, p]) => `--- ${key} (pid ${p.pid}) ---\n${tail(p.log())}`).join('\n');
  }

  /** Runs `fn`; a failure's message gains the fleet's logs. */
  public async withLogs<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof Error) error.message += `\n${this.logs()}`;
      throw error;
    }
  }

  private writeSlot(slot: NodeSlot): void {
    const dirs = this.dirs(slot);
    for (const [relative, content] of Object.entries(this.bundle)) {
      const file = path.join(dirs.config, relative);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
    }
    fs.mkdirSync(dirs.secrets, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(dirs.secrets, 'app-password'), this.appPassword, { mode: 0o600 });
    fs.writeFileSync(path.join(dirs.secrets, 'internal-password'), this.internalPassword, { mode: 0o600 });
    fs.writeFileSync(path.join(dirs.secrets, 'admin-password'), this.adminPassword, { mode: 0o600 });
  }
}

function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}
