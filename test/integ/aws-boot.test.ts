import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describeInteg, needsBinaries } from './support/binaries';
import { auth, cli, command, infoFields, memcachedRequest } from './support/clients';
import { runCommand, sleep, waitFor } from './support/processes';
import { CacheCluster, ReplicationGroup } from '../../src/aws';
import { CacheEngine, MemcachedEngineVersion, ValkeyEngineVersion } from '../../src/core/engine';
import { ParameterGroup } from '../../src/core/parameters/parameter-group';

/**
 * Template-driven behaviour test of the AWS flavor. From the synthesized template,
 * the user data is resolved with a strict resolver and the boot path runs unchanged (aws platform)
 * under a temporary root per instance, with stand-ins on PATH for what cannot run here (dnf, podman,
 * aws, mount/mkfs/blkid/mountpoint, ip, systemctl, cfn-signal) and an instance-metadata stand-in on
 * 127.0.0.1 that requires IMDSv2 tokens. The engines it starts are real. Data nodes: 127.0.0.91-99.
 */

const STACK = 'BootTest';
const APP_TOKEN = 'Boot!Token#%&*-1234_abcd';
const INTERNAL_PASSWORD = 'internalPassword0123456789abcdefABCDEF99';

// ------------------------------------------------------------------------------------------------
// The strict resolver
// ------------------------------------------------------------------------------------------------

/** Resolves the intrinsics of a template value: Ref (resources and pseudo parameters), Fn::Join, Fn::Sub, Fn::Base64. Anything else is an error. */
class StrictResolver {
  constructor(private readonly resources: Record<string, any>, private readonly physical: (logicalId: string, type: string) => string) {}

  public resolve(value: any): any {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    const keys = Object.keys(value);
    if (keys.length !== 1) return Object.fromEntries(keys.map((key) => [key, this.resolve(value[key])]));
    const [key] = keys;
    const arg = value[key];
    switch (key) {
      case 'Ref': return this.ref(arg);
      case 'Fn::Join': return (this.resolve(arg[1]) as string[]).join(arg[0]);
      case 'Fn::Base64': return this.resolve(arg);
      case 'Fn::Sub': {
        if (typeof arg !== 'string') throw new Error(`Fn::Sub with variables is not resolved here: ${JSON.stringify(arg)}`);
        return arg.replace(/\$\{([^}]+)\}/g, (_m, name) => this.ref(name));
      }
      default:
        if (key.startsWith('Fn::') || key === 'Condition') throw new Error(`the strict resolver does not know ${key}: ${JSON.stringify(value)}`);
        return { [key]: this.resolve(arg) };
    }
  }

  private ref(name: string): string {
    const pseudo: Record<string, string> = { 'AWS::StackName': STACK, 'AWS::Region': 'eu-west-1', 'AWS::AccountId': '123456789012', 'AWS::Partition': 'aws' };
    if (pseudo[name]) return pseudo[name];
    const resource = this.resources[name];
    if (!resource) throw new Error(`the strict resolver has no resource ${name}`);
    return this.physical(name, resource.Type);
  }
}

/** A fake physical id per resource type, derived from the logical id. */
function physicalId(logicalId: string, type: string): string {
  const suffix = logicalId.toLowerCase().replace(/[^a-z0-9]/g, '').slice(-12);
  switch (type) {
    case 'AWS::EC2::Volume': return `vol-${suffix}`;
    case 'AWS::EC2::NetworkInterface': return `eni-${suffix}`;
    case 'AWS::SecretsManager::Secret': return `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${logicalId}-AbCdEf`;
    case 'AWS::Route53::HostedZone': return `Z${suffix.toUpperCase()}`;
    case 'AWS::SSM::Parameter': return `CFN-${logicalId}`;
    default: throw new Error(`the strict resolver has no physical id for ${type} (${logicalId})`);
  }
}

// ------------------------------------------------------------------------------------------------
// Stand-ins
// ------------------------------------------------------------------------------------------------

