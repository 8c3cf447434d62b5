import { createHash } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { CommandResult, ManagedProcess, runCommand, startProcess } from './processes';

/**
 * Runs the containers of a synthesized Terraform JSON (`cdk.tf.json`) on this machine, as Docker
 * and provider-docker 3.6.2 would run them, with the servers on PATH standing in for the images' ones:
 *
 * - each container has a root of its own, `<root>/<name>`; every `upload` of a `docker_container`
 *   is written at its container path under it (`/etc/cachefleet/fleet.env` ->
 *   `<root>/<name>/etc/cachefleet/fleet.env`), after the mounts, so that an upload under a named
 *   volume's path lands in the volume, as the provider's copy into a created container does (an
 *   upload under a read-only host mount, or onto a mount point, is refused);
 * - uploads get the mode provider 3.6.2 gives them: `permissions`, else 0744 when `executable`,
 *   else 0644 (resource_docker_container_funcs.go:499-509);
 * - the container's environment is kept, except that each `CACHEFLEET_*_DIR` variable points at
 *   the same path under its root;
 * - networking: a container is either on one network at a fixed address
 *   (`networks_advanced[0].ipv4_address`) or isolated (`network_mode: "none"`). Each fixed address
 *   becomes a loopback address of the caller's range (handed in the JSON's order to the networked
 *   containers only; spare ones go, in order, to the addresses a later `apply` adds), everywhere it
 *   appears in the uploaded files. An isolated container has no address (`address` and
 *   `containerAddress` are ''), no entry in `addresses` and no published port. A container with
 *   both, with neither (Docker's default bridge), on several networks or with another
 *   `network_mode` is refused, as are two containers with one address or one name. The isolation
 *   itself is not enforced: an isolated container's processes share this machine's network;
 * - Terraform expressions in the JSON are resolved by a strict resolver: a variable the test does not
 *   give, a function or a reference it does not know, is an error, never a guess. It knows what is
 *   known before apply: the containers' fixed published ports and the volumes' names
 *   (`docker_volume.<id>.name`);
 * - a named volume (`volumes.volume_name`) is one directory per volume name,
 *   `<root>/.volumes/<volume_name>`, created on first use, empty and with mode 0755 (a fresh Docker
 *   volume where the image has nothing at the mount point); the container path is a link to it.
 *   Every container that mounts the name sees the same files at the same time, and the volume
 *   outlives every container: removing a container removes its root (and the link), never the
 *   volume. A bind mount of the host (`volumes.host_path`, read-only or writable) is a link to the
 *   directory the test gives for that host path (a host path it does not give is an error). A link
 *   does not refuse writes as a read-only mount does: a read-only named volume is refused, and a test
 *   that mounts a host path read-only checks that the host's files are unchanged. A mount inside
 *   another mount is refused;
 * - the memory limit (`memory`, MiB) becomes the container's cgroup v2 `memory.max`, under a
 *   stand-in `/sys` and `/proc` the agent reads through `CACHEFLEET_SYS_DIR`/`CACHEFLEET_PROC_DIR`;
 * - `entrypoint` + `command` run unchanged (the entrypoint re-rooted), and the health check's
 *   command runs the same way (only in a running container, as `docker exec`), each as Docker runs
 *   a container's process: as its `user`, with only the capabilities `capabilities` leaves (Docker's
 *   default set, less `drop`, plus `add`) and with `no-new-privileges` when `security_opts` asks
 *   (setpriv); the path to a container's root and to the volumes is traversable (0711), as a
 *   container's own paths are;
 * - a container is a process group whose leader is its PID 1: when the leader exits, for whatever
 *   reason, everything else in the group is killed at once. Restart policies are not modelled: a
 *   container that exits stays exited until the test starts it again (`start`, `startAll`);
 * - a container stops (`stop`, `stopAll`, `apply`, `dispose`) as `docker stop` stops it: its
 *   `stop_signal` (SIGTERM) to the leader only, not to the rest of the group — and not at all when
 *   the leader has no handler for it, as the kernel drops such a signal to a PID 1 (without
 *   `init`) — then, after the grace (`stop`, `stopAll`: their `graceMs`; `apply`: see below),
 *   SIGKILL to the whole group; it is stopped once nothing of the group runs any more;
 * - `apply`, a second `terraform apply`: the containers whose configuration changed and those no
 *   longer declared are stopped (grace `destroy_grace_seconds`, none when unset: the provider then
 *   removes the container by force) and removed, all at once; then the changed ones still declared
 *   and the newly declared ones are created (files written) and started, a container after the
 *   containers it `depends_on` that are created too.
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
  /** The address it has in its Docker network; '' for an isolated container (`network_mode: "none"`). */
  readonly containerAddress: string;
  /** The loopback address it runs on here; '' for an isolated container (`network_mode: "none"`). */
  readonly address: string;
  /** The root its files live under (its named volumes are links to `<root of all>/.volumes/<name>`). */
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
export function mapAddresses(text: string, addresses: ReadonlyMap<string, string>): string {
  let out = text;
  for (const [from, to] of addresses) {
    out = out.replace(new RegExp(`(?<![0-9.])${from.replace(/\./g, '\\.')}(?![0-9])`, 'g'), to);
  }
  return out;
}

