import { execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { memcached, testStack, valkey } from './fixtures';
import { CacheCluster, ReplicationGroup } from '../../src/aws';
import { FETCH_SCRIPT, fetchScript, METRICS_NAMESPACE, NODE_METRICS, NODE_SCRIPTS, nodeScript, nodeScriptsDirectory, PRE_STOP_HOOK_NAME } from '../../src/aws/private/boot-scripts';
import { bundleFiles, writeBundleDirectory } from '../../src/aws/private/bundle';
import { BUNDLE_FILES, slotEnvPath } from '../../src/core/render';
import { replicationGroupPlan } from '../integ/support/plans';

/** The user data of a template's launch template, with each Ref replaced by a stand-in value. */
function userDataOf(template: Template): string {
  const lt = Object.values(template.findResources('AWS::EC2::LaunchTemplate'))[0];
  const join = lt.Properties.LaunchTemplateData.UserData['Fn::Base64']['Fn::Join'];
  expect(join[0]).toBe('');
  return join[1].map((part: any) => {
    if (typeof part === 'string') return part;
    if (part.Ref === 'AWS::StackName') return 'stack-name';
    if (typeof part.Ref === 'string') return `/cachefleet/${part.Ref}`;
    throw new Error(`unexpected intrinsic in user data: ${JSON.stringify(part)}`);
  }).join('');
}

function inTemp<T>(files: Record<string, string>, action: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-userdata-'));
  try {
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), text, { mode: 0o755 });
    }
    return action(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function replicationGroupTemplate(): Template {
  const { stack, vpc } = testStack();
  new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, replicasPerShard: 2 });
  return Template.fromStack(stack);
}

