import { createHash } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { CommandResult, ManagedProcess, runCommand, startProcess } from './processes';

/**
 * Runs the containers of a synthesized Terraform JSON (`cdk.tf.json`) on this machine, as Docker
 * would run them, with the servers on PATH standing in for the images' ones:
 *
 * - every `upload` of a `docker_container` is written under the container's own temporary root,
 *   at its container path (`/etc/cachefleet/fleet.env` -> `<root>/<container>/etc/cachefleet/fleet.env`);
 * - the container's environment is kept, except that each `CACHEFLEET_*_DIR` variable points at
 *   the same path under that root;
 * - each container address (`networks_advanced.ipv4_address`) becomes a loopback address of the
 *   caller's range, everywhere it appears in the uploaded files;
 * - Terraform expressions in the JSON are resolved by a strict resolver: a variable the test does not
 *   give, a function or a reference it does not know, is an error, never a guess;
 * - the memory limit (`memory`, MiB) becomes the container's cgroup v2 `memory.max`, under a
 *   stand-in `/sys` and `/proc` the agent reads through `CACHEFLEET_SYS_DIR`/`CACHEFLEET_PROC_DIR`;
 * - `entrypoint` + `command` run unchanged (the entrypoint re-rooted), and the health check's
 *   command runs the same way, each as Docker runs a container's process: as its `user`, with only
 *   the capabilities `capabilities` leaves (Docker's default set, less `drop`, plus `add`) and with
 *   `no-new-privileges` when `security_opts` asks (setpriv); the path to the container's root is
 *   traversable, as a container's own paths are;
 * - uploads get the mode provider 3.6.2 gives them: `permissions`, else 0744 when `executable`,
 *   else 0644 (resource_docker_container_funcs.go:499-509);
 * - a named volume (`volumes.volume_name`) is a directory under the container's root that outlives
 *   the container; a bind mount of the host (`volumes.host_path`, read-only: the only kind modelled)
 *   is a link to the directory the test gives for that host path (a host path it does not give is
 *   an error). A link does not refuse writes as a read-only mount does: a test that mounts one
 *   checks that the host's files are unchanged.
 */

/** Docker's default capabilities of a container (moby's oci/caps/defaults.go). */
const DOCKER_DEFAULT_CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP',
  'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
];

/**
 * The setpriv words that run a process as Docker runs a container's: its `user` (root or
 * `<uid>:<gid>`), the capabilities `capabilities` leaves, and `no-new-privileges`. Anything else the
 * test does not model is refused.
 */
export function containerPrivileges(name: string, c: any): string[] {
  const user = String(c.user ?? 'root');
  const numeric = /^(\d+):(\d+)$/.exec(user);
  if (user !== 'root' && !numeric) throw new Error(`${name}: a user the test does not model: ${user}`);
  // A block of at most one: cdktf writes it as an object (Terraform also takes a list of one).
  const capabilities = (Array.isArray(c.capabilities) ? c.capabilities[0] : c.capabilities) ?? {};
  const unknownKeys = Object.keys(capabilities).filter((key) => key !== 'add' && key !== 'drop');
  if (unknownKeys.length > 0) throw new Error(`${name}: capabilities the test does not model: ${unknownKeys.join(', ')}`);
  const bare = (cap: string) => String(cap).toUpperCase().replace(/^CAP_/, '');
  const drop: string[] = (capabilities.drop ?? []).map(bare);
  const add: string[] = (capabilities.add ?? []).map(bare);
  const kept = new Set(drop.includes('ALL') ? [] : DOCKER_DEFAULT_CAPABILITIES.filter((cap) => !drop.includes(cap)));
  for (const cap of add) kept.add(cap);
  const options: string[] = c.security_opts ?? [];
  const unknown = options.filter((option) => !/^no-new-privileges(:true)?$/.test(option));
  if (unknown.length > 0) throw new Error(`${name}: security options the test does not model: ${unknown.join(', ')}`);
  const words = ['setpriv'];
  if (options.length > 0) words.push('--no-new-privs');
  words.push('--bounding-set', ['-all', ...[...kept].map((cap) => `+${cap.toLowerCase()}`)].join(','), '--inh-caps', '-all');
  if (numeric) words.push('--reuid', numeric[1], '--regid', numeric[2], '--clear-groups');
  return [...words, '--'];
}