/** Docker's rule for container and volume names. */
const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** A mount of a container: a link from its container path to a volume's or the host's directory. */
interface Mount {
  readonly containerPath: string;
  readonly source: string;
  /** The named volume's name; undefined for a bind mount of the host. */
  readonly volume?: string;
  /** Whether the container may write into it (a named volume always; a bind mount unless `read_only`). */
  readonly writable: boolean;
}

/** A container to create: what it runs and what its filesystem holds, checked before anything is written. */
interface ContainerSpec {
  readonly container: RunnableContainer;
  readonly mounts: readonly Mount[];
  readonly uploads: ReadonlyArray<{ readonly file: string; readonly content: string; readonly mode: number }>;
  /** The logical ids of the containers it `depends_on`. */
  readonly dependsOn: readonly string[];
  readonly stop: StopSettings;
}

/** How `docker stop` stops a container. */
interface StopSettings {
  readonly signal: NodeJS.Signals;
  /** Whether the leader is the container's PID 1 (no `init`): a signal it does not catch is dropped. */
  readonly leaderIsPid1: boolean;
}

/**
 * The address a container has in its Docker network, or undefined for an isolated one
 * (`network_mode: "none"`); any other networking is refused.
 */
function networkAddress(c: any): string | undefined {
  const name = String(c.name);
  const networks: any[] = c.networks_advanced ?? [];
  if (!Array.isArray(networks)) throw new Error(`${name}: networks_advanced is not a list`);
  if (c.network_mode !== undefined) {
    if (c.network_mode !== 'none') throw new Error(`${name}: network_mode ${JSON.stringify(c.network_mode)} is not modelled (only "none")`);
    if (networks.length > 0) throw new Error(`${name}: network_mode "none" and networks_advanced: a container is either isolated or on a network`);
    if ((c.ports ?? []).length > 0) throw new Error(`${name}: network_mode "none" with published ports: Docker refuses port publishing without a network`);
    return undefined;
  }
  if (networks.length === 0) throw new Error(`${name}: neither networks_advanced nor network_mode "none" (Docker's default bridge network is not modelled)`);
  if (networks.length > 1) throw new Error(`${name}: on ${networks.length} networks; the test models one`);
  const address = networks[0].ipv4_address;
  if (typeof address !== 'string' || address === '') throw new Error(`container ${name} has no fixed ipv4_address`);
  return address;
}

