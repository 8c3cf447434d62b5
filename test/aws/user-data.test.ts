import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { memcached, testStack, valkey } from './fixtures';
import { CacheCluster, ReplicationGroup } from '../../src/aws';
import { APPLY_SCRIPT, BOOT_SCRIPT, fetchScript, LIFECYCLE_SCRIPT, METRICS_SCRIPT, NODE_METRICS } from '../../src/aws/private/boot-scripts';

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
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    return action(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('user data', () => {
  test.each([
    ['ReplicationGroup 1 + 2', () => {
      const { stack, vpc } = testStack();
      new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, replicasPerShard: 2 });
      return Template.fromStack(stack);
    }],
    ['Memcached CacheCluster', () => {
      const { stack, vpc } = testStack();
      new CacheCluster(stack, 'Pages', { vpc, engine: memcached, numCacheNodes: 3 });
      return Template.fromStack(stack);
    }],
  ])('%s: passes `cloud-init schema`', (_name, build) => {
    const userData = userDataOf(build());
    const result = inTemp({ 'user-data.yaml': userData }, (dir) =>
      spawnSync('cloud-init', ['schema', '--config-file', path.join(dir, 'user-data.yaml')], { encoding: 'utf8' }));
    expect({ status: result.status, output: `${result.stdout}${result.stderr}` }).toEqual({ status: 0, output: expect.stringContaining('Valid cloud-config') });
  });

  test('an invalid cloud-config is refused by the same check (the check can fail)', () => {
    const result = inTemp({ 'bad.yaml': '#cloud-config\nruncmd: 5\nwrite_files: [{ permissions: 7 }]\n' }, (dir) =>
      spawnSync('cloud-init', ['schema', '--config-file', path.join(dir, 'bad.yaml')], { encoding: 'utf8' }));
    expect(result.status).not.toBe(0);
  });

  test('the fetch program the cloud-config writes is the one the launch template carries', () => {
    const { stack, vpc } = testStack();
    new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey });
    const userData = userDataOf(Template.fromStack(stack));
    const expected = fetchScript('/cachefleet/PARAM', 'stack-name', 'FINGERPRINT').split('\n').map((line) => (line ? `      ${line}` : '')).join('\n');
    expect(userData.replace(/\/cachefleet\/SessionsBundleLocation[0-9A-F]{8}/, '/cachefleet/PARAM').replace(/restart: [0-9a-f]{16}$/m, 'restart: FINGERPRINT')).toContain(expected);
  });
});

describe('node scripts', () => {
  test.each([
    ['fetch (user data)', fetchScript('/cachefleet/param', 'stack', '0123456789abcdef')],
    ['apply.sh', APPLY_SCRIPT],
    ['boot.sh', BOOT_SCRIPT],
    ['lifecycle.sh', LIFECYCLE_SCRIPT],
    ['metrics.sh', METRICS_SCRIPT],
  ])('%s passes shellcheck', (_name, script) => {
    const result = inTemp({ 'script.sh': script }, (dir) =>
      spawnSync('shellcheck', ['-s', 'bash', '-x', path.join(dir, 'script.sh')], { encoding: 'utf8' }));
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  test('shellcheck is the real one (it flags an unquoted variable)', () => {
    expect(() => inTemp({ 'bad.sh': '#!/bin/bash\nrm $1\n' }, (dir) => execFileSync('shellcheck', [path.join(dir, 'bad.sh')], { stdio: 'pipe' }))).toThrow();
  });

  test('each metricXxx method reads a metric metrics.sh publishes', () => {
    const { stack, vpc } = testStack();
    const rg = new ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, nodeAddressOffset: 10 });
    const cc = new CacheCluster(stack, 'Pages', { vpc, engine: memcached, nodeAddressOffset: 20 });
    const published = [...METRICS_SCRIPT.matchAll(/data="\$data (\w+)=|data="(\w+)=/g)].map((match) => match[1] ?? match[2]);
    expect(published.sort()).toEqual(Object.values(NODE_METRICS).sort());
    expect(METRICS_SCRIPT).toContain('--namespace CacheFleet');
    expect(METRICS_SCRIPT).toContain('Dimensions=[{Name=Fleet,Value=$fleet}]');
    const methods = [rg.metricCPUUtilization(), rg.metricCurrConnections(), rg.metricDatabaseMemoryUsagePercentage(), rg.metricReplicationLag(),
      cc.metricCPUUtilization(), cc.metricCurrConnections(), cc.metricDatabaseMemoryUsagePercentage()];
    for (const metric of methods) {
      expect(published).toContain(metric.metricName);
      expect(metric.namespace).toBe('CacheFleet');
      expect(Object.keys(metric.dimensions!)).toEqual(['Fleet']);
    }
  });
});