const STANDINS: Record<string, string> = {
  // Every stand-in records its call: "<program> [<slot>] <args>".
  'record.sh': `log_call() { printf '%s [%s] %s\\n' "$1" "\${CACHEFLEET_SLOT:-boot}" "$2" >>"$STANDIN/calls.log"; }
`,
  'aws': `#!/bin/bash
. "$STANDIN/bin/record.sh"
log_call aws "$*"
op="$1 $2"
if [ -f "$STANDIN/fail" ] && [ "$(cat "$STANDIN/fail")" = "$op" ]; then
  echo "An error occurred (ThrottlingException) when calling $op: Rate exceeded (stand-in)" >&2
  exit 254
fi
arg() { while [ $# -gt 0 ]; do if [ "$1" = "$want" ]; then printf '%s\\n' "$2"; return; fi; shift; done; }
case $op in
  "ssm get-parameter") want=--name; name=$(arg "$@"); cat "$STANDIN/ssm/$name" || { echo "ParameterNotFound: $name" >&2; exit 254; } ;;
  "s3 cp") src=$3; [ "$3" = --only-show-errors ] && src=$4; dest=\${!#}; cp "$STANDIN/s3/$(basename "$src")" "$dest" || exit 1 ;;
  "secretsmanager get-secret-value") want=--secret-id; id=$(arg "$@"); cat "$STANDIN/secrets/\${id##*:secret:}" || { echo "ResourceNotFoundException: $id" >&2; exit 254; } ;;
  "ec2 describe-volumes") want=--volume-ids; id=$(arg "$@"); cat "$STANDIN/attachments/$id" 2>/dev/null || echo None ;;
  "ec2 attach-volume")
    want=--volume-id; id=$(arg "$@"); want=--instance-id; instance=$(arg "$@")
    printf '%s\\tattached\\n' "$instance" >"$STANDIN/attachments/$id"
    mkdir -p "$CACHEFLEET_DEV_DIR/disk/by-id"
    printf '%s\\n' "$id" >"$CACHEFLEET_DEV_DIR/disk/by-id/nvme-Amazon_Elastic_Block_Store_$(printf '%s' "$id" | tr -d -)" ;;
  "ec2 describe-network-interfaces") want=--network-interface-ids; id=$(arg "$@"); cat "$STANDIN/attachments/$id" 2>/dev/null || echo None ;;
  "ec2 attach-network-interface")
    want=--network-interface-id; id=$(arg "$@"); want=--instance-id; instance=$(arg "$@")
    printf '%s\\tattached\\n' "$instance" >"$STANDIN/attachments/$id"
    cat "$STANDIN/enis/$id" >>"$CACHEFLEET_ROOT/ip-addresses" ;;
  "route53 change-resource-record-sets")
    want=--change-batch; batch=$(arg "$@")
    name=$(printf '%s' "$batch" | sed -n 's/.*"Name":"\\([^"]*\\)".*/\\1/p')
    printf '%s' "$batch" | grep -o '"Value":"[^"]*"' | cut -d'"' -f4 >"$STANDIN/records/$name.$$" && mv -f "$STANDIN/records/$name.$$" "$STANDIN/records/$name" ;;
  "route53 list-resource-record-sets")
    # The CLI's text output of [Name, ResourceRecords[].Value]: the name, then the values on the next line.
    want=--start-record-name; name=$(arg "$@"); printf '%s.\\n%s\\n' "$name" "$(tr '\\n' '\\t' <"$STANDIN/records/$name" | sed 's/\\t$//')" ;;
  "cloudwatch put-metric-data" | "autoscaling describe-auto-scaling-instances" | "autoscaling complete-lifecycle-action") ;;
  *) echo "aws stand-in: unexpected call $*" >&2; exit 2 ;;
esac
`,
  'cfn-signal': '#!/bin/bash\n. "$STANDIN/bin/record.sh"\nlog_call cfn-signal "$*"\n',
  'dnf': '#!/bin/bash\n. "$STANDIN/bin/record.sh"\nlog_call dnf "$*"\n',
  // podman runs the image's binary from this machine (the image pinned by core is the same engine),
  // as a container would: only the variables passed with -e, the image's PATH, and none of the
  // host's programs (the instance's /opt, where the agent and its bundle live, is hidden).
  'podman': `#!/bin/bash
. "$STANDIN/bin/record.sh"
[ "$1" = run ] || { log_call podman "$*"; exit 0; }
shift
env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root)
while [ $# -gt 0 ]; do
  case $1 in
    -e) case $2 in *=*) env+=("$2") ;; *) [ -n "\${!2+x}" ] && env+=("$2=\${!2}") ;; esac; shift 2 ;;
    -v | --network | --name) shift 2 ;;
    -*) shift ;;
    *) shift; break ;;
  esac
done
exec unshare --mount sh -c '/bin/mount -t tmpfs container-view "$0" && exec "$@"' "$CACHEFLEET_ROOT/opt" env -i "\${env[@]}" "$@"
`,
  // The filesystem belongs to the volume (the device file names it), not to the instance.
  'mkfs': '#!/bin/bash\n. "$STANDIN/bin/record.sh"\nlog_call mkfs "$*"\nprintf xfs >"$STANDIN/volumes/$(cat "${!#}").fs"\n',
  'blkid': '#!/bin/bash\n[ -f "$STANDIN/volumes/$(cat "$1").fs" ] && printf \'%s: TYPE="xfs"\\n\' "$1"\n',
  // mount: the volume's data lives in the stand-in's volume store; the mount point becomes a link to it.
  'mount': `#!/bin/bash
. "$STANDIN/bin/record.sh"
log_call mount "$*"
volume=$(cat "$1")
mkdir -p "$STANDIN/volumes/$volume"
rmdir "$2" && ln -s "$STANDIN/volumes/$volume" "$2"
`,
  'mountpoint': '#!/bin/bash\n[ "$1" = -q ] && shift\n[ -L "$1" ]\n',
  'ip': `#!/bin/bash
[ -f "$CACHEFLEET_ROOT/ip-addresses" ] || exit 0
n=2
while read -r address; do printf '%s: ens6    inet %s/24 brd 0.0.0.0 scope global ens6\\n' "$n" "$address"; n=$((n + 1)); done <"$CACHEFLEET_ROOT/ip-addresses"
`,
  // systemctl: starts a .service's ExecStart in its own process group with the unit's EnvironmentFile
  // only; a .path unit becomes a watcher that runs its service each time the file is written.
  'systemctl': `#!/bin/bash
. "$STANDIN/bin/record.sh"
log_call systemctl "$*"
[ "$1" = enable ] || exit 0
shift
[ "$1" = --now ] && shift
dir=$CACHEFLEET_ROOT/etc/systemd/system
mkdir -p "$CACHEFLEET_ROOT/systemctl"
for unit in "$@"; do
  case $unit in
    *.timer) continue ;;
    *.path) setsid "$STANDIN/bin/watch-path" "$dir/$unit" >>"$CACHEFLEET_ROOT/systemctl/$unit.log" 2>&1 </dev/null & ;;
    *) setsid "$STANDIN/bin/run-unit" "$dir/$unit" >>"$CACHEFLEET_ROOT/systemctl/$unit.log" 2>&1 </dev/null & ;;
  esac
  echo $! >"$CACHEFLEET_ROOT/systemctl/$unit.pid"
done
`,
  // A service's standard input is /dev/null, as under systemd (bash -c with a socket on stdin would
  // also read ~/.bashrc, which may put another PATH first).
  'run-unit': `#!/bin/bash
exec </dev/null
exec_start=$(sed -n 's/^ExecStart=//p' "$1")
env_file=$(sed -n 's/^EnvironmentFile=//p' "$1")
# shellcheck disable=SC2086
exec env -i PATH="$PATH" HOME="$HOME" TMPDIR="$TMPDIR" STANDIN="$STANDIN" CACHEFLEET_ROOT="$CACHEFLEET_ROOT" \\
  bash -c 'set -a; . "$1"; set +a; shift; exec "$@"' sh "$env_file" $exec_start
`,
  // Polls the file every 0.2 s (modification time with nanoseconds); a file there before the unit
  // started does not count, as with systemd.
  'watch-path': `#!/bin/bash
watched=$(sed -n 's/^PathChanged=//p' "$1")
service="$(dirname "$1")/$(sed -n 's/^Unit=//p' "$1")"
last=$(stat -c %y "$watched" 2>/dev/null || echo none)
while :; do
  now=$(stat -c %y "$watched" 2>/dev/null || echo none)
  if [ "$now" != none ] && [ "$now" != "$last" ]; then "$STANDIN/bin/run-unit" "$service"; fi
  last=$now
  sleep 0.2
done
`,
};