/** What a test gives the strict resolver. */
export interface TerraformInputs {
  /** Terraform variables by name. */
  readonly variables: Record<string, string>;
  /** Resource attributes known before apply, by reference (`docker_container.<id>.ports[0].external`). */
  readonly references?: Record<string, string>;
  /** The directories that stand for the Docker host's paths a container mounts (`volumes.host_path`). */
  readonly hostPaths?: Record<string, string>;
}

/** One `docker_container` as the test runs it. */
export interface RunnableContainer {
  /** The Terraform resource's logical id. */
  readonly id: string;
  /** The container's name. */
  readonly name: string;
  /** `labels` as a map. */
  readonly labels: Record<string, string>;
  /** The address it had in its Docker network. */
  readonly containerAddress: string;
  /** The loopback address it runs on here. */
  readonly address: string;
  /** The root its files live under. */
  readonly root: string;
  /** The environment it runs with (re-rooted directories). */
  readonly env: Record<string, string>;
  /** `entrypoint` re-rooted + `command`. */
  readonly argv: string[];
  /** The health check's command (after `CMD`), re-rooted. */
  readonly healthcheck?: string[];
  /** The published port's internal port. */
  readonly port?: number;
  /** The published port on the Docker host: the address (mapped to the test's host address) and port. */
  readonly published?: { readonly address: string; readonly port: number };
  /** The memory limit, MiB. */
  readonly memoryMiB?: number;
  /** The uploaded files: container path -> resolved content. */
  readonly files: Record<string, string>;
  /** What runs its processes with its user, capabilities and security options (containerPrivileges). */
  readonly privileges: string[];
}

/**
 * Resolves one Terraform JSON string: literal text (with `$${` and `%%{` escapes) and `${…}`
 * expressions made of string literals with interpolations, `var.<name>`, resource attributes the
 * caller knows, `sha256(…)` and `urlencode(…)`.
 * Anything else throws.
 */
export function resolveTerraformString(text: string, inputs: TerraformInputs): string {
  const parser = new TemplateParser(text, inputs);
  const value = parser.template(undefined);
  if (!parser.done()) throw new Error(`unexpected text at ${parser.position} in ${JSON.stringify(text)}`);
  return value;
}

class TemplateParser {
  public position = 0;
  constructor(private readonly text: string, private readonly inputs: TerraformInputs) {}

  public done(): boolean {
    return this.position >= this.text.length;
  }

  /** Literal text and `${…}` up to `end` (a closing quote inside an expression) or the end. */
  public template(end: string | undefined): string {
    let out = '';
    while (this.position < this.text.length) {
      const rest = this.text.slice(this.position);
      if (end !== undefined && rest.startsWith(end)) return out;
      if (rest.startsWith('$${') || rest.startsWith('%%{')) {
        out += rest[0] + '{';
        this.position += 3;
      } else if (rest.startsWith('%{')) {
        throw new Error(`a template directive the resolver does not know at ${this.position} in ${JSON.stringify(this.text)}`);
      } else if (rest.startsWith('${')) {
        this.position += 2;
        out += this.expression();
        this.expect('}');
      } else if (end !== undefined && rest.startsWith('\\')) {
        const next = rest[1];
        const escapes: Record<string, string> = { 'n': '\n', 't': '\t', '"': '"', '\\': '\\' };
        if (!(next in escapes)) throw new Error(`an escape the resolver does not know: \\${next}`);
        out += escapes[next];
        this.position += 2;
      } else {
        out += rest[0];
        this.position += 1;
      }
    }
    if (end !== undefined) throw new Error(`unterminated string in ${JSON.stringify(this.text)}`);
    return out;
  }