/** The logical ids of the containers `c` depends on (`depends_on: ["docker_container.<id>"]`). */
function containerDependencies(c: any, declared: ReadonlySet<string>): string[] {
  const ids: string[] = [];
  for (const dependency of c.depends_on ?? []) {
    const match = /^([a-z0-9_]+)\.([A-Za-z0-9_-]+)$/.exec(String(dependency));
    if (!match) throw new Error(`${c.name}: a depends_on the test does not know: ${dependency}`);
    if (match[1] !== 'docker_container') continue;
    if (!declared.has(match[2])) throw new Error(`${c.name}: depends on ${dependency}, which is not declared`);
    ids.push(match[2]);
  }
  return ids;
}

/** `items` with every one after those of them it depends on, else in their order; a cycle is an error. */
function dependencyOrder<T>(items: readonly T[], id: (item: T) => string, dependsOn: (item: T) => readonly string[]): T[] {
  const among = new Set(items.map(id));
  const done = new Set<string>();
  const pending = [...items];
  const ordered: T[] = [];
  while (pending.length > 0) {
    const next = pending.findIndex((item) => dependsOn(item).every((dependency) => !among.has(dependency) || done.has(dependency)));
    if (next < 0) throw new Error(`a dependency cycle among ${pending.map(id).join(', ')}`);
    const [item] = pending.splice(next, 1);
    done.add(id(item));
    ordered.push(item);
  }
  return ordered;
}

/**
 * The `docker_container`s of a Terraform JSON, in its order, checked: Docker names, one name and one
 * address per container, the networking the test models, dependencies on declared containers and
 * without a cycle.
 */
function declaredContainers(tf: any): Array<[string, any]> {
  const entries = Object.entries<any>(tf.resource?.docker_container ?? {});
  const ids = new Set(entries.map(([id]) => id));
  const names = new Map<string, string>();
  const addresses = new Map<string, string>();
  const dependencies = new Map<string, string[]>();
  for (const [id, c] of entries) {
    const name = String(c.name);
    if (!DOCKER_NAME.test(name) || name === 'logs') throw new Error(`${id}: a container name the test does not take: ${JSON.stringify(c.name)}`);
    if (names.has(name)) throw new Error(`${names.get(name)} and ${id} are both named ${name}`);
    names.set(name, id);
    const address = networkAddress(c);
    if (address !== undefined) {
      if (addresses.has(address)) throw new Error(`${addresses.get(address)} and ${name} both have the address ${address}`);
      addresses.set(address, name);
    }
    dependencies.set(id, containerDependencies(c, ids));
  }
  dependencyOrder(entries, ([id]) => id, ([id]) => dependencies.get(id)!);
  return entries;
}

/**
 * What the resolver knows of a Terraform JSON before apply: every container's fixed published port
 * (`docker_container.<id>.ports[0].external`) and every volume's name (`docker_volume.<id>.name`).
 */
function knownAttributes(tf: any, inputs: TerraformInputs): Record<string, string> {
  const known: Record<string, string> = {};
  for (const [id, container] of Object.entries<any>(tf.resource?.docker_container ?? {})) {
    const external = container.ports?.[0]?.external;
    if (external !== undefined) known[`docker_container.${id}.ports[0].external`] = String(external);
  }
  for (const [id, volume] of Object.entries<any>(tf.resource?.docker_volume ?? {})) {
    if (volume.name !== undefined) known[`docker_volume.${id}.name`] = resolveTerraformString(String(volume.name), inputs);
  }
  return known;
}

/** Whether process `pid` has a handler for `signal` (SigCgt of /proc/<pid>/status); true when unknown. */
function catchesSignal(pid: number, signal: NodeJS.Signals): boolean {
  let status: string;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return true;
  }
  const caught = /^SigCgt:\s*([0-9a-fA-F]+)$/m.exec(status);
  if (!caught) return true;
  // Bit n-1 of the mask is signal n.
  const bits = BigInt(`0x${caught[1]}`).toString(2);
  return bits[bits.length - os.constants.signals[signal]] === '1';
}

/**
 * Every `docker_container` of a synthesized stack, prepared to run here: files written, addresses
 * mapped to `loopback` (in the order the networked containers appear in the JSON), expressions
 * resolved. Nothing is started: `start`/`startAll` start containers.
 */
