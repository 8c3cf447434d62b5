// An AWS CDK app installs cachefleet without cdktf, a CDK for Terraform app without aws-cdk-lib: the
// packed library, installed beside one flavor's peers alone, compiles in a strict TypeScript app
// (declarations checked, `skipLibCheck: false`), synthesizes a fleet and loads from the root entry
// without the other flavor's peers.
//
// This runs on the compiled library (`lib/`, `.jsii`): `npx projen build` compiles it before the
// tests. npm reads its cache first and the registry for anything missing; nothing else leaves this
// machine.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';

const ROOT = path.join(__dirname, '..', '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
// Node's types, which an app brings itself: the apps import `fs` and `path`, and aws-cdk-lib's and
// cdktf's declarations name Node's types.
const TYPE_ROOTS = path.join(ROOT, 'node_modules', '@types');

const execFileAsync = promisify(execFile);

/** The peers whose presence this test checks. */
const FLAVOR_PEERS = ['aws-cdk-lib', 'cdktf', '@cdktf/provider-docker'];

interface Flavor {
  readonly name: 'aws' | 'docker';
  /** What an app of this flavor installs besides cachefleet. */
  readonly peers: string[];
  /** The app's source (`src/app.ts`): it synthesizes one fleet and prints the resource types it got, as JSON. */
  readonly app: string;
}

const FLAVORS: Flavor[] = [
  {
    name: 'aws',
    peers: ['aws-cdk-lib', 'constructs'],
    app: `
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { CacheEngine, ReplicationGroup, ValkeyEngineVersion } from 'cachefleet/aws';

const app = new App({ outdir: path.join(__dirname, '..', 'cdk.out') });
const stack = new Stack(app, 'Fleet');
const vpc = new ec2.Vpc(stack, 'Vpc', { availabilityZones: ['eu-west-1a', 'eu-west-1b'] });
new ReplicationGroup(stack, 'Sessions', { vpc, engine: CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 }) });
const template = app.synth().getStackByName('Fleet').template;
const types: string[] = Object.values<{ Type: string }>(template.Resources).map((resource) => resource.Type);
process.stdout.write(JSON.stringify(types));
`,
  },
  {
    name: 'docker',
    peers: ['cdktf', '@cdktf/provider-docker', 'constructs'],
    app: `
import * as fs from 'fs';
import * as path from 'path';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { App, TerraformStack } from 'cdktf';
import { CacheEngine, RedisEngineVersion, ReplicationGroup } from 'cachefleet/docker';

const outdir = path.join(__dirname, '..', 'cdktf.out');
const app = new App({ outdir });
const stack = new TerraformStack(app, 'fleet');
new DockerProvider(stack, 'docker');
new ReplicationGroup(stack, 'Sessions', { engine: CacheEngine.redis({ version: RedisEngineVersion.VER_7_2 }) });
app.synth();
const json = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'fleet', 'cdk.tf.json'), 'utf8'));
const types: string[] = Object.keys(json.resource ?? {});
process.stdout.write(JSON.stringify(types));
`,
  },
];

/**
 * Loads the root entry as a CommonJS app does, then each namespace: what each step loaded of the
 * flavors' peers, and what touching the namespace gave.
 */
const ROOT_ENTRY_PROBE = `
const peers = ${JSON.stringify(FLAVOR_PEERS)};
const loaded = () => peers.filter((peer) => Object.keys(require.cache).some((file) => file.includes('/node_modules/' + peer + '/')));
const cachefleet = require('cachefleet');
const report = { root: loaded(), core: typeof cachefleet.CacheEngine };
for (const name of ['aws', 'docker']) {
  try {
    report[name] = typeof cachefleet[name].ReplicationGroup;
  } catch (error) {
    report[name] = error.code + ': ' + error.message.split('\\n')[0];
  }
  report[name + 'Loaded'] = loaded();
}
process.stdout.write(JSON.stringify(report));
`;

/** The same, as an ES module imports the root: the namespace of a missing flavor is undefined. */
const ROOT_ENTRY_ESM_PROBE = `
import { aws, docker, CacheEngine } from 'cachefleet';
process.stdout.write(JSON.stringify({ core: typeof CacheEngine, aws: typeof aws, docker: typeof docker }));
`;

/** The most recently modified TypeScript source below a folder. */
function newestSource(dir: string): { file: string; mtimeMs: number } {
  let newest = { file: '', mtimeMs: 0 };
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const candidate = entry.isDirectory() ? newestSource(full) : entry.name.endsWith('.ts') ? { file: full, mtimeMs: fs.statSync(full).mtimeMs } : undefined;
    if (candidate && candidate.mtimeMs > newest.mtimeMs) newest = candidate;
  }
  return newest;
}