// ------------------------------------------------------------------------------------------------
// One synthesized fleet, booted slot by slot
// ------------------------------------------------------------------------------------------------

interface Slot {
  readonly name: string;
  readonly groupId: string;
  readonly tags: Record<string, string>;
  generation: number;
  root: string;
}

class BootedFleet {
  public readonly standin: string;
  public readonly slots: Slot[] = [];
  public userData = '';
  private server?: http.Server;
  private port = 0;
  private readonly dir: string;

  constructor(public readonly label: string, build: (stack: Stack, vpc: ec2.IVpc) => void) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `cachefleet-aws-${label}-`));
    this.standin = path.join(this.dir, 'standin');
    const { resources, resolver } = this.synthesize(build, 'cdk.out');

    for (const sub of ['bin', 'ssm', 's3', 'secrets', 'attachments', 'enis', 'records', 'volumes']) fs.mkdirSync(path.join(this.standin, sub), { recursive: true });
    for (const [name, text] of Object.entries(STANDINS)) fs.writeFileSync(path.join(this.standin, 'bin', name), text, { mode: 0o755 });
    fs.writeFileSync(path.join(this.standin, 'calls.log'), '');

    // What the account would hold after the deploy: the parameter, the asset, the secrets, the interfaces, the record.
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type === 'AWS::SecretsManager::Secret') {
        fs.writeFileSync(path.join(this.standin, 'secrets', `${id}-AbCdEf`), id.includes('AuthToken') ? APP_TOKEN : INTERNAL_PASSWORD);
      }
      if (r.Type === 'AWS::EC2::NetworkInterface') fs.writeFileSync(path.join(this.standin, 'enis', physicalId(id, r.Type)), `${r.Properties.PrivateIpAddress}\n`);
      if (r.Type === 'AWS::Route53::RecordSet' && /^(primary|replicas)\./.test(r.Properties.Name)) {
        fs.writeFileSync(path.join(this.standin, 'records', r.Properties.Name.replace(/\.$/, '')), `${r.Properties.ResourceRecords.join('\n')}\n`);
      }
    }
    const lt = Object.values(resources).find((r: any) => r.Type === 'AWS::EC2::LaunchTemplate');
    this.userData = resolver.resolve(lt.Properties.LaunchTemplateData.UserData) as string;
    // The slots in the order CloudFormation creates them (each waits for the one it depends on).
    const groups = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::AutoScaling::AutoScalingGroup');
    const ordered: Array<[string, any]> = [];
    while (ordered.length < groups.length) {
      const next = groups.find(([id, r]) => !ordered.some(([o]) => o === id)
        && (r.DependsOn ?? []).filter((d: string) => groups.some(([g]) => g === d)).every((d: string) => ordered.some(([o]) => o === d)));
      if (!next) throw new Error('the slots depend on each other in a cycle');
      ordered.push(next);
    }
    for (const [groupId, r] of ordered) {
      const tags = Object.fromEntries(r.Properties.Tags.map((tag: any) => [tag.Key, String(resolver.resolve(tag.Value))]));
      this.slots.push({ name: tags['cachefleet:slot'], groupId, tags, generation: 0, root: '' });
    }
  }

  /**
   * Synthesizes the app into `<dir>/<outdir>` and puts what its deploy changes in the account: the
   * bundle parameter and the bundle asset. Returns the template's resources and their resolver.
   */
  public synthesize(build: (stack: Stack, vpc: ec2.IVpc) => void, outdirName: string) {
    const outdir = path.join(this.dir, outdirName);
    const app = new App({ outdir });
    const stack = new Stack(app, STACK);
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0test', availabilityZones: ['eu-west-1a'], privateSubnetIds: ['subnet-0test'], privateSubnetIpv4CidrBlocks: ['127.0.0.0/24'],
    });
    build(stack, vpc);
    app.synth();
    const resources: Record<string, any> = JSON.parse(fs.readFileSync(path.join(outdir, `${STACK}.template.json`), 'utf8')).Resources;
    const resolver = new StrictResolver(resources, physicalId);
    for (const sub of ['ssm', 's3']) fs.mkdirSync(path.join(this.standin, sub), { recursive: true });
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type !== 'AWS::SSM::Parameter') continue;
      const url = resolver.resolve(r.Properties.Value) as string;
      fs.writeFileSync(path.join(this.standin, 'ssm', physicalId(id, r.Type)), `${url}\n`);
      const hash = /([0-9a-f]{64})\.zip$/.exec(url)![1];
      const zip = spawnSync('python3', ['-m', 'zipfile', '-c', path.join(this.standin, 's3', `${hash}.zip`), ...fs.readdirSync(path.join(outdir, `asset.${hash}`)).map((f) => path.join(outdir, `asset.${hash}`, f))]);
      if (zip.status !== 0) throw new Error(`zip: ${zip.stderr}`);
    }
    return { resources, resolver };
  }

  /**
   * Runs the group's SSM association on one slot's instance, as Run Command would: its commands as a
   * root shell script (the instance's files are under the slot's root).
   */
  public runAssociation(slot: Slot, resources: Record<string, any>, resolver: StrictResolver) {
    const association = Object.values(resources).find((r: any) => r.Type === 'AWS::SSM::Association');
    const commands = (resolver.resolve(association.Properties.Parameters.commands) as string[]).join('\n');
    return runCommand('sh', ['-c', commands.replace(/\/usr\/local\/sbin\//g, `${slot.root}/usr/local/sbin/`)], {
      env: { ...this.instanceEnv(slot), CACHEFLEET_RETRY_DELAY: '1' },
      timeoutMs: 60_000,
    });
  }

  /** What every program of a slot's instance runs with: the stand-ins first on PATH, the instance's root and metadata. */
  private instanceEnv(slot: Slot): Record<string, string | undefined> {
    return {
      PATH: `${path.join(this.standin, 'bin')}:${process.env.PATH}`,
      HOME: process.env.HOME,
      TMPDIR: this.dir,
      STANDIN: this.standin,
      CACHEFLEET_ROOT: slot.root,
      CACHEFLEET_METADATA_URL: `http://127.0.0.1:${this.port}/${slot.name}`,
    };
  }

  /** The instance-metadata stand-in: IMDSv2 only, one instance per slot under /<slot>/. */
  public async startMetadata(): Promise<void> {
    const tokens = new Set<string>();
    this.server = http.createServer((request, response) => {
      const [, slotName, ...rest] = (request.url ?? '').split('/');
      const route = rest.join('/');
      const slot = this.slots.find((s) => s.name === slotName);
      const send = (status: number, body: string) => { response.writeHead(status); response.end(body); };
      if (!slot) return send(404, 'no such instance');
      if (request.method === 'PUT' && route === 'latest/api/token') {
        if (!request.headers['x-aws-ec2-metadata-token-ttl-seconds']) return send(400, 'missing TTL');
        const token = `token-${slot.name}-${tokens.size}`;
        tokens.add(token);
        return send(200, token);
      }
      if (request.method !== 'GET' || !tokens.has(String(request.headers['x-aws-ec2-metadata-token']))) return send(401, 'IMDSv2 token required');
      const meta: Record<string, string> = {
        'latest/meta-data/instance-id': `i-${slot.name.replace(/-/g, '')}${slot.generation}`,
        'latest/meta-data/placement/region': 'eu-west-1',
        'latest/meta-data/autoscaling/target-lifecycle-state': 'InService',
      };
      for (const [key, value] of Object.entries(slot.tags)) meta[`latest/meta-data/tags/instance/${key}`] = value;
      return meta[route] !== undefined ? send(200, meta[route]) : send(404, 'Not Found');
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Launches a new instance in a slot: cloud-init writes the fetch program and runs it (runcmd). */
  public async launch(slot: Slot, extraEnv: Record<string, string> = {}) {
    slot.generation += 1;
    // A new instance: the same paths as the one it replaces, none of its files (the data volume lives in the stand-in's store).
    slot.root = path.join(this.dir, slot.name);
    fs.rmSync(slot.root, { recursive: true, force: true });
    const cloudConfig = parseCloudConfig(this.userData);
    for (const file of cloudConfig.write_files) {
      const target = path.join(slot.root, file.path);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, file.content, { mode: parseInt(file.permissions, 8) });
    }
    const proc = path.join(slot.root, 'proc');
    fs.mkdirSync(path.join(proc, 'sys/vm'), { recursive: true });
    fs.mkdirSync(path.join(proc, 'sys/net/core'), { recursive: true });
    fs.writeFileSync(path.join(proc, 'meminfo'), 'MemTotal:         524288 kB\n');
    fs.writeFileSync(path.join(proc, 'sys/vm/overcommit_memory'), '0\n');
    fs.writeFileSync(path.join(proc, 'sys/net/core/somaxconn'), '128\n');
    const [runcmd] = cloudConfig.runcmd as string[][];
    return runCommand('bash', [path.join(slot.root, runcmd[0])], {
      env: {
        ...this.instanceEnv(slot),
        CACHEFLEET_DEV_DIR: path.join(slot.root, 'dev'),
        CACHEFLEET_PROC_DIR: proc,
        CACHEFLEET_SYS_DIR: path.join(slot.root, 'sys'),
        CACHEFLEET_SENTINEL_WAIT: '3',
        CACHEFLEET_RETRY_DELAY: '1',
        ...extraEnv,
      },
      timeoutMs: 180_000,
    });
  }

  public slot(name: string): Slot {
    return this.slots.find((s) => s.name === name)!;
  }

  /** The calls the stand-ins recorded. */
  public calls(): string[] {
    return fs.readFileSync(path.join(this.standin, 'calls.log'), 'utf8').split('\n').filter(Boolean);
  }

  public record(name: string): string {
    return fs.readFileSync(path.join(this.standin, 'records', name), 'utf8').trim();
  }

  /** A record's values, sorted. */
  public recordValues(name: string): string[] {
    return this.record(name).split('\n').filter(Boolean).sort();
  }

  /** Runs one of a slot's units once, as its timer would. */
  public runUnit(slot: Slot, unit: string) {
    return runCommand(path.join(this.standin, 'bin', 'run-unit'), [path.join(slot.root, 'etc/systemd/system', unit)], {
      env: this.instanceEnv(slot),
      timeoutMs: 30_000,
    });
  }

  /** Kills every process a slot's instance started (-9: the instance is gone) and lets AWS detach its volume and interface. */
  public terminate(slot: Slot, unit?: string): void {
    const dir = path.join(slot.root, 'systemctl');
    if (!fs.existsSync(dir)) return;
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.pid') && (!unit || f === `${unit}.pid`))) {
      const pid = Number(fs.readFileSync(path.join(dir, file), 'utf8'));
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (!unit) {
      for (const key of ['cachefleet:volume-id', 'cachefleet:interface-id']) {
        if (slot.tags[key]) fs.rmSync(path.join(this.standin, 'attachments', slot.tags[key]), { force: true });
      }
    }
  }

  public async dispose(): Promise<void> {
    for (const slot of this.slots) this.terminate(slot);
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
    await sleep(200);
    if (process.env.CACHEFLEET_KEEP_INTEG !== '1') fs.rmSync(this.dir, { recursive: true, force: true });
  }

  public logs(): string {
    return this.slots.flatMap((slot) => {
      const dir = path.join(slot.root, 'systemctl');
      return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => `--- ${slot.name} ${f}\n${fs.readFileSync(path.join(dir, f), 'utf8').split('\n').slice(-15).join('\n')}`) : [];
    }).join('\n');
  }
}

/** The cloud-config parsed by PyYAML, the parser cloud-init itself uses (the system python3 that runs cloud-init). */
function parseCloudConfig(userData: string): any {
  const parsed = spawnSync('/usr/bin/python3', ['-c', 'import sys, yaml, json; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: userData, encoding: 'utf8' });
  if (parsed.status !== 0) throw new Error(`the user data is not YAML: ${parsed.stderr}`);
  return JSON.parse(parsed.stdout);
}

async function boot(fleet: BootedFleet, slot: Slot): Promise<void> {
  const result = await fleet.launch(slot);
  if (result.code !== 0) throw new Error(`${slot.name} did not boot (exit ${result.code}):\n${result.stderr}\n${fleet.logs()}`);
}

const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });
const APP = { username: 'app', password: APP_TOKEN };

/** `SENTINEL REPLICAS` as valkey-cli prints it: one block of field / value lines per replica, each starting with `name`. */
function sentinelReplicas(stdout: string): Array<Record<string, string>> {
  const lines = stdout.split('\n').filter(Boolean);
  const replicas: Array<Record<string, string>> = [];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    if (lines[i] === 'name') replicas.push({});
    replicas[replicas.length - 1][lines[i]] = lines[i + 1];
  }
  return replicas;
}