export class TerraformContainers {
  /**
   * @param loopback the loopback addresses of the networked containers, in the JSON's order; more
   *   than there are are kept, in order, for addresses a later `apply` adds
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

  /** The declared containers, in the JSON's order. */
  public readonly containers: RunnableContainer[] = [];
  /** What is known before apply (the containers' fixed published ports, the volumes' names), by reference. */
  public readonly references: Record<string, string> = {};
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();
  /** container address -> loopback address (networked containers only). */
  public readonly addresses = new Map<string, string>();
  /** The loopback addresses no container address has taken yet, in order. */
  private readonly spare: string[];
  private readonly processes = new Map<string, ManagedProcess>();
  /** Each container's configuration as last applied, by logical id. */
  private readonly configurations = new Map<string, string>();
  /** Each declared container's dependencies (logical ids), by logical id. */
  private readonly dependencies = new Map<string, readonly string[]>();
  /** How each container stops, by name. */
  private readonly stopSettings = new Map<string, StopSettings>();

  private constructor(
    tf: any,
    inputs: TerraformInputs,
    loopback: readonly string[],
    public readonly root: string,
    private readonly hostAddress?: string,
  ) {
    const entries = declaredContainers(tf);
    const networked = entries.map(([, c]) => networkAddress(c)).filter((address): address is string => address !== undefined);
    if (networked.length > loopback.length) {
      throw new Error(`the test gave ${loopback.length} addresses for ${networked.length} networked containers`);
    }
    networked.forEach((address, i) => this.addresses.set(address, loopback[i]));
    this.spare = loopback.slice(networked.length);
    Object.assign(this.references, knownAttributes(tf, inputs));
    const known = this.withKnown(inputs);
    const specs = entries.map(([id, c]) => this.describe(id, c, known, this.addresses));
    entries.forEach(([id, c], i) => {
      this.configurations.set(id, resolvedConfiguration(c, known));
      this.commit(specs[i]);
      this.materialize(specs[i]);
      this.containers.push(specs[i].container);
    });
  }

