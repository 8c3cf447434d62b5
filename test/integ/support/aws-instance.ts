import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { runCommand, sleep } from './processes';

/**
 * The AWS flavor booted here from its synthesized template: a strict resolver for the template's
 * intrinsics, and `BootedFleet`, which runs the boot path unchanged (aws platform) under a temporary
 * root per instance, with the stand-ins of `aws-standins/` first on PATH and an instance-metadata
 * stand-in on 127.0.0.1 that requires IMDSv2 tokens.
 */

export const STACK = 'BootTest';
export const APP_TOKEN = 'Boot!Token#%&*-1234_abcd';
export const INTERNAL_PASSWORD = 'internalPassword0123456789abcdefABCDEF99';

/** The stand-ins, one executable file per program (copied into each fleet's `$STANDIN/bin`). */
export const STANDINS_DIR = path.join(__dirname, 'aws-standins');
// ------------------------------------------------------------------------------------------------
// The strict resolver
// ------------------------------------------------------------------------------------------------

export class StrictResolver {
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
export function physicalId(logicalId: string, type: string): string {
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
// One synthesized fleet, booted slot by slot
// ------------------------------------------------------------------------------------------------

export interface Slot {
  readonly name: string;
  readonly groupId: string;
  readonly tags: Record<string, string>;
  generation: number;
  root: string;
}

export class BootedFleet {
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
    for (const name of fs.readdirSync(STANDINS_DIR)) fs.copyFileSync(path.join(STANDINS_DIR, name), path.join(this.standin, 'bin', name));
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
export function parseCloudConfig(userData: string): any {
  const parsed = spawnSync('/usr/bin/python3', ['-c', 'import sys, yaml, json; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: userData, encoding: 'utf8' });
  if (parsed.status !== 0) throw new Error(`the user data is not YAML: ${parsed.stderr}`);
  return JSON.parse(parsed.stdout);
}

export async function boot(fleet: BootedFleet, slot: Slot): Promise<void> {
  const result = await fleet.launch(slot);
  if (result.code !== 0) throw new Error(`${slot.name} did not boot (exit ${result.code}):\n${result.stderr}\n${fleet.logs()}`);
}
