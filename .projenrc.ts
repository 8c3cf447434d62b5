import { awscdk, javascript } from 'projen';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cachefleet',
  description:
    'ElastiCache-style CacheCluster, ReplicationGroup and ParameterGroup constructs that deploy self-managed Redis, Valkey and Memcached fleets on EC2 (AWS CDK) and Docker (CDK for Terraform).',
  author: 'cachefleet',
  authorAddress: 'cachefleet@users.noreply.github.com',
  repositoryUrl: 'https://github.com/cachefleet/cachefleet.git',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  keywords: ['cdk', 'cdktf', 'redis', 'valkey', 'memcached', 'elasticache', 'sentinel'],

  cdkVersion: '2.257.0',
  constructsVersion: '10.5.1',
  // ts-jest refuses TypeScript 7; jsii and TypeScript move together.
  jsiiVersion: '~6.0.0',
  typescriptVersion: '~6.0.0',
  // Without it projen asks npm for a non-existent `@types/node@ts6.0`.
  minNodeVersion: '20.9.0',

  // zod validates props inside core only; no zod type appears in a public signature.
  bundledDeps: ['zod'],
  peerDeps: ['cdktf@^0.21.0', '@cdktf/provider-docker@^12.0.3'],
  devDeps: ['ioredis@^5', 'cdk-nag@^3', 'aws-cdk@^2', 'cdktf-cli@^0.21.0', 'fast-check@^4'],

  // No remote here: no releases, no GitHub workflows, no dependency-upgrade workflows.
  release: false,
  github: false,
  depsUpgrade: false,
  pullRequestTemplate: false,

  typecheckTests: true,
  jestOptions: {
    // CI runs `jest --ci`; snapshots change only through `npx projen test:update`.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      setupFilesAfterEnv: ['<rootDir>/test/setup-jest.ts'],
      // One temporary directory per run, removed at its end.
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
      testTimeout: 30_000,
      // Behaviour tests mostly wait on servers; each test file has its own 127.0.0.x range.
      maxWorkers: 2,
    },
  },
  gitignore: ['/.tmp/', 'cdk.out/', 'cdktf.out/', '.gen/'],
  npmignoreEnabled: true,
});

// The main job: synthesize the examples and print the fleets they describe, read from the
// synthesized output. The README's first quick-start command runs it.
const main = project.addTask('main', {
  description: 'Synthesizes the example apps and prints the fleets they describe',
  // No telemetry or version checks: the CLIs run offline.
  env: { CHECKPOINT_DISABLE: '1', CDK_DISABLE_VERSION_CHECK: 'true', TF_CLI_CONFIG_FILE: '/dev/null' },
});
main.exec('cdk synth --quiet', { cwd: 'examples/aws' });
main.exec('ts-node --project ../tsconfig.json summary.ts', { cwd: 'examples/aws' });
// The app itself, as cdktf.json runs it for `cdktf synth`: the CLI draws a spinner that fills a
// non-TTY log with frames, and the app writes the same cdktf.out without it.
main.exec('ts-node --project ../tsconfig.json main.ts', { cwd: 'examples/docker' });
main.exec('ts-node --project ../tsconfig.json summary.ts', { cwd: 'examples/docker' });

// Reliability and performance: fault runs and benchmarks on real servers (not part of `build`);
// each writes its JSON under results/, from which `results` renders the README's tables and chart.
const tsNode = 'ts-node --project test/tsconfig.json';
// `npm run faults -- cluster` / `npm run bench -- cluster` run the cluster-mode part alone, and
// `npm run bench -- backup` the backups' part.
project.addTask('faults', {
  description: 'Runs the fault suite on fleets started from the synthesized output; writes results/faults.json and results/cluster-faults.json (`-- cluster`: the cluster-mode checks alone)',
  exec: `${tsNode} test/faults/run.ts`,
  receiveArgs: true,
});
project.addTask('bench', {
  description: 'Runs the benchmarks; writes results/bench.json (`-- cluster`: the cluster-mode throughput alone, `-- backup`: the backups alone, each merged into it)',
  exec: `${tsNode} test/bench/run.ts`,
  receiveArgs: true,
});
project.addTask('results', { description: "Renders the README's reliability and performance section and its chart from results/*.json", exec: `${tsNode} test/results/render.ts` });

// The node agent, the EC2 node scripts and the Docker launcher are shell files shipped as-is beside
// the compiled library, which reads them at synth (src/core/agent-script.ts,
// src/aws/private/boot-scripts.ts).
project.npmignore?.include('/src/agent/cachefleet-node', '/src/agent/aws/*.sh', '/src/agent/lib/*.sh', '/src/agent/docker/*.sh');

// Each app installs only its flavor's peers: `constructs` is the one required peer; an AWS CDK app
// adds aws-cdk-lib, a CDK for Terraform app cdktf and the Docker provider. Each flavor has its own
// entry point, whose declarations name only its own peers, and the root entry loads a flavor on first
// access (projenrc/lazy-flavors.ts). The devDependencies keep all of them for this repository's tests.
project.package.addField('peerDependenciesMeta', {
  'aws-cdk-lib': { optional: true },
  'cdktf': { optional: true },
  '@cdktf/provider-docker': { optional: true },
});
const entries: Record<string, string> = { aws: 'lib/aws-entry', docker: 'lib/docker-entry', core: 'lib/core-entry' };
project.package.addField('exports', {
  '.': { types: './lib/index.d.ts', default: './lib/index.js' },
  ...Object.fromEntries(Object.entries(entries).map(([name, file]) => [`./${name}`, { types: `./${file}.d.ts`, default: `./${file}.js` }])),
  // jsii tools and other jsii libraries read these two by package path.
  './.jsii': './.jsii',
  './package.json': './package.json',
});
// TypeScript's `node10` resolution ignores `exports`; this maps the same subpaths for it.
project.package.addField('typesVersions', {
  '*': Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, [`${file}.d.ts`]])),
});
project.postCompileTask.prependExec('ts-node --project projenrc/tsconfig.json projenrc/lazy-flavors.ts aws docker');

project.synth();