  /**
   * A second `terraform apply` of `tfJson`. Nearly every attribute of docker_container forces a
   * replacement in provider 3.6.2 (test/fixtures/provider-docker-3.6.2.json lists them); the harness
   * replaces a container whatever changed in its configuration (uploads, environment and volume
   * names resolved) but its meta-arguments (`depends_on`, `lifecycle`): a change the provider makes
   * in place (`memory`, `restart`) is a replacement here. As Terraform runs them (parallelism 10):
   * 1. every container whose configuration changed, and every one no longer declared, is stopped and
   *    removed, all at once: its stop signal to its main process, SIGKILL to all of it after
   *    `destroy_grace_seconds` (at once when unset: the provider removes it by force); its root goes,
   *    its named volumes stay;
   * 2. every changed container still declared, and every newly declared one, is created from its
   *    configuration (its mounts, uploads, environment and command) and started, after the
   *    containers it `depends_on` that are created too. A new container address takes the next
   *    spare loopback address (none left: an error, before anything is stopped).
   * Everything is checked before anything is stopped. Returns the names of the containers created
   * (replaced or new), in the JSON's order; containers only removed are not named.
   */
  public async apply(tfJson: string, inputs: TerraformInputs): Promise<string[]> {
    const tf = JSON.parse(tfJson);
    const entries = declaredContainers(tf);
    // The plan: nothing changes before all of it is checked.
    const addresses = new Map(this.addresses);
    const spare = [...this.spare];
    for (const [, c] of entries) {
      const address = networkAddress(c);
      if (address === undefined || addresses.has(address)) continue;
      const next = spare.shift();
      if (next === undefined) throw new Error(`${c.name}: a new address ${address} and no loopback address left; the test mapped only ${[...addresses.keys()].join(', ')}`);
      addresses.set(address, next);
    }
    const references = knownAttributes(tf, inputs);
    const known = this.withKnown(inputs, references);
    const configurations = new Map(entries.map(([id, c]) => [id, resolvedConfiguration(c, known)]));
    const removed = this.containers.filter((c) => configurations.get(c.id) !== this.configurations.get(c.id));
    const current = new Set(this.containers.filter((c) => !removed.includes(c)).map((c) => c.id));
    const specs = entries.filter(([id]) => !current.has(id)).map(([id, c]) => this.describe(id, c, known, addresses));

    for (const [address, loopback] of addresses) this.addresses.set(address, loopback);
    this.spare.splice(0, this.spare.length, ...spare);
    for (const key of Object.keys(this.references)) delete this.references[key];
    Object.assign(this.references, references);
    const declaredIds = new Set(entries.map(([id]) => id));
    this.dependencies.clear();
    for (const [id, c] of entries) this.dependencies.set(id, containerDependencies(c, declaredIds));

    await Promise.all(removed.map(async (container) => {
      const config = JSON.parse(this.configurations.get(container.id)!);
      await this.stopContainer(container.name, Number(config.destroy_grace_seconds ?? 0) * 1000);
      // A container's removal: its root goes (the links to its volumes with it), never a volume.
      fs.rmSync(container.root, { recursive: true, force: true });
    }));
    for (const container of removed) {
      this.configurations.delete(container.id);
      this.stopSettings.delete(container.name);
    }

    const kept = new Map(this.containers.filter((c) => !removed.includes(c)).map((c) => [c.id, c]));
    const created = new Map(specs.map((spec) => [spec.container.id, spec]));
    this.containers.splice(0, this.containers.length, ...entries.map(([id]) => kept.get(id) ?? created.get(id)!.container));
    for (const spec of dependencyOrder(specs, (s) => s.container.id, (s) => s.dependsOn)) {
      this.configurations.set(spec.container.id, configurations.get(spec.container.id)!);
      this.commit(spec);
      this.materialize(spec);
      this.start(spec.container.name);
    }
    return specs.map((spec) => spec.container.name);
  }

  /** `inputs` with what is known before apply (the caller's references win). */
  private withKnown(inputs: TerraformInputs, references: Record<string, string> = this.references): TerraformInputs {
    return { ...inputs, references: { ...references, ...inputs.references } };
  }

