import { Match, Template } from 'aws-cdk-lib/assertions';
import fc from 'fast-check';
import { awsClusterProps, awsFleetProps, awsStack } from './aws-arbitraries';
import { settleAws } from './aws-model';
import { FleetConstruct } from './core-arbitraries';
import { fleetSize, slotCount } from './fleet-model';
import { attempt, expectAccepted, expectRefusal, Tally, withPlainStackTraces } from './outcome';
import { Draw, makeProps, overrule } from './picks';
import { CacheCluster, ReplicationGroup } from '../../src/aws';

/**
 * Bad input, full synths of the AWS flavor: random props, each draw either a
 * whole template — a one-instance auto scaling group, an interface and (Redis, Valkey) a volume per
 * node slot — or a ValidationError naming a prop drawn wrong, with nothing created. Seeded: a
 * failure prints its counterexample. One test file per construct, so that jest runs them side by side.
 */

const SEED = 20261128;
export const MIN_SYNTHS = 200;
/**
 * One value in 1 + 2 × weight is drawn invalid, prop by prop: rarely for the engine-neutral props,
 * so that most draws build; more often for FleetProps, which no cheaper property draws.
 */
const WEIGHTS = { neutral: 60, own: 12 };

const CREATE: Record<FleetConstruct, (scope: any, props: any) => unknown> = {
  // With the opt-in outputs, which must synthesize for every accepted prop set too.
  ReplicationGroup: (scope, props) => new ReplicationGroup(scope, 'Fleet', props).addOutputs(),
  CacheCluster: (scope, props) => new CacheCluster(scope, 'Fleet', props).addOutputs(),
};

function expectWholeTemplate(template: Template, construct: FleetConstruct, draw: Draw, props: Record<string, any>) {
  const size = fleetSize(construct, draw, props)!;
  const slots = slotCount(size, false);
  template.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', slots);
  template.resourceCountIs('AWS::EC2::NetworkInterface', slots);
  template.resourceCountIs('AWS::EC2::Volume', size.memcached ? 0 : slots);
  template.resourceCountIs('AWS::EC2::LaunchTemplate', 1);
  template.hasOutput('*', { Value: Match.anyValue() });
  if (size.shards !== undefined) {
    // A cluster: each node's record and the configuration record; the engine's port and the bus between nodes.
    template.resourceCountIs('AWS::Route53::RecordSet', slots + 1);
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 2);
    expect(Object.keys(template.toJSON().Resources).length).toBeLessThanOrEqual(500);
  }
}

/** One draw's build and its check; counts the outcome. */
function checkDraw(construct: FleetConstruct, draw: Draw, tally: Tally): void {
  const { stack } = awsStack();
  let props: Record<string, any> | undefined;
  const outcome = attempt(() => {
    props = makeProps(draw, stack);
    return CREATE[construct](stack, props);
  });
  const settled = props ? overrule(draw, settleAws(construct, draw, props)) : draw;
  if ('refused' in outcome) {
    tally.count(expectRefusal(outcome.refused, settled));
    expect(stack.node.tryFindChild('Fleet')?.node.children ?? []).toHaveLength(0);
    return;
  }
  expectAccepted(settled);
  // The cyclical-dependency check is the other AWS tests' to run: here it would double the time of a synth.
  const template = Template.fromStack(stack, { skipCyclicalDependenciesCheck: true });
  expectWholeTemplate(template, construct, settled, props!);
  tally.count();
}

/** Draws `runs` prop sets of the construct (by default from `awsFleetProps`); returns how many were built and refused. */
export function fuzzAws(construct: FleetConstruct, runs: number, props: fc.Arbitrary<Draw> = awsFleetProps(construct, WEIGHTS)): Tally {
  const tally = new Tally();
  withPlainStackTraces(() =>
    fc.assert(fc.property(props, (draw) => checkDraw(construct, draw, tally)), { seed: SEED, numRuns: runs }));
  return tally;
}

/** Draws `runs` cluster-mode prop sets (`awsClusterProps`). */
export function fuzzAwsCluster(runs: number): Tally {
  return fuzzAws('ReplicationGroup', runs, awsClusterProps(WEIGHTS));
}