/** The primary the sentinels of the 1 + 2 group name (asked at 127.0.0.92: node-0's may be down). */
async function primaryBySentinels(): Promise<string> {
  const reply = await cli('valkey-cli', '127.0.0.92', 26379, ['SENTINEL', 'get-master-addr-by-name', 'sessions'], { password: APP_TOKEN });
  return reply.stdout.split('\n')[0];
}

describeInteg('AWS flavor: a 1 + 2 Valkey ReplicationGroup booted from its synthesized template', () => {
  needsBinaries(['valkey-server', 'valkey-cli', 'curl', 'python3', 'setsid']);
  let fleet: BootedFleet;
  const addresses = ['127.0.0.91', '127.0.0.92', '127.0.0.93'];

  beforeAll(async () => {
    fleet = new BootedFleet('rg', (stack, vpc) => new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, replicasPerShard: 2, nodeAddressOffset: 91 }));
    await fleet.startMetadata();
    for (const slot of fleet.slots) await boot(fleet, slot);
  }, 600_000);

  afterAll(async () => fleet?.dispose(), 30_000);

  test('the slots boot in template order (replicas first), each making the expected AWS calls, and signal success', () => {
    // Replicas first, the primary last: a replica of a group being created is ready before its primary exists.
    expect(fleet.slots.map((slot) => slot.name)).toEqual(['node-2', 'node-1', 'node-0']);
    const calls = fleet.calls();
    for (const slot of fleet.slots) {
      const own = calls.filter((call) => call.includes(`[${slot.name}]`)).map((call) => call.replace(/ \[[^\]]+\]/, ''));
      const volume = slot.tags['cachefleet:volume-id'];
      const eni = slot.tags['cachefleet:interface-id'];
      const instance = `i-${slot.name.replace(/-/g, '')}1`;
      const expected = [
        'dnf install -y podman',
        'podman pull -q valkey/valkey:8.0.2',
        `aws ec2 describe-volumes --volume-ids ${volume} --query Volumes[0].Attachments[0].[InstanceId,State] --output text`,
        `aws ec2 attach-volume --volume-id ${volume} --instance-id ${instance} --device /dev/xvdf`,
        `aws ec2 describe-volumes --volume-ids ${volume} --query Volumes[0].Attachments[0].[InstanceId,State] --output text`,
        expect.stringMatching(/^mkfs -t xfs .*nvme-Amazon_Elastic_Block_Store_vol/),
        expect.stringMatching(/^mount .*nvme-Amazon_Elastic_Block_Store_vol\S* .*\/var\/lib\/cachefleet$/),
        `aws ec2 describe-network-interfaces --network-interface-ids ${eni} --query NetworkInterfaces[0].Attachment.[InstanceId,Status] --output text`,
        `aws ec2 attach-network-interface --network-interface-id ${eni} --instance-id ${instance} --device-index 1`,
        `aws ec2 describe-network-interfaces --network-interface-ids ${eni} --query NetworkInterfaces[0].Attachment.[InstanceId,Status] --output text`,
        'systemctl daemon-reload',
        'systemctl enable --now cachefleet-redis.service cachefleet-sentinel.service cachefleet-metrics.timer cachefleet-reconcile.timer cachefleet-failover.path cachefleet-lifecycle.service',
      ];
      expect(own.slice(0, expected.length)).toEqual(expected);
      // Then the services and the boot's wait-ready read the secrets (once per process and boot).
      expect(own).toContainEqual(`aws secretsmanager get-secret-value --secret-id ${slot.tags['cachefleet:app-secret-id']} --query SecretString --output text`);
      expect(own).toContainEqual(`aws secretsmanager get-secret-value --secret-id ${slot.tags['cachefleet:internal-secret-id']} --query SecretString --output text`);
      expect(own).toContainEqual(`cfn-signal -e 0 --stack ${STACK} --resource ${slot.groupId} --region eu-west-1`);
      expect(own.filter((call) => call.startsWith('cfn-signal'))).toHaveLength(1);
    }
    // Before a slot's own calls: the fetch of the bundle named by the group's parameter.
    expect(calls.filter((call) => call.startsWith('aws [boot] ssm get-parameter'))).toHaveLength(3);
    expect(calls.filter((call) => call.startsWith('aws [boot] s3 cp'))).toHaveLength(3);
  });

  test('the real engines form the group: a primary with two replicas, three sentinels agree', async () => {
    const info = await cli('valkey-cli', addresses[0], 6379, ['INFO', 'replication'], APP);
    expect(info.stdout).toMatch(/role:master/);
    await waitFor('two replicas connected', async () => /connected_slaves:2/.test((await cli('valkey-cli', addresses[0], 6379, ['INFO', 'replication'], APP)).stdout));
    // The primary booted last: its replicas' links come up and the sentinels discover one another
    // (hello messages every 2 s) right after.
    for (const replica of addresses.slice(1)) {
      await waitFor(`${replica}'s link up`, async () => /master_link_status:up/.test((await cli('valkey-cli', replica, 6379, ['INFO', 'replication'], APP)).stdout));
    }
    await waitFor('3 usable sentinels', async () => /^OK 3 usable Sentinels/.test((await cli('valkey-cli', addresses[1], 26379, ['SENTINEL', 'CKQUORUM', 'sessions'], { password: APP_TOKEN })).stdout));
    // Sentinel promotes only a replica whose last INFO shows its link up: the replicas waited for
    // their primary, so wait until every sentinel has heard them since (at most its 10 s INFO period).
    for (const sentinel of addresses) {
      await waitFor(`sentinel ${sentinel} sees both replicas in sync`, async () => {
        const replicas = sentinelReplicas((await cli('valkey-cli', sentinel, 26379, ['SENTINEL', 'REPLICAS', 'sessions'], { password: APP_TOKEN })).stdout);
        return replicas.length === 2 && replicas.every((r) => r['master-link-status'] === 'ok' && r['master-link-down-time'] === '0');
      }, { timeoutMs: 20_000, intervalMs: 500 });
    }
    await command(addresses[0], 6379, APP, 'SET', 'boot-key', 'boot-value');
    await waitFor('the write on the replicas', async () => (await command(addresses[2], 6379, APP, 'GET', 'boot-key')) === 'boot-value');
  });

  test('AUTH is required', async () => {
    await expect(command(addresses[0], 6379, {}, 'PING')).rejects.toThrow(/NOAUTH/);
    await expect(auth(addresses[0], 6379, 'wrong-token-0123456789', 'app')).rejects.toThrow(/WRONGPASS/);
    expect(await auth(addresses[0], 6379, APP_TOKEN, 'app')).toBe('OK');
  });

  test('metrics.sh (the unit its timer runs) publishes what the metricXxx methods read', async () => {
    const slot = fleet.slot('node-1');
    const result = await fleet.runUnit(slot, 'cachefleet-metrics.service');
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.not.stringMatching(/error|failed/) });
    const put = fleet.calls().filter((call) => call.startsWith('aws [node-1] cloudwatch put-metric-data'));
    expect(put).toHaveLength(1);
    const fleetId = slot.tags['cachefleet:fleet'];
    for (const name of ['CPUUtilization', 'CurrConnections', 'DatabaseMemoryUsagePercentage', 'ReplicationLag']) {
      expect(put[0]).toMatch(new RegExp(`MetricName=${name},Value=\\d+,Dimensions=\\[\\{Name=Fleet,Value=${fleetId}\\}\\]`));
      expect(put[0]).toContain(`Dimensions=[{Name=Fleet,Value=${fleetId}},{Name=Node,Value=node-1}]`);
    }
    expect(put[0]).toContain('--namespace CacheFleet');
  });

  test('kill -9 of the primary: Sentinel fails over, the host acts on the hook\'s event and moves the primary and reader records', async () => {
    const record = fleet.slot('node-0').tags['cachefleet:primary-record'];
    const reader = fleet.slot('node-0').tags['cachefleet:reader-record'];
    expect(fleet.record(record)).toBe(addresses[0]);
    expect(fleet.recordValues(reader)).toEqual([addresses[1], addresses[2]]);
    fleet.terminate(fleet.slot('node-0'), 'cachefleet-redis.service');
    const promoted = await waitFor('a new primary named by the sentinels', async () => {
      const ip = await primaryBySentinels();
      return ip !== addresses[0] ? ip : undefined;
    }, { timeoutMs: 20_000, intervalMs: 200 });
    // Within seconds, not the reconcile timer's period (the stand-in runs no timers): the engines run
    // in containers without the agent, so only the host's failover path unit can have moved it.
    await waitFor('the primary record on the new primary', async () => fleet.record(record) === await primaryBySentinels(), { timeoutMs: 15_000 });
    expect(fleet.calls()).toContainEqual(expect.stringMatching(new RegExp(`aws \\[[^\\]]+\\] route53 change-resource-record-sets --hosted-zone-id ${fleet.slot('node-0').tags['cachefleet:hosted-zone-id']} --change-batch .*"Value":"${promoted.replace(/\./g, '\\.')}"`)));
    // The hook runs inside the container: it only records the event, it calls nothing.
    const hook = fs.readFileSync(path.join(fleet.slot('node-1').root, 'run/cachefleet/on-failover'), 'utf8');
    expect(hook.split('\n').filter((line) => line && !line.startsWith('#'))).toEqual([expect.stringMatching(/^printf '%s\\n' "\$\*" >'[^']+\/run\/cachefleet\/failover-event'$/)]);
    // The reader record: the healthy replicas only, neither the primary nor the dead node. (On a busy
    // machine Sentinel may legitimately fail over twice: compare with its current answer.)
    await waitFor('the reader record on the remaining replica', async () => {
      const primary = await primaryBySentinels();
      return fleet.recordValues(reader).join(' ') === addresses.filter((address) => address !== addresses[0] && address !== primary).join(' ');
    }, { timeoutMs: 20_000, intervalMs: 250 });
  }, 60_000);

  test('the replaced node comes back with its address and data volume, as a replica; SENTINEL REPLICAS is clean', async () => {
    const slot = fleet.slot('node-0');
    const record = slot.tags['cachefleet:primary-record'];
    const primary = await primaryBySentinels();
    fleet.terminate(slot);
    await boot(fleet, slot);
    expect(fleet.calls().filter((call) => call.startsWith('mkfs [node-0]'))).toHaveLength(1); // the volume kept its filesystem
    expect(fleet.calls().filter((call) => call.startsWith('mount [node-0]'))).toHaveLength(2);
    const role = await cli('valkey-cli', addresses[0], 6379, ['ROLE'], APP);
    expect(role.stdout.split('\n')[0]).toBe('slave');
    expect(await command(addresses[0], 6379, APP, 'GET', 'boot-key')).toBe('boot-value');
    await waitFor('SENTINEL REPLICAS clean', async () => {
      const reply = await cli('valkey-cli', primary === addresses[1] ? addresses[2] : addresses[1], 26379, ['SENTINEL', 'REPLICAS', 'sessions'], { password: APP_TOKEN });
      const replicas = sentinelReplicas(reply.stdout);
      const clean = replicas.length === 2 && replicas.every((r) => r.flags === 'slave' && r['master-link-status'] === 'ok' && r.ip !== primary);
      return clean && replicas.some((r) => r.ip === addresses[0]) ? true : undefined;
    }, { timeoutMs: 20_000, intervalMs: 500 });
    expect(fleet.record(record)).toBe(primary); // the boot did not move it back
    // The reconcile timer's unit puts the replaced node back into the reader record.
    const reconcile = await fleet.runUnit(fleet.slot('node-1'), 'cachefleet-reconcile.service');
    expect({ code: reconcile.code, stderr: reconcile.stderr }).toEqual({ code: 0, stderr: expect.stringContaining('now points to') });
    expect(fleet.recordValues(slot.tags['cachefleet:reader-record'])).toEqual(addresses.filter((address) => address !== primary).sort());
  }, 150_000);

  test('a live parameter change: the user data stays, the association CONFIG SETs it on every node, one at a time, without a restart', async () => {
    const build = (stack: Stack, vpc: ec2.IVpc) => new ReplicationGroup(stack, 'Sessions', {
      vpc,
      engine: valkey,
      replicasPerShard: 2,
      nodeAddressOffset: 91,
      parameterGroup: new ParameterGroup(stack, 'Params', { engine: valkey, parameters: { 'maxmemory-policy': 'allkeys-lru', 'timeout': '300' } }),
    });
    const { resources, resolver } = fleet.synthesize(build, 'cdk.out.2');
    const lt = Object.values(resources).find((r: any) => r.Type === 'AWS::EC2::LaunchTemplate');
    expect(resolver.resolve(lt.Properties.LaunchTemplateData.UserData)).toBe(fleet.userData); // no instance is replaced
    const runIds = await Promise.all(addresses.map(async (address) => infoFields(String(await command(address, 6379, APP, 'INFO', 'server'))).run_id));
    for (const slot of fleet.slots) {
      const result = await fleet.runAssociation(slot, resources, resolver);
      expect({ slot: slot.name, code: result.code, stderr: result.stderr }).toEqual({ slot: slot.name, code: 0, stderr: expect.stringContaining('2 parameter(s) applied live') });
    }
    for (const [i, address] of addresses.entries()) {
      expect(await command(address, 6379, APP, 'CONFIG', 'GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru']);
      expect(await command(address, 6379, APP, 'CONFIG', 'GET', 'timeout')).toEqual(['timeout', '300']);
      expect(infoFields(String(await command(address, 6379, APP, 'INFO', 'server'))).run_id).toBe(runIds[i]);
    }
    // The new bundle is installed where the services read it at their next start.
    expect(fs.readFileSync(path.join(fleet.slot('node-1').root, 'opt/cachefleet/config/live-parameters'), 'utf8')).toContain('maxmemory-policy\tallkeys-lru\n');
    // Applied again, nothing changes.
    const again = await fleet.runAssociation(fleet.slot('node-1'), resources, resolver);
    expect(again.stderr).toContain('0 parameter(s) applied live');
  }, 120_000);
});

