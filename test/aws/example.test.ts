import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { buildExample, EXAMPLE_ZONES } from '../../examples/aws/app';
import { acceptedFindingsTable, EXAMPLE_SUPPRESSIONS } from '../../examples/aws/nag-suppressions';
import { formatSummary, summarize } from '../../examples/aws/summary';

/** docs/cdk-nag.md, which lists every accepted finding by rule. */
function suppressionDocs(): string {
  return fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'cdk-nag.md'), 'utf8');
}

describe('the AWS example', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-example-'));
  const app = new App({ outdir });
  const stack = buildExample(app);
  const assembly = app.synth();

  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test.each([
    ['AwsSolutions', () => new AwsSolutionsChecks(new App())],
    ['NIST 800-53 R5', () => new NIST80053R5Checks(new App())],
    ['HIPAA', () => new HIPAASecurityChecks(new App())],
  ])('cdk-nag %s: no unacknowledged error', (_pack, pack) => {
    const report = pack().validateScope(stack);
    const errors = report.violations
      .filter((violation) => violation.severity === 'error')
      .flatMap((violation) => violation.violatingResources.map((resource: any) => `${violation.ruleName} at ${resource.constructPath}`));
    expect(errors).toEqual([]);
  });

  test('every suppression is on one existing resource, with a reason, and listed in the docs', () => {
    const docs = suppressionDocs();
    expect(docs).not.toBe('');
    expect(EXAMPLE_SUPPRESSIONS.length).toBeGreaterThan(0);
    for (const suppression of EXAMPLE_SUPPRESSIONS) {
      const resource = suppression.path.split('/').reduce((scope: any, id) => scope.node.findChild(id), stack);
      expect(resource.node.metadata.some((entry: any) => entry.type === 'aws:cdk:acknowledged-rules' && JSON.stringify(entry.data).includes(JSON.stringify(suppression.id).slice(1, -1)))).toBe(true);
      expect(suppression.reason.length).toBeGreaterThan(30);
      // Listed in the row of its reason, with its rule and its resource.
      const row = docs.split('\n').find((line) => line.startsWith('| ') && line.endsWith(` | ${suppression.reason} |`));
      expect({ id: suppression.id, path: suppression.path, row: row !== undefined && row.includes(`\`${suppression.id}\``) && row.includes(`\`${suppression.path}\``) })
        .toEqual({ id: suppression.id, path: suppression.path, row: true });
    }
    // One row per group of rules, each with one reason: the table is the suppressions' own.
    expect(docs).toContain(acceptedFindingsTable());
    expect(new Set(EXAMPLE_SUPPRESSIONS.map((suppression) => suppression.reason)).size).toBe(docs.split('\n').filter((line) => /^\| `/.test(line)).length);
  });

  test('the summary read from cdk.out: a 1 + 2 Valkey group, 3 Memcached nodes and a Valkey Cluster of 3 shards of 1 + 1 over the three named zones', () => {
    expect(assembly.directory).toBe(outdir);
    const fleets = summarize(outdir);
    expect(fleets.map((fleet) => [fleet.engine, fleet.kind, fleet.nodes.length, fleet.port])).toEqual([
      ['valkey 8.0.2', 'replication', 3, '6379'],
      ['memcached 1.6.45', 'memcached', 3, '11211'],
      ['valkey 8.0.2', 'cluster', 6, '6379'],
    ]);
    for (const fleet of fleets.slice(0, 2)) expect(fleet.nodes.map((node) => node.zone)).toEqual(EXAMPLE_ZONES);
    expect(fleets[0].endpoints.PrimaryEndpoint).toBe(`${stack.sessions.primaryEndpoint.hostname}:6379`);
    expect(fleets[0].endpoints.SentinelEndpoints.split(',')).toHaveLength(3);
    expect(fleets[1].endpoints.Endpoint).toBe(stack.pages.endpoint.socketAddress);
    const text = formatSummary(fleets);
    expect(text).toContain('3 nodes over 3 AZs, port 6379, sentinel 26379');
    expect(text).toMatch(/node-2\s+eu-west-1c\s+10\.0\.\d+\.\d+\s+redis sentinel/);
  });

  test('the summary of the cluster-mode group: its shards, their hash slots and zones, each shard\'s nodes in two zones, primaries in three', () => {
    const orders = summarize(outdir)[2];
    expect(orders.clusterBusPort).toBe('16379');
    expect(orders.shards).toEqual([
      { index: 0, firstHashSlot: 0, lastHashSlot: 5460 },
      { index: 1, firstHashSlot: 5461, lastHashSlot: 10921 },
      { index: 2, firstHashSlot: 10922, lastHashSlot: 16383 },
    ]);
    const zonesOf = (shard: number) => orders.nodes.filter((node) => node.shard === shard).map((node) => node.zone);
    expect([0, 1, 2].map(zonesOf)).toEqual([['eu-west-1a', 'eu-west-1b'], ['eu-west-1b', 'eu-west-1c'], ['eu-west-1c', 'eu-west-1a']]);
    expect(orders.endpoints.ConfigurationEndpoint).toBe(stack.orders.configurationEndpoint!.socketAddress);
    expect(orders.endpoints.Shard2NodeEndpoints.split(',')).toEqual(stack.orders.shardEndpoints[2].nodeEndpoints.map((endpoint) => endpoint.socketAddress));
    const text = formatSummary([orders]);
    expect(text).toContain('(cluster), 3 shards, 6 nodes over 3 AZs, port 6379, cluster bus 16379');
    expect(text).toContain('  shard 1: hash slots 5461-10921, 2 nodes in eu-west-1b, eu-west-1c');
    expect(text).toMatch(/\n {4}node-13\s+eu-west-1a\s+10\.0\.17\.29\s+redis\n/);
  });

  test('the Lambda function may reach the three fleets on their ports and read both AUTH secrets', () => {
    const template = JSON.parse(fs.readFileSync(path.join(outdir, 'CacheFleetExample.template.json'), 'utf8'));
    const ingress = Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress'
      && JSON.stringify(r.Properties.SourceSecurityGroupId).includes('HandlerSecurityGroup'));
    expect(ingress.map((r) => r.Properties.FromPort).sort()).toEqual([11211, 6379, 6379]);
    const policies = JSON.stringify(Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes('HandlerServiceRole')));
    expect(policies).toContain('secretsmanager:GetSecretValue');
    expect(policies).toContain('SessionsAuthToken');
    expect(policies).toContain('OrdersAuthToken');
  });
});