/** Throws unless `lib/` and `.jsii` are there, newer than every source, and post-compiled. */
function assertCompiled(): void {
  const rebuild = 'run `npx projen compile && npx projen post-compile` (or `npx projen build`) first';
  const assembly = path.join(ROOT, '.jsii');
  const rootEntry = path.join(ROOT, 'lib', 'index.js');
  for (const file of [assembly, rootEntry, path.join(ROOT, 'lib', 'aws-entry.js'), path.join(ROOT, 'lib', 'docker-entry.js'), path.join(ROOT, 'lib', 'core-entry.js')]) {
    if (!fs.existsSync(file)) throw new Error(`the compiled library is missing ${path.relative(ROOT, file)}: ${rebuild}`);
  }
  const newest = newestSource(path.join(ROOT, 'src'));
  if (newest.mtimeMs > fs.statSync(assembly).mtimeMs) {
    throw new Error(`the compiled library is older than ${path.relative(ROOT, newest.file)}: ${rebuild}`);
  }
  if (!fs.readFileSync(rootEntry, 'utf8').includes('__lazyNamespace("aws"')) {
    throw new Error(`lib/index.js loads the flavors eagerly (post-compile has not run): ${rebuild}`);
  }
}

/** The npm settings a child npm keeps from this process: where its cache and registry are, and how to reach them. */
const NPM_SETTINGS = /^npm_config_(cache|registry|userconfig|globalconfig|cafile|ca|proxy|https_proxy|noproxy|strict_ssl)$/i;

/**
 * A child process's environment without the rest of what npm passes to the scripts it runs (this
 * repository's prefix and package), which would point the child npm at this repository.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) || NPM_SETTINGS.test(key)));
  return { ...env, npm_config_update_notifier: 'false', CHECKPOINT_DISABLE: '1' };
}

async function run(cwd: string, command: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, { cwd, env: cleanEnv(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error: any) {
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) failed: ${error.message}\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
  }
}

/** The version of a package that this repository's lock file installs. */
function lockedVersion(name: string): string {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
  const version = lock.packages?.[`node_modules/${name}`]?.version;
  if (!version) throw new Error(`package-lock.json has no version of ${name}`);
  return version;
}

function installed(dir: string, name: string): boolean {
  return fs.existsSync(path.join(dir, 'node_modules', name, 'package.json'));
}

interface Consumer {
  readonly dir: string;
  /** The resource types the app synthesized. */
  readonly synthesized: string[];
  /** The library's declaration files in the app's program under `node10` resolution, relative to the package. */
  readonly node10Declarations: string[];
  readonly probe: Record<string, unknown>;
  readonly esmProbe: Record<string, unknown>;
}

/** Installs the tarball and the flavor's peers into an empty folder, then compiles and runs its app and probes. */
async function consumer(work: string, tarball: string, flavor: Flavor): Promise<Consumer> {
  const dir = path.join(work, flavor.name);
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `cachefleet-${flavor.name}-app`, version: '0.0.0', private: true }));
  await run(dir, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, ...flavor.peers.map((peer) => `${peer}@${lockedVersion(peer)}`)]);

  fs.writeFileSync(path.join(dir, 'src', 'app.ts'), flavor.app);
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true,
      skipLibCheck: false,
      noUnusedLocals: true,
      noImplicitReturns: true,
      module: 'node16',
      moduleResolution: 'node16',
      target: 'ES2022',
      types: ['node'],
      typeRoots: [TYPE_ROOTS],
      rootDir: 'src',
      outDir: 'dist',
    },
    files: ['src/app.ts'],
  }));
  await run(dir, process.execPath, [TSC, '-p', 'tsconfig.json']);
  // The older `node10` resolution ignores `exports` and maps the subpath through `typesVersions`.
  // Listing the program's files resolves every import without checking them again.
  fs.writeFileSync(path.join(dir, 'tsconfig.node10.json'), JSON.stringify({
    extends: './tsconfig.json',
    compilerOptions: { module: 'commonjs', moduleResolution: 'node10', ignoreDeprecations: '6.0' },
  }));
  const library = fs.realpathSync(path.join(dir, 'node_modules', 'cachefleet'));
  const node10Declarations = (await run(dir, process.execPath, [TSC, '-p', 'tsconfig.node10.json', '--listFilesOnly']))
    .split('\n')
    .map((file) => file.trim())
    .filter((file) => file.startsWith(library + path.sep))
    .map((file) => path.relative(library, file));
  const synthesized = JSON.parse(await run(dir, process.execPath, ['dist/app.js']));

  fs.writeFileSync(path.join(dir, 'probe.cjs'), ROOT_ENTRY_PROBE);
  fs.writeFileSync(path.join(dir, 'probe.mjs'), ROOT_ENTRY_ESM_PROBE);
  const probe = JSON.parse(await run(dir, process.execPath, ['probe.cjs']));
  const esmProbe = JSON.parse(await run(dir, process.execPath, ['probe.mjs']));
  return { dir, synthesized, node10Declarations, probe, esmProbe };
}