describeInteg('AWS flavor: a Memcached CacheCluster booted from its synthesized template', () => {
  needsBinaries(['memcached', 'curl', 'python3', 'setsid']);
  let fleet: BootedFleet;

  beforeAll(async () => {
    fleet = new BootedFleet('mc', (stack, vpc) => new CacheCluster(stack, 'Pages', {
      vpc, engine: CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 }), numCacheNodes: 3, nodeAddressOffset: 95,
    }));
    await fleet.startMetadata();
    for (const slot of fleet.slots) await boot(fleet, slot);
  }, 180_000);

  afterAll(async () => fleet?.dispose(), 30_000);

  test('each node installs memcached, attaches its interface only, reads no secret, signals; serves on its address', async () => {
    for (const slot of fleet.slots) {
      const own = fleet.calls().filter((call) => call.includes(`[${slot.name}]`)).map((call) => call.replace(/ \[[^\]]+\]/, ''));
      expect(own[0]).toBe('dnf install -y memcached');
      expect(own.filter((call) => /volume|secretsmanager|route53|mkfs|mount/.test(call))).toEqual([]);
      expect(own).toContainEqual(`aws ec2 attach-network-interface --network-interface-id ${slot.tags['cachefleet:interface-id']} --instance-id i-${slot.name.replace(/-/g, '')}1 --device-index 1`);
      expect(own).toContainEqual(`cfn-signal -e 0 --stack ${STACK} --resource ${slot.groupId} --region eu-west-1`);
      // node-<n> is host 95 + n: each node serves on its own address, and only there.
      const address = `127.0.0.${95 + Number(slot.name.split('-')[1])}`;
      expect(await memcachedRequest(address, 11211, `set ${slot.name} 0 0 1\r\nv\r\n`)).toBe('STORED\r\n');
      expect(await memcachedRequest(address, 11211, `get ${slot.name}\r\n`)).toBe(`VALUE ${slot.name} 0 1\r\nv\r\nEND\r\n`);
    }
    expect(await memcachedRequest('127.0.0.95', 11211, 'get node-1\r\n')).toBe('END\r\n');
  });

  test('metrics.sh on a Memcached node publishes CPU, connections and memory, what CacheCluster\'s metricXxx methods read', async () => {
    const slot = fleet.slot('node-0');
    const result = await fleet.runUnit(slot, 'cachefleet-metrics.service');
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.not.stringMatching(/error|failed/) });
    const put = fleet.calls().filter((call) => call.startsWith('aws [node-0] cloudwatch put-metric-data'));
    expect(put).toHaveLength(1);
    for (const name of ['CPUUtilization', 'CurrConnections', 'DatabaseMemoryUsagePercentage']) {
      expect(put[0]).toMatch(new RegExp(`MetricName=${name},Value=\\d+,Dimensions=\\[\\{Name=Fleet,Value=${slot.tags['cachefleet:fleet']}\\}\\]`));
    }
    expect(put[0]).not.toContain('ReplicationLag');
  });
});