  private expression(): string {
    this.spaces();
    const rest = this.text.slice(this.position);
    if (rest.startsWith('"')) {
      this.position += 1;
      const value = this.template('"');
      this.expect('"');
      return value;
    }
    const variable = /^var\.([A-Za-z_][A-Za-z0-9_-]*)/.exec(rest);
    if (variable) {
      this.position += variable[0].length;
      const value = this.inputs.variables[variable[1]];
      if (value === undefined) throw new Error(`the test gives no value for var.${variable[1]}`);
      return value;
    }
    const reference = /^[a-z_]+\.[A-Za-z0-9_-]+(\.[a-z_]+|\[[0-9]+\])+/.exec(rest);
    if (reference && !reference[0].startsWith('var.')) {
      this.position += reference[0].length;
      const value = this.inputs.references?.[reference[0]];
      if (value === undefined) throw new Error(`the resolver knows no value for ${reference[0]}`);
      return value;
    }
    const call = /^([a-z0-9_]+)\(/.exec(rest);
    const functions: Record<string, (argument: string) => string> = {
      sha256: (argument) => createHash('sha256').update(argument, 'utf8').digest('hex'),
      // Terraform's urlencode is Go's url.QueryEscape: all but letters, digits and -_.~ escaped, space as +.
      urlencode: (argument) =>
        [...Buffer.from(argument, 'utf8')]
          .map((byte) => {
            const char = String.fromCharCode(byte);
            if (/[A-Za-z0-9\-_.~]/.test(char)) return char;
            return char === ' ' ? '+' : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
          })
          .join(''),
    };
    if (call && functions[call[1]]) {
      this.position += call[0].length;
      const argument = this.expression();
      this.spaces();
      this.expect(')');
      return functions[call[1]](argument);
    }
    throw new Error(`an expression the resolver does not know at ${this.position} in ${JSON.stringify(this.text)}`);
  }

  private spaces(): void {
    while (this.text[this.position] === ' ') this.position += 1;
  }

  private expect(token: string): void {
    if (!this.text.startsWith(token, this.position)) {
      throw new Error(`expected ${JSON.stringify(token)} at ${this.position} in ${JSON.stringify(this.text)}`);
    }
    this.position += token.length;
  }
}

/** Replaces each whole address (not a prefix of a longer one) by its mapped address. */
export function mapAddresses(text: string, addresses: Map<string, string>): string {
  let out = text;
  for (const [from, to] of addresses) {
    out = out.replace(new RegExp(`(?<![0-9.])${from.replace(/\./g, '\\.')}(?![0-9])`, 'g'), to);
  }
  return out;
}

/**
 * Every `docker_container` of a synthesized stack, prepared to run here: files written, addresses
 * mapped to `loopback` (in the order the containers appear in the JSON), expressions resolved.
 */
export class TerraformContainers {
  /**
   * @param hostAddress the loopback address that stands for the Docker host's published addresses
   */
  public static prepare(
    tfJson: string,
    inputs: TerraformInputs,
    loopback: readonly string[],
    label: string,
    hostAddress?: string,
  ): TerraformContainers {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `cachefleet-${label}-`));
    try {
      return new TerraformContainers(JSON.parse(tfJson), inputs, loopback, root, hostAddress);
    } catch (error) {
      fs.rmSync(root, { recursive: true, force: true });
      throw error;
    }
  }

  public readonly containers: RunnableContainer[] = [];
  /** Every attribute of the containers known before apply (the fixed published ports), by reference. */
  public readonly references: Record<string, string> = {};
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();
  /** container address -> loopback address. */
  public readonly addresses = new Map<string, string>();
  private readonly processes = new Map<string, ManagedProcess>();
  /** Each container's configuration as last applied, by logical id. */
  private readonly configurations = new Map<string, string>();

  private constructor(
    tf: any,
    inputs: TerraformInputs,
    loopback: readonly string[],
    public readonly root: string,
    private readonly hostAddress?: string,
  ) {
    const resources: Record<string, any> = tf.resource?.docker_container ?? {};
    const entries = Object.entries(resources);
    if (entries.length > loopback.length) throw new Error(`the test gave ${loopback.length} addresses for ${entries.length} containers`);
    entries.forEach(([, container], i) => {
      const address = container.networks_advanced?.[0]?.ipv4_address;
      if (typeof address !== 'string') throw new Error(`container ${container.name} has no fixed ipv4_address`);
      this.addresses.set(address, loopback[i]);
    });
    for (const [id, container] of entries) {
      const external = container.ports?.[0]?.external;
      if (external !== undefined) this.references[`docker_container.${id}.ports[0].external`] = String(external);
    }
    for (const [id, container] of entries) {
      this.configurations.set(id, resolvedConfiguration(container, inputs));
      this.containers.push(this.prepareOne(id, container, inputs));
    }
  }

  /**
   * A second `terraform apply` of `tfJson`. Every attribute of docker_container forces a replacement
   * in provider 3.6.2 but memory, CPU and restart settings (test/fixtures/provider-docker-3.6.2.json),
   * and the fleet's containers change in their uploads or addresses: each container whose
   * configuration changed is replaced as the provider replaces one, all at once as Terraform runs
   * them (parallelism 10):
   * - stopped with SIGTERM, then SIGKILL after `destroy_grace_seconds` (0 when unset);
   * - removed: nothing of its filesystem survives but its named volumes;
   * - created from the new configuration (its uploads, environment and command) and started.
   * A container that is no longer declared is stopped and removed the same way. Returns the names of
   * the containers replaced.
   */
  public async apply(tfJson: string, inputs: TerraformInputs): Promise<string[]> {
    const tf = JSON.parse(tfJson);
    const declared: Record<string, any> = tf.resource?.docker_container ?? {};
    for (const [, c] of Object.entries(declared)) {
      const address = c.networks_advanced?.[0]?.ipv4_address;
      if (!this.addresses.has(address)) throw new Error(`${c.name}: a new address ${address}; the test mapped only ${[...this.addresses.keys()].join(', ')}`);
    }
    const changed = this.containers.filter((c) => !declared[c.id] || this.configurations.get(c.id) !== resolvedConfiguration(declared[c.id], inputs));
    await Promise.all(changed.map(async (container) => {
      const config = JSON.parse(this.configurations.get(container.id)!);
      const grace = Number(config.destroy_grace_seconds ?? 0) * 1000;
      const running = this.processes.get(container.name);
      if (running?.running) await running.stop('SIGTERM', grace);
      this.removeContainer(container, config);
    }));
    const replaced: string[] = [];
    for (const container of changed) {
      this.containers.splice(this.containers.indexOf(container), 1);
      const next = declared[container.id];
      if (!next) continue;
      this.configurations.set(container.id, resolvedConfiguration(next, inputs));
      this.containers.push(this.prepareOne(container.id, next, inputs));
      replaced.push(container.name);
    }
    for (const name of replaced) this.start(name);
    return replaced;
  }

  /** A container's removal: its files go, but for the named volumes it mounted. */
  private removeContainer(container: RunnableContainer, config: any): void {
    const keep = path.join(this.root, `.volumes-${container.name}`);
    fs.rmSync(keep, { recursive: true, force: true });
    const volumes: string[] = (config.volumes ?? []).filter((v: any) => v.volume_name !== undefined).map((v: any) => String(v.container_path));
    volumes.forEach((volumePath, i) => {
      const source = path.join(container.root, volumePath);
      if (fs.existsSync(source)) {
        fs.mkdirSync(keep, { recursive: true });
        fs.renameSync(source, path.join(keep, String(i)));
      }
    });
    fs.rmSync(container.root, { recursive: true, force: true });
    volumes.forEach((volumePath, i) => {
      const saved = path.join(keep, String(i));
      if (!fs.existsSync(saved)) return;
      const target = path.join(container.root, volumePath);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.renameSync(saved, target);
    });
    fs.rmSync(keep, { recursive: true, force: true });
  }

  /**
   * Resolves a Terraform JSON value (an output's), strictly, with the containers' known attributes;
   * container addresses and the Docker host's published address are mapped as everywhere else.
   */
  public resolve(value: unknown, inputs: TerraformInputs): unknown {
    const all = { ...inputs, references: { ...this.references, ...inputs.references } };
    const map = (text: string) => this.mapHost(mapAddresses(resolveTerraformString(text, all), this.addresses));
    if (typeof value === 'string') return map(value);
    if (Array.isArray(value)) return value.map((item) => this.resolve(item, inputs));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [map(key), this.resolve(item, inputs)]));
    }
    return value;
  }

  private mapHost(text: string): string {
    return this.hostAddress === undefined ? text : mapAddresses(text, new Map([['127.0.0.1', this.hostAddress]]));
  }

  /**
   * Docker's port publishing: for every published port, a TCP forwarder on the (mapped) host
   * address and host port to the container's address and port.
   */
  public async publishPorts(): Promise<void> {
    for (const container of this.containers) {
      if (!container.published || container.port === undefined) continue;
      const target = { host: container.address, port: container.port };
      const server = net.createServer((client) => {
        const upstream = net.connect(target);
        for (const socket of [client, upstream]) {
          this.sockets.add(socket);
          socket.on('close', () => this.sockets.delete(socket));
          socket.on('error', () => socket.destroy());
        }
        client.pipe(upstream);
        upstream.pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      this.servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(container.published!.port, container.published!.address, () => resolve());
      });
    }
  }

  private prepareOne(id: string, c: any, inputs: TerraformInputs): RunnableContainer {
    const name = String(c.name);
    const base = path.join(this.root, name);
    const reroot = (containerPath: string) => {
      if (!containerPath.startsWith('/')) throw new Error(`${name}: ${containerPath} is not an absolute container path`);
      return path.join(base, containerPath);
    };
    const files: Record<string, string> = {};
    for (const upload of c.upload ?? []) {
      const known = ['file', 'content', 'executable', 'permissions'];
      const unknown = Object.keys(upload).filter((key) => !known.includes(key));
      if (unknown.length > 0) throw new Error(`${name}: upload attributes the test does not know: ${unknown.join(', ')}`);
      const content = mapAddresses(resolveTerraformString(String(upload.content), inputs), this.addresses);
      files[upload.file] = content;
      const target = reroot(upload.file);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, content);
      // The provider's modes (writeFileSync's mode would be masked by the umask).
      fs.chmodSync(target, upload.permissions ? parseInt(upload.permissions, 8) : upload.executable ? 0o744 : 0o644);
    }
    for (const volume of c.volumes ?? []) {
      const known = ['container_path', 'volume_name', 'host_path', 'read_only'];
      const unknown = Object.keys(volume).filter((key) => !known.includes(key));
      if (unknown.length > 0) throw new Error(`${name}: volume attributes the test does not know: ${unknown.join(', ')}`);
      if (volume.host_path === undefined) continue;
      if (volume.read_only !== true) throw new Error(`${name}: mounts the host path ${volume.host_path} writable; the test models read-only host mounts only`);
      const hostDir = inputs.hostPaths?.[volume.host_path];
      if (hostDir === undefined) throw new Error(`${name}: mounts the host path ${volume.host_path}, which the test did not give`);
      const target = reroot(String(volume.container_path));
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.symlinkSync(hostDir, target);
    }
    fs.mkdirSync(path.join(base, 'tmp'), { recursive: true });
    fs.chmodSync(path.join(base, 'tmp'), 0o1777);
    // Inside a container every directory above its files is traversable: so is the way here.
    for (let dir = base; dir.startsWith(this.root); dir = path.dirname(dir)) fs.chmodSync(dir, 0o711);
    const env: Record<string, string> = {};
    for (const entry of c.env ?? []) {
      const text = resolveTerraformString(String(entry), inputs);
      const eq = text.indexOf('=');
      const key = text.slice(0, eq);
      const value = text.slice(eq + 1);
      env[key] = /^CACHEFLEET_[A-Z_]+_DIR$/.test(key) ? reroot(value) : value;
    }
    // The container's cgroup as Docker sets it: memory.max from `memory` (MiB).
    if (c.memory !== undefined) {
      const sys = path.join(base, 'sys');
      const proc = path.join(base, 'proc');
      fs.mkdirSync(path.join(sys, 'fs', 'cgroup'), { recursive: true });
      fs.writeFileSync(path.join(sys, 'fs', 'cgroup', 'memory.max'), `${Number(c.memory) * 1024 * 1024}\n`);
      fs.mkdirSync(path.join(proc, 'self'), { recursive: true });
      fs.writeFileSync(path.join(proc, 'self', 'cgroup'), '0::/\n');
      fs.writeFileSync(path.join(proc, 'meminfo'), fs.readFileSync('/proc/meminfo'));
      env.CACHEFLEET_SYS_DIR = sys;
      env.CACHEFLEET_PROC_DIR = proc;
    }
    const entrypoint: string[] = c.entrypoint ?? [];
    if (entrypoint.length !== 1) throw new Error(`${name}: expected a one-element entrypoint, got ${JSON.stringify(entrypoint)}`);
    const argv = [reroot(entrypoint[0]), ...(c.command ?? []).map(String)];
    let healthcheck: string[] | undefined;
    const test: string[] | undefined = c.healthcheck?.test;
    if (test) {
      if (test[0] !== 'CMD') throw new Error(`${name}: health check ${JSON.stringify(test)} is not a CMD form`);
      healthcheck = test.slice(1).map((arg) => (arg === entrypoint[0] ? reroot(arg) : arg));
    }
    const labels: Record<string, string> = {};
    for (const label of c.labels ?? []) labels[label.label] = label.value;
    const containerAddress = c.networks_advanced[0].ipv4_address;
    return {
      id,
      name,
      labels,
      containerAddress,
      address: this.addresses.get(containerAddress)!,
      root: base,
      env,
      argv,
      healthcheck,
      port: c.ports?.[0]?.internal,
      published: c.ports?.[0]?.external !== undefined
        ? { address: this.mapHost(String(c.ports[0].ip ?? '0.0.0.0')), port: Number(c.ports[0].external) }
        : undefined,
      memoryMiB: c.memory,
      files,
      privileges: containerPrivileges(name, c),
    };
  }

  /** The container named `name`. */
  public container(name: string): RunnableContainer {
    const found = this.containers.find((c) => c.name === name);
    if (!found) throw new Error(`no container ${name} (have ${this.containers.map((c) => c.name).join(', ')})`);
    return found;
  }

  /** The containers whose `label` is `value`. */
  public labelled(label: string, value: string): RunnableContainer[] {
    return this.containers.filter((c) => c.labels[label] === value);
  }

  private processEnv(container: RunnableContainer, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    // A container's own /tmp, writable by any of its users.
    return { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: path.join(container.root, 'tmp'), ...container.env, ...extra };
  }

  /** Starts a container's entrypoint + command, as `docker start` would. */
  public start(name: string): ManagedProcess {
    const container = this.container(name);
    const current = this.processes.get(name);
    if (current?.running) throw new Error(`${name} is already running (pid ${current.pid})`);
    const [command, ...args] = [...container.privileges, ...container.argv];
    const started = startProcess(name, command, args, this.processEnv(container), path.join(this.root, 'logs', `${name}.log`));
    this.processes.set(name, started);
    return started;
  }

  /** The running (or exited) process of a container. */
  public process(name: string): ManagedProcess {
    const found = this.processes.get(name);
    if (!found) throw new Error(`${name} was never started`);
    return found;
  }

  /** Runs a container's health check command once. */
  public health(name: string): Promise<CommandResult> {
    const container = this.container(name);
    if (!container.healthcheck) throw new Error(`${name} has no health check`);
    const [command, ...args] = [...container.privileges, ...container.healthcheck];
    return runCommand(command, args, { env: this.processEnv(container), timeoutMs: 15_000 });
  }

  /** Stops every running container (SIGTERM, then SIGKILL after `graceMs`), as `docker stop` does. */
  public async stopAll(graceMs = 10_000): Promise<void> {
    await Promise.all([...this.processes.values()].filter((p) => p.running).map((p) => p.stop('SIGTERM', graceMs)));
  }

  /** Stops everything and removes the root (kept when CACHEFLEET_KEEP_INTEG=1). */
  public async dispose(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(this.servers.map((server) => new Promise((resolve) => server.close(resolve))));
    try {
      await this.stopAll(5_000);
    } finally {
      for (const p of this.processes.values()) p.signal('SIGKILL');
      if (process.env.CACHEFLEET_KEEP_INTEG !== '1') fs.rmSync(this.root, { recursive: true, force: true });
    }
  }

  /** The tail of every container's log, for a failure message. */
  public logs(lines = 30): string {
    return [...this.processes.entries()]
      .map(([name, p]) => `--- ${name} (pid ${p.pid}) ---\n${p.log().split('\n').slice(-lines).join('\n')}`)
      .join('\n');
  }
}

/**
 * A container's configuration as Terraform compares it: the uploads' contents resolved (a new value
 * of a variable they read is a change).
 */
function resolvedConfiguration(container: any, inputs: TerraformInputs): string {
  const uploads = (container.upload ?? []).map((upload: any) => ({ ...upload, content: resolveTerraformString(String(upload.content), inputs) }));
  return JSON.stringify({ ...container, upload: uploads });
}
