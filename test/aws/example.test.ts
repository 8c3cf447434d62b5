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

  test('the summary read from cdk.out: a 1 + 2 Valkey group and 3 Memcached nodes over the three named zones', () => {
    expect(assembly.directory).toBe(outdir);
    const fleets = summarize(outdir);
    expect(fleets.map((fleet) => [fleet.engine, fleet.kind, fleet.nodes.length, fleet.port])).toEqual([
      ['valkey 8.0.2', 'replication', 3, '6379'],
      ['memcached 1.6.45', 'memcached', 3, '11211'],
    ]);
    for (const fleet of fleets) expect(fleet.nodes.map((node) => node.zone)).toEqual(EXAMPLE_ZONES);
    expect(fleets[0].endpoints.PrimaryEndpoint).toBe(`${stack.sessions.primaryEndpoint.hostname}:6379`);
    expect(fleets[0].endpoints.SentinelEndpoints.split(',')).toHaveLength(3);
    expect(fleets[1].endpoints.Endpoint).toBe(stack.pages.endpoint.socketAddress);
    const text = formatSummary(fleets);
    expect(text).toContain('3 nodes over 3 AZs, port 6379, sentinel 26379');
    expect(text).toMatch(/node-2\s+eu-west-1c\s+10\.0\.\d+\.\d+\s+redis sentinel/);
  });

  test('the Lambda function may reach both fleets on their ports and read the AUTH secret', () => {
    const template = JSON.parse(fs.readFileSync(path.join(outdir, 'CacheFleetExample.template.json'), 'utf8'));
    const ingress = Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress'
      && JSON.stringify(r.Properties.SourceSecurityGroupId).includes('HandlerSecurityGroup'));
    expect(ingress.map((r) => r.Properties.FromPort).sort()).toEqual([11211, 6379]);
    const policies = JSON.stringify(Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes('HandlerServiceRole')));
    expect(policies).toContain('secretsmanager:GetSecretValue');
    expect(policies).toContain('SessionsAuthToken');
  });
});