describeInteg('AWS flavor: a failing AWS call', () => {
  needsBinaries(['curl', 'python3']);
  let fleet: BootedFleet;

  beforeAll(async () => {
    fleet = new BootedFleet('fail', (stack, vpc) => new CacheCluster(stack, 'Single', { vpc, engine: valkey, nodeAddressOffset: 99 }));
    await fleet.startMetadata();
  });

  afterAll(async () => fleet?.dispose(), 30_000);

  test('is retried, then ends the boot with a clear message and a failure signal', async () => {
    fs.writeFileSync(path.join(fleet.standin, 'fail'), 'secretsmanager get-secret-value');
    const result = await fleet.launch(fleet.slots[0], { CACHEFLEET_RETRIES: '3' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/aws secretsmanager get-secret-value failed \(attempt 1 of 3, exit 254\); retrying in 1s/);
    expect(result.stderr).toMatch(/aws secretsmanager get-secret-value failed after 3 attempts \(exit 254\): An error occurred \(ThrottlingException\)/);
    expect(result.stderr).toMatch(/cachefleet-boot\[node-0\]: error: the boot failed/);
    const calls = fleet.calls();
    // Each process that needs the secret (the boot's wait-ready, the services) tries 3 times, then gives up.
    expect(calls.filter((call) => call.includes('secretsmanager get-secret-value')).length).toBeGreaterThanOrEqual(3);
    expect(calls).toContainEqual(`cfn-signal [node-0] -e 1 --stack ${STACK} --resource ${fleet.slots[0].groupId} --region eu-west-1`);
    expect(calls.filter((call) => call.startsWith('cfn-signal'))).toHaveLength(1);
  }, 60_000);
});