describe('the packed library, installed with one flavor\'s peers', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-install-'));
  const consumers: Partial<Record<Flavor['name'], Consumer>> = {};

  beforeAll(async () => {
    assertCompiled();
    const packed = JSON.parse(await run(ROOT, 'npm', ['pack', '--json', '--pack-destination', work]));
    const tarball = path.join(work, packed[0].filename);
    // The two folders are independent: install and compile them side by side.
    const results = await Promise.all(FLAVORS.map((flavor) => consumer(work, tarball, flavor)));
    FLAVORS.forEach((flavor, index) => { consumers[flavor.name] = results[index]; });
  }, 10 * 60_000);

  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  function get(name: Flavor['name']): Consumer {
    const result = consumers[name];
    if (!result) throw new Error(`the ${name} app was not set up (see beforeAll's error)`);
    return result;
  }

  test('an AWS app installs neither cdktf nor the Docker provider', () => {
    const { dir } = get('aws');
    expect(FLAVOR_PEERS.filter((peer) => installed(dir, peer))).toEqual(['aws-cdk-lib']);
    expect(installed(dir, 'cachefleet')).toBe(true);
    expect(installed(dir, 'constructs')).toBe(true);
  });

  test('a Docker app does not install aws-cdk-lib', () => {
    const { dir } = get('docker');
    expect(FLAVOR_PEERS.filter((peer) => installed(dir, peer))).toEqual(['cdktf', '@cdktf/provider-docker']);
    expect(installed(dir, 'cachefleet')).toBe(true);
    expect(installed(dir, 'constructs')).toBe(true);
  });

  test('the AWS app compiles against cachefleet/aws and synthesizes the fleet\'s Auto Scaling groups', () => {
    const types = get('aws').synthesized;
    expect(types.filter((type) => type === 'AWS::AutoScaling::AutoScalingGroup').length).toBeGreaterThan(0);
  });

  test('the Docker app compiles against cachefleet/docker and synthesizes the fleet\'s containers', () => {
    expect(get('docker').synthesized).toContain('docker_container');
  });

  test.each(FLAVORS.map((flavor) => [flavor.name, flavor.name === 'aws' ? 'docker' : 'aws']))(
    'node10 resolution finds cachefleet/%s through typesVersions, and none of the %s flavor\'s declarations',
    (name, other) => {
      const declarations = get(name as Flavor['name']).node10Declarations;
      expect(declarations).toContain(`lib/${name}-entry.d.ts`);
      expect(declarations.filter((file) => file.startsWith(`lib/${other}/`) || file === 'lib/index.d.ts')).toEqual([]);
    },
  );

  test('require(\'cachefleet\') loads no flavor; .aws loads aws-cdk-lib alone; .docker names the missing peer', () => {
    expect(get('aws').probe).toEqual({
      root: [],
      core: 'function',
      aws: 'function',
      awsLoaded: ['aws-cdk-lib'],
      docker: expect.stringMatching(/^MODULE_NOT_FOUND: Cannot find module '(cdktf|@cdktf\/provider-docker)[/']/),
      dockerLoaded: ['aws-cdk-lib'],
    });
  });

  test('require(\'cachefleet\') loads no flavor; .docker loads cdktf and its provider; .aws names the missing peer', () => {
    expect(get('docker').probe).toEqual({
      root: [],
      core: 'function',
      aws: expect.stringMatching(/^MODULE_NOT_FOUND: Cannot find module 'aws-cdk-lib[/']/),
      awsLoaded: [],
      docker: 'function',
      dockerLoaded: ['cdktf', '@cdktf/provider-docker'],
    });
  });

  test('an ES module imports the root: its own flavor is there, the other one undefined', () => {
    expect(get('aws').esmProbe).toEqual({ core: 'function', aws: 'object', docker: 'undefined' });
    expect(get('docker').esmProbe).toEqual({ core: 'function', aws: 'undefined', docker: 'object' });
  });
});