  /**
   * Resolves a Terraform JSON value (an output's), strictly, with the containers' known attributes;
   * container addresses and the Docker host's published address are mapped as everywhere else.
   */
  public resolve(value: unknown, inputs: TerraformInputs): unknown {
    const all = this.withKnown(inputs);
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

  /** A container to create, checked and resolved; nothing is written. */
  private describe(id: string, c: any, inputs: TerraformInputs, addresses: ReadonlyMap<string, string>): ContainerSpec {
    const name = String(c.name);
    const base = path.join(this.root, name);
    const absolute = (containerPath: string) => {
      if (!containerPath.startsWith('/')) throw new Error(`${name}: ${containerPath} is not an absolute container path`);
      const normal = path.posix.normalize(containerPath).replace(/(.)\/$/, '$1');
      if (normal.split('/').includes('..')) throw new Error(`${name}: ${containerPath} leaves the container`);
      return normal;
    };
    const reroot = (containerPath: string) => path.join(base, absolute(containerPath));
    const under = (file: string, dir: string) => file === dir || dir === '/' || file.startsWith(`${dir}/`);

    const mounts: Mount[] = [];
    for (const volume of c.volumes ?? []) {
      const known = ['container_path', 'volume_name', 'host_path', 'read_only'];
      const unknown = Object.keys(volume).filter((key) => !known.includes(key));
      if (unknown.length > 0) throw new Error(`${name}: volume attributes the test does not know: ${unknown.join(', ')}`);
      const containerPath = absolute(String(volume.container_path));
      const clash = mounts.find((m) => under(containerPath, m.containerPath) || under(m.containerPath, containerPath));
      if (clash) throw new Error(`${name}: mounts at ${containerPath} and ${clash.containerPath}; one mount point inside another (or twice) is not modelled`);
      if ((volume.volume_name === undefined) === (volume.host_path === undefined)) {
        throw new Error(`${name}: the mount at ${containerPath} needs exactly one of volume_name and host_path`);
      }
      if (volume.volume_name !== undefined) {
        if (volume.read_only === true) throw new Error(`${name}: mounts the volume at ${containerPath} read-only; the test models writable named volumes only`);
        const volumeName = resolveTerraformString(String(volume.volume_name), inputs);
        if (!DOCKER_NAME.test(volumeName)) throw new Error(`${name}: a volume name Docker refuses: ${JSON.stringify(volumeName)}`);
        mounts.push({ containerPath, source: path.join(this.root, '.volumes', volumeName), volume: volumeName, writable: true });
      } else {
        const hostDir = inputs.hostPaths?.[volume.host_path];
        if (hostDir === undefined) throw new Error(`${name}: mounts the host path ${volume.host_path}, which the test did not give`);
        mounts.push({ containerPath, source: hostDir, writable: volume.read_only !== true });
      }
    }

    const files: Record<string, string> = {};
    const uploads: Array<{ file: string; content: string; mode: number }> = [];
    for (const upload of c.upload ?? []) {
      const known = ['file', 'content', 'executable', 'permissions'];
      const unknown = Object.keys(upload).filter((key) => !known.includes(key));
      if (unknown.length > 0) throw new Error(`${name}: upload attributes the test does not know: ${unknown.join(', ')}`);
      const file = absolute(String(upload.file));
      for (const mount of mounts) {
        if (file === mount.containerPath) throw new Error(`${name}: uploads ${file} onto a mount point`);
        if (mount.volume === undefined && under(file, mount.containerPath)) throw new Error(`${name}: uploads ${file} into the host mount at ${mount.containerPath}`);
      }
      const content = mapAddresses(resolveTerraformString(String(upload.content), inputs), addresses);
      files[upload.file] = content;
      uploads.push({ file, content, mode: upload.permissions ? parseInt(upload.permissions, 8) : upload.executable ? 0o744 : 0o644 });
    }

    const env: Record<string, string> = {};
    for (const entry of c.env ?? []) {
      const text = resolveTerraformString(String(entry), inputs);
      const eq = text.indexOf('=');
      const key = text.slice(0, eq);
      const value = text.slice(eq + 1);
      // A path of the container's filesystem: its directories, and the backup location and restore
      // set when they are directories (an S3 address stays as it is).
      const containerPath = /^CACHEFLEET_[A-Z_]+_DIR$/.test(key) || (/^CACHEFLEET_(BACKUP_LOCATION|RESTORE_FROM)$/.test(key) && value.startsWith('/'));
      env[key] = containerPath ? reroot(value) : value;
    }
    if (c.memory !== undefined) {
      env.CACHEFLEET_SYS_DIR = path.join(base, 'sys');
      env.CACHEFLEET_PROC_DIR = path.join(base, 'proc');
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
    const containerAddress = networkAddress(c) ?? '';
    const stopSignal = String(c.stop_signal ?? 'SIGTERM').toUpperCase().replace(/^(?!SIG)/, 'SIG') as NodeJS.Signals;
    if (os.constants.signals[stopSignal] === undefined) throw new Error(`${name}: a stop_signal the test does not know: ${c.stop_signal}`);
    return {
      container: {
        id,
        name,
        labels,
        containerAddress,
        address: containerAddress === '' ? '' : addresses.get(containerAddress)!,
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
      },
      mounts,
      uploads,
      dependsOn: c.depends_on === undefined ? [] : (c.depends_on as unknown[])
        .map(String).filter((d) => d.startsWith('docker_container.')).map((d) => d.slice('docker_container.'.length)),
      stop: { signal: stopSignal, leaderIsPid1: c.init !== true },
    };
  }

  /** Records what the harness keeps of a container it creates. */
  private commit(spec: ContainerSpec): void {
    this.dependencies.set(spec.container.id, spec.dependsOn);
    this.stopSettings.set(spec.container.name, spec.stop);
  }

  /** Creates a container's filesystem: its root, its mounts (creating a named volume on first use), its uploads. */
  private materialize(spec: ContainerSpec): void {
    const base = spec.container.root;
    fs.mkdirSync(base, { recursive: true });
    for (const mount of spec.mounts) {
      const target = path.join(base, mount.containerPath);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      if (mount.volume !== undefined) this.volumeDir(mount.volume, true);
      fs.symlinkSync(mount.source, target);
    }
    for (const upload of spec.uploads) {
      const target = path.join(base, upload.file);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, upload.content);
      // The provider's modes (writeFileSync's mode would be masked by the umask).
      fs.chmodSync(target, upload.mode);
    }
    fs.mkdirSync(path.join(base, 'tmp'), { recursive: true });
    fs.chmodSync(path.join(base, 'tmp'), 0o1777);
    // Inside a container every directory above its files is traversable: so is the way here.
    for (let dir = base; dir.startsWith(this.root); dir = path.dirname(dir)) fs.chmodSync(dir, 0o711);
    // The container's cgroup as Docker sets it: memory.max from `memory` (MiB).
    const memoryMiB = spec.container.memoryMiB;
    if (memoryMiB !== undefined) {
      const sys = path.join(base, 'sys');
      const proc = path.join(base, 'proc');
      fs.mkdirSync(path.join(sys, 'fs', 'cgroup'), { recursive: true });
      fs.writeFileSync(path.join(sys, 'fs', 'cgroup', 'memory.max'), `${Number(memoryMiB) * 1024 * 1024}\n`);
      fs.mkdirSync(path.join(proc, 'self'), { recursive: true });
      fs.writeFileSync(path.join(proc, 'self', 'cgroup'), '0::/\n');
      fs.writeFileSync(path.join(proc, 'meminfo'), fs.readFileSync('/proc/meminfo'));
    }
  }

  /**
   * The directory of the named volume `name`, `<root>/.volumes/<name>`; created, empty and 0755 as a
   * fresh Docker volume, when `create` is set and it does not exist yet (never changed after: the
   * agent may chown or chmod it).
   */
  private volumeDir(name: string, create = false): string {
    const volumes = path.join(this.root, '.volumes');
    const dir = path.join(volumes, name);
    if (!create) return dir;
    fs.mkdirSync(volumes, { recursive: true });
    // The engine runs as another user and reaches its files through the link: the way is traversable.
    fs.chmodSync(volumes, 0o711);
    fs.chmodSync(this.root, 0o711);
    try {
      fs.mkdirSync(dir);
      fs.chmodSync(dir, 0o755);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    return dir;
  }

  /** The directory of the named volume `name`, shared by every container that mounts it. */
  public volume(name: string): string {
    const dir = this.volumeDir(name);
    if (!fs.existsSync(dir)) throw new Error(`no volume ${name} (no container has mounted it)`);
    return dir;
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

  /**
   * Starts a container's entrypoint + command, as `docker start` would: in a process group of its
   * own whose leader is the container's PID 1; when the leader exits, the rest of the group is
   * killed at once.
   */
  public start(name: string): ManagedProcess {
    const container = this.container(name);
    const current = this.processes.get(name);
    if (current?.running) throw new Error(`${name} is already running (pid ${current.pid})`);
    const [command, ...args] = [...container.privileges, ...container.argv];
    const started = startProcess(name, command, args, this.processEnv(container), path.join(this.root, 'logs', `${name}.log`));
    this.processes.set(name, started);
    // A container ends with its PID 1.
    started.exited.then(() => started.killGroup()).catch(() => undefined);
    return started;
  }

  /**
   * Starts every declared container that is not running, each after the containers it
   * `depends_on`, as `terraform apply` creates them; returns their names in the order started.
   */
  public startAll(): string[] {
    const stopped = this.containers.filter((c) => !this.processes.get(c.name)?.running);
    const ordered = dependencyOrder(stopped, (c) => c.id, (c) => this.dependencies.get(c.id) ?? []);
    for (const container of ordered) this.start(container.name);
    return ordered.map((c) => c.name);
  }

  /** The running (or exited) process of a container. */
  public process(name: string): ManagedProcess {
    const found = this.processes.get(name);
    if (!found) throw new Error(`${name} was never started`);
    return found;
  }

  /** Runs a container's health check command once (in a running container only, as `docker exec`). */
  public health(name: string): Promise<CommandResult> {
    const container = this.container(name);
    if (!container.healthcheck) throw new Error(`${name} has no health check`);
    if (!this.processes.get(name)?.running) throw new Error(`${name} is not running`);
    const [command, ...args] = [...container.privileges, ...container.healthcheck];
    return runCommand(command, args, { env: this.processEnv(container), timeoutMs: 15_000 });
  }

  /**
   * Runs the container's entrypoint with `args` in the running container, as
   * `docker exec <container> <entrypoint> <args>` does: its user and privileges, its environment.
   */
  public exec(name: string, args: string[], timeoutMs = 120_000): Promise<CommandResult> {
    const container = this.container(name);
    if (!this.processes.get(name)?.running) throw new Error(`${name} is not running`);
    const [program, ...rest] = [...container.privileges, container.argv[0], ...args];
    return runCommand(program, rest, { env: this.processEnv(container), timeoutMs });
  }

  /**
   * Stops a container as `docker stop` does: its stop signal (SIGTERM) to its main process only
   * (dropped when that process, the container's PID 1, has no handler for it), up to `graceMs` for it
   * to exit (none when 0: SIGKILL at once), then SIGKILL to everything in it; resolves once nothing
   * of it runs any more. A container never started, or already stopped, is left as it is.
   */
  public async stop(name: string, graceMs = 10_000): Promise<void> {
    await this.stopContainer(name, graceMs);
  }

  private async stopContainer(name: string, graceMs: number): Promise<void> {
    const p = this.processes.get(name);
    if (!p) return;
    const settings = this.stopSettings.get(name) ?? { signal: 'SIGTERM', leaderIsPid1: true };
    const delivered = graceMs > 0 && (!settings.leaderIsPid1 || catchesSignal(p.pid, settings.signal));
    await p.stopLeader(delivered ? settings.signal : null, graceMs);
  }

  /** Stops every running container at once, each as `stop` does with `graceMs`. */
  public async stopAll(graceMs = 10_000): Promise<void> {
    await Promise.all([...this.processes.keys()].map((name) => this.stopContainer(name, graceMs)));
  }

  /** Stops everything and removes the root, volumes included (kept when CACHEFLEET_KEEP_INTEG=1). */
  public async dispose(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(this.servers.map((server) => new Promise((resolve) => server.close(resolve))));
    try {
      await this.stopAll(5_000);
    } finally {
      for (const p of this.processes.values()) {
        try {
          p.killGroup();
        } catch {
          // nothing more to do
        }
      }
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
 * A container's configuration as Terraform compares it: its uploads' contents, its environment and
 * its volumes' names resolved (a new value of a variable they read is a change); its meta-arguments
 * (`depends_on`, `lifecycle`), which change no container, left out.
 */
function resolvedConfiguration(container: any, inputs: TerraformInputs): string {
  const resolve = (value: unknown) => resolveTerraformString(String(value), inputs);
  const { depends_on: _dependsOn, lifecycle: _lifecycle, ...attributes } = container;
  return JSON.stringify({
    ...attributes,
    upload: (container.upload ?? []).map((upload: any) => ({ ...upload, content: resolve(upload.content) })),
    env: (container.env ?? []).map(resolve),
    volumes: (container.volumes ?? []).map((volume: any) =>
      volume.volume_name === undefined ? volume : { ...volume, volume_name: resolve(volume.volume_name) }),
  });
}