describe('user data', () => {
  test.each([
    ['ReplicationGroup 1 + 2', replicationGroupTemplate],
    ['Memcached CacheCluster', () => {
      const { stack, vpc } = testStack();
      new CacheCluster(stack, 'Pages', { vpc, engine: memcached, numCacheNodes: 3 });
      return Template.fromStack(stack);
    }],
  ])('%s: passes `cloud-init schema` and stays far below the 16 KB limit', (_name, build) => {
    const userData = userDataOf(build());
    const result = inTemp({ 'user-data.yaml': userData }, (dir) =>
      spawnSync('cloud-init', ['schema', '--config-file', path.join(dir, 'user-data.yaml')], { encoding: 'utf8' }));
    expect({ status: result.status, output: `${result.stdout}${result.stderr}` }).toEqual({ status: 0, output: expect.stringContaining('Valid cloud-config') });
    // EC2 takes at most 16 KB of user data, before base64.
    expect(Buffer.byteLength(userData)).toBeLessThan(8 * 1024);
  });

  test('an invalid cloud-config is refused by the same check (the check can fail)', () => {
    const result = inTemp({ 'bad.yaml': '#cloud-config\nruncmd: 5\nwrite_files: [{ permissions: 7 }]\n' }, (dir) =>
      spawnSync('cloud-init', ['schema', '--config-file', path.join(dir, 'bad.yaml')], { encoding: 'utf8' }));
    expect(result.status).not.toBe(0);
  });

  test('the fetch program is lib/common.sh and aws/fetch.sh as they are, after the values of the group', () => {
    const userData = userDataOf(replicationGroupTemplate());
    const program = fetchScript({ bundleParameterName: '/cachefleet/PARAM', stackName: 'stack-name', restartFingerprint: 'FINGERPRINT', signalTimeoutSeconds: 900 });
    const expected = program.split('\n').map((line) => (line ? `      ${line}` : '')).join('\n');
    const normalized = userData.replace(/\/cachefleet\/SessionsBundleLocation[0-9A-F]{8}/, '/cachefleet/PARAM').replace(/restart: [0-9a-f]{16}$/m, 'restart: FINGERPRINT');
    expect(normalized).toContain(expected);
    // The values: the deploy's signal timeout (15 minutes) reaches the boot's readiness wait.
    expect(program.split('\n').slice(2, 6)).toEqual([
      "CACHEFLEET_BUNDLE_PARAMETER='/cachefleet/PARAM'",
      "CACHEFLEET_CFN_STACK='stack-name'",
      'CACHEFLEET_SIGNAL_TIMEOUT=900',
      '# Configuration needing a restart: FINGERPRINT',
    ]);
    expect(program).toContain(nodeScript('lib/common.sh').replace(/^#!.*\n/, ''));
    expect(program).toContain(nodeScript(FETCH_SCRIPT).replace(/^#!.*\n/, ''));
  });
});

describe('node scripts', () => {
  const shellFiles = [FETCH_SCRIPT, ...NODE_SCRIPTS];

  test('every shell file under src/agent/aws and src/agent/lib is shipped (or is the user data) and passes shellcheck', () => {
    const onDisk = ['aws', 'lib'].flatMap((sub) => fs.readdirSync(path.join(nodeScriptsDirectory(), sub)).map((name) => `${sub}/${name}`)).sort();
    expect(onDisk).toEqual([...shellFiles].sort());
    const result = spawnSync('shellcheck', ['-x', ...shellFiles], { cwd: nodeScriptsDirectory(), encoding: 'utf8' });
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  test('the node agent passes shellcheck as a POSIX sh program', () => {
    const result = spawnSync('shellcheck', ['-s', 'sh', 'cachefleet-node'], { cwd: nodeScriptsDirectory(), encoding: 'utf8' });
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  test('the user data\'s assembled fetch program passes shellcheck', () => {
    const program = fetchScript({ bundleParameterName: '/cachefleet/param', stackName: 'stack', restartFingerprint: '0123456789abcdef', signalTimeoutSeconds: 900 });
    // SC1091 (info) only says that fetch.sh's fallback `. ../lib/common.sh`, for a run from the source
    // tree, is not followed: in the user data, common.sh's text is above it and the fallback never runs.
    const result = inTemp({ fetch: program }, (dir) => spawnSync('shellcheck', ['-s', 'bash', '-e', 'SC1091', path.join(dir, 'fetch')], { encoding: 'utf8' }));
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  test('shellcheck is the real one (it flags an unquoted variable)', () => {
    expect(() => inTemp({ 'bad.sh': '#!/bin/bash\nrm $1\n' }, (dir) => execFileSync('shellcheck', [path.join(dir, 'bad.sh')], { stdio: 'pipe' }))).toThrow();
  });

  test('the bundle carries the agent and the node scripts at their paths below src/agent, the programs executable', () => {
    const plan = replicationGroupPlan('sessions', valkey, ['10.0.0.10', '10.0.0.11', '10.0.0.12']);
    const files = bundleFiles(plan);
    expect(Object.keys(files).filter((name) => !name.startsWith('config/')).sort()).toEqual(['cachefleet-node', ...NODE_SCRIPTS].sort());
    for (const name of NODE_SCRIPTS) expect(files[name]).toBe(nodeScript(name));
    const dir = writeBundleDirectory(plan);
    for (const name of ['cachefleet-node', 'aws/boot.sh', 'aws/units.sh', 'aws/apply.sh', 'aws/lifecycle.sh']) {
      expect({ name, mode: fs.statSync(path.join(dir, name)).mode % 0o1000 }).toEqual({ name, mode: 0o755 });
    }
    expect(fs.statSync(path.join(dir, 'lib/common.sh')).mode % 0o1000).toBe(0o644);
  });

  test('the scripts name the bundle\'s files, the hook and the namespace as the library does', () => {
    for (const name of ['aws/boot.sh', 'aws/units.sh']) {
      expect(nodeScript(name)).toContain(`/${BUNDLE_FILES.fleetEnv}"`);
    }
    expect(nodeScript('aws/boot.sh')).toContain(slotEnvPath('$CACHEFLEET_SLOT'));
    expect(nodeScript('aws/units.sh')).toContain(slotEnvPath('$slot'));
    expect(nodeScript('aws/apply.sh')).toContain(`config/${BUNDLE_FILES.liveParameters}`);
    expect(nodeScript('aws/lifecycle.sh')).toContain(`--lifecycle-hook-name ${PRE_STOP_HOOK_NAME} `);
    expect(nodeScript('cachefleet-node')).toContain(`METRICS_NAMESPACE=\${CACHEFLEET_METRICS_NAMESPACE:-${METRICS_NAMESPACE}}`);
    expect(nodeScript('aws/units.sh')).toContain('service cachefleet-metrics "cachefleet metrics" "$agent metrics"');
  });

  test('each metricXxx method reads a metric the agent\'s metrics subcommand publishes', () => {
    const agent = nodeScript('cachefleet-node');
    const metrics = agent.slice(agent.indexOf('metrics_sample() {'), agent.indexOf('cmd_metrics() {'));
    const { stack, vpc } = testStack();
    const rg = new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, nodeAddressOffset: 10 });
    const cc = new CacheCluster(stack, 'Pages', { vpc, engine: memcached, nodeAddressOffset: 20 });
    // The sample's names: ms_line="CPUUtilization=$((…)), the awk printf " CurrConnections=%d" (each
    // engine's), and the backup's outcome (ms_engine="$ms_engine BackupFailed=1").
    const published = [...new Set([...metrics.matchAll(/ms_line="(\w+)=\$\(\(| (\w+)=%d"| (\w+)=[01]" ;;/g)].map((match) => match[1] ?? match[2] ?? match[3]))];
    expect(published.sort()).toEqual(Object.values(NODE_METRICS).sort());
    // Every datum goes under the fleet's dimension (the methods' only one); aws-boot.test.ts reads them back from CloudWatch.
    expect(metrics).toContain('Dimensions.member.1.Name=Fleet%sDimensions.member.1.Value=%s');
    const methods = [rg.metricCPUUtilization(), rg.metricCurrConnections(), rg.metricDatabaseMemoryUsagePercentage(), rg.metricReplicationLag(),
      rg.metricBackupFailed(), cc.metricCPUUtilization(), cc.metricCurrConnections(), cc.metricDatabaseMemoryUsagePercentage()];
    for (const metric of methods) {
      expect(published).toContain(metric.metricName);
      expect(metric.namespace).toBe('CacheFleet');
      expect(Object.keys(metric.dimensions!)).toEqual(['Fleet']);
    }
  });
});

describe('the fetch program fails loudly', () => {
  // An instance-metadata stand-in (IMDSv2) on 127.0.0.1 and an `aws` that records its calls: the
  // fetch fails before any bundle exists, so nothing but the fetch program can report it.
  let server: http.Server;
  let port = 0;
  beforeAll(async () => {
    const tokens = new Set<string>();
    server = http.createServer((request, response) => {
      const send = (status: number, body: string) => { response.writeHead(status); response.end(body); };
      if (request.method === 'PUT' && request.url === '/latest/api/token') {
        const token = `token-${tokens.size}`;
        tokens.add(token);
        return send(200, token);
      }
      if (!tokens.has(String(request.headers['x-aws-ec2-metadata-token']))) return send(401, 'IMDSv2 token required');
      const meta: Record<string, string> = {
        '/latest/meta-data/instance-id': 'i-0fetchfails',
        '/latest/meta-data/placement/region': 'eu-west-1',
        '/latest/meta-data/tags/instance/cachefleet:cfn-resource': 'SessionsNode0Group1234',
      };
      return meta[request.url!] ? send(200, meta[request.url!]) : send(404, 'Not Found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => new Promise((resolve) => server.close(resolve)));

  const AWS_STANDIN = `#!/bin/bash
printf '%s\\n' "$*" >>"$CALLS"
case "$1 $2" in
  "ssm get-parameter") [ -n "$LOCATION" ] && { cat "$LOCATION"; exit 0; }; echo "An error occurred (AccessDeniedException) when calling the GetParameter operation" >&2; exit 254 ;;
  "s3 cp") sleep 0.5; cp "$(dirname "$LOCATION")/$(basename "$4")" "$5" ;;
  "cloudformation signal-resource") [ -n "$DEPLOY_WAITS" ] && exit 0; echo "An error occurred (ValidationError) when calling the SignalResource operation: Resource is in CREATE_COMPLETE state and cannot be signaled" >&2; exit 254 ;;
esac
`;

  async function runFetch(mode: string[], deployWaits: boolean, location = '', root?: string) {
    const program = fetchScript({ bundleParameterName: '/cachefleet/param', stackName: 'Stack', restartFingerprint: '0123456789abcdef', signalTimeoutSeconds: 900 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-fetch-'));
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.writeFileSync(path.join(dir, 'bin', 'aws'), AWS_STANDIN, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'fetch'), program, { mode: 0o755 });
    const calls = path.join(dir, 'calls');
    fs.writeFileSync(calls, '');
    const child = spawn('bash', [path.join(dir, 'fetch'), ...mode], {
      env: {
        PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`,
        CALLS: calls,
        DEPLOY_WAITS: deployWaits ? '1' : '',
        LOCATION: location,
        CACHEFLEET_ROOT: root ?? path.join(dir, 'root'),
        CACHEFLEET_METADATA_URL: `http://127.0.0.1:${port}`,
        CACHEFLEET_RETRIES: '2',
        CACHEFLEET_RETRY_DELAY: '0',
        TMPDIR: dir,
      },
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const recorded = fs.readFileSync(calls, 'utf8').split('\n').filter(Boolean);
    const leftovers = fs.existsSync(path.join(dir, 'root/opt')) ? fs.readdirSync(path.join(dir, 'root/opt')) : [];
    fs.rmSync(dir, { recursive: true, force: true });
    return { code, stderr, calls: recorded, leftovers };
  }

  test('a boot whose fetch fails signals FAILURE to the waiting deploy and marks the instance Unhealthy', async () => {
    const result = await runFetch([], true);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/aws ssm get-parameter failed after 2 attempts/);
    expect(result.calls).toEqual([
      'ssm get-parameter --name /cachefleet/param --query Parameter.Value --output text',
      'ssm get-parameter --name /cachefleet/param --query Parameter.Value --output text',
      'cloudformation signal-resource --stack-name Stack --logical-resource-id SessionsNode0Group1234 --unique-id i-0fetchfails --status FAILURE',
      'autoscaling set-instance-health --instance-id i-0fetchfails --health-status Unhealthy --no-should-respect-grace-period',
    ]);
  });

  test('outside a deploy (the signal is refused), the instance is still marked Unhealthy', async () => {
    const result = await runFetch([], false);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('no deploy took the FAILURE signal');
    expect(result.calls.filter((call) => call.startsWith('autoscaling set-instance-health'))).toEqual([
      'autoscaling set-instance-health --instance-id i-0fetchfails --health-status Unhealthy --no-should-respect-grace-period',
    ]);
  });

  test('a failed `apply` (the SSM association) fails its command only: the running node stays in service', async () => {
    const result = await runFetch(['apply'], true);
    expect(result.code).not.toBe(0);
    expect(result.calls.filter((call) => !call.startsWith('ssm get-parameter'))).toEqual([]);
  });

  test('an `apply` whose bundle has no slot for the node keeps the running bundle, puts the new plan beside it and has the running agent hand over (leave)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-leave-'));
    try {
      // The new bundle plans node-0 only; this node is node-2.
      const content = path.join(dir, 'content');
      fs.mkdirSync(path.join(content, 'aws'), { recursive: true });
      fs.mkdirSync(path.join(content, 'config/slots'), { recursive: true });
      fs.writeFileSync(path.join(content, 'aws/apply.sh'), nodeScript('aws/apply.sh'));
      fs.writeFileSync(path.join(content, 'cachefleet-node'), '#!/bin/sh\necho "new agent $*" >>"$CACHEFLEET_CONFIG_DIR/../agent-calls"\n');
      fs.writeFileSync(path.join(content, 'config/fleet.env'), 'CF_KIND=cluster\nCF_GENERATION=new\n');
      fs.writeFileSync(path.join(content, 'config/slots/node-0.env'), 'CF_SLOT=node-0\n');
      const zip = spawnSync('python3', ['-m', 'zipfile', '-c', path.join(dir, 'bundle.zip'), ...fs.readdirSync(content).map((f) => path.join(content, f))]);
      expect(zip.status).toBe(0);
      fs.writeFileSync(path.join(dir, 'location'), 's3://assets/bundle.zip\n');
      // The running bundle: its own plan (with node-2) and an agent that knows `leave`.
      const root = path.join(dir, 'root');
      const running = path.join(root, 'opt/cachefleet');
      fs.mkdirSync(path.join(running, 'config/slots'), { recursive: true });
      fs.writeFileSync(path.join(running, 'agent.env'), 'CACHEFLEET_PLATFORM=aws\nCACHEFLEET_SLOT=node-2\n');
      fs.writeFileSync(path.join(running, 'config/fleet.env'), 'CF_KIND=cluster\nCF_GENERATION=old\n');
      fs.writeFileSync(path.join(running, 'config/slots/node-2.env'), 'CF_SLOT=node-2\n');
      fs.writeFileSync(path.join(running, 'cachefleet-node'), '#!/bin/sh\ncmd_leave() { :; }\necho "running agent $* with $CACHEFLEET_CONFIG_DIR" >>"$CACHEFLEET_CONFIG_DIR/../agent-calls"\n', { mode: 0o755 });
      const result = await runFetch(['apply'], false, path.join(dir, 'location'), root);
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.stringContaining('slot node-2 is not in the new bundle') });
      expect(fs.readFileSync(path.join(running, 'config/fleet.env'), 'utf8')).toContain('CF_GENERATION=old');
      expect(fs.readFileSync(path.join(running, 'config.next/fleet.env'), 'utf8')).toContain('CF_GENERATION=new');
      expect(fs.readFileSync(path.join(running, 'agent-calls'), 'utf8')).toBe(`running agent leave with ${path.join(running, 'config')}\n`);
      expect(fs.readdirSync(path.join(root, 'opt')).filter((name) => name !== 'cachefleet.lock')).toEqual(['cachefleet']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('each `apply` stages its bundle in a directory of its own: two at once both install a whole bundle', async () => {
    // Two bundles, each with the real apply.sh and a marker; the node has booted (agent.env) and has
    // no live parameters to send, so apply.sh only swaps the bundles.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-apply-'));
    try {
      const locations = ['a', 'b'].map((name) => {
        const content = path.join(dir, `content-${name}`);
        fs.mkdirSync(path.join(content, 'aws'), { recursive: true });
        fs.writeFileSync(path.join(content, 'aws/apply.sh'), nodeScript('aws/apply.sh'));
        fs.writeFileSync(path.join(content, 'cachefleet-node'), '#!/bin/sh\n');
        fs.writeFileSync(path.join(content, `bundle-${name}`), name);
        // The node's slot is in both bundles (a bundle that lacks it makes the node leave).
        fs.mkdirSync(path.join(content, 'config/slots'), { recursive: true });
        fs.writeFileSync(path.join(content, 'config/fleet.env'), 'CF_KIND=replication\n');
        fs.writeFileSync(path.join(content, 'config/slots/node-0.env'), 'CF_SLOT=node-0\n');
        const zip = spawnSync('python3', ['-m', 'zipfile', '-c', path.join(dir, `bundle-${name}.zip`), ...fs.readdirSync(content).map((f) => path.join(content, f))]);
        expect(zip.status).toBe(0);
        fs.writeFileSync(path.join(dir, `location-${name}`), `s3://assets/bundle-${name}.zip\n`);
        return path.join(dir, `location-${name}`);
      });
      const root = path.join(dir, 'root');
      fs.mkdirSync(path.join(root, 'opt/cachefleet'), { recursive: true });
      fs.writeFileSync(path.join(root, 'opt/cachefleet/agent.env'), 'CACHEFLEET_PLATFORM=aws\nCACHEFLEET_SLOT=node-0\n');
      const results = await Promise.all(locations.map((location) => runFetch(['apply'], false, location, root)));
      expect(results.map((r) => ({ code: r.code, stderr: r.stderr }))).toEqual([
        { code: 0, stderr: expect.stringContaining('the bundle is installed') },
        { code: 0, stderr: expect.stringContaining('the bundle is installed') },
      ]);
      const installed = fs.readdirSync(path.join(root, 'opt/cachefleet')).sort();
      expect([['agent.env', 'aws', 'bundle-a', 'cachefleet-node', 'config'], ['agent.env', 'aws', 'bundle-b', 'cachefleet-node', 'config']]).toContainEqual(installed);
      // No staging or retired directory is left behind.
      expect(fs.readdirSync(path.join(root, 'opt')).filter((name) => name !== 'cachefleet.lock')).toEqual(['cachefleet']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
