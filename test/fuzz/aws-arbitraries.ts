import { App, Lazy, RemovalPolicy, Size, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import fc from 'fast-check';
import { FleetConstruct, fleetOptions, integerProp } from './core-arbitraries';
import { constants, depends, Draw, made, mix, Pick, Tokens, valid } from './picks';
import { NodeType } from '../../src/aws';
import { ClusterMode } from '../../src/core/fleet-options';

/** aws-cdk-lib's own tokens, as a CDK app makes them. */
export const CDK_TOKENS: Tokens = {
  number: () => Token.asNumber(Lazy.number({ produce: () => 6380 })),
  string: () => Lazy.string({ produce: () => 'app' }),
};

export const ZONES = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];

/**
 * A stack with an imported VPC of three zones (private subnets with egress, public, isolated):
 * an imported VPC synthesizes nothing itself, which keeps hundreds of synths fast. For the same
 * reason its app records no stack traces (each costs a source-mapped call stack under jest) and
 * stages no assets (a copy of each fleet's bundle directory): the template is the same without them.
 */
export function awsStack(): { stack: Stack; vpc: ec2.IVpc } {
  const app = new App({
    stackTraces: false,
    context: { [cxapi.DISABLE_CREATION_STACK_TRACES]: true, [cxapi.DISABLE_ASSET_STAGING_CONTEXT]: true },
  });
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-12345678',
    availabilityZones: ZONES,
    privateSubnetIds: ['subnet-p1', 'subnet-p2', 'subnet-p3'],
    privateSubnetIpv4CidrBlocks: ['10.0.3.0/24', '10.0.4.0/24', '10.0.5.0/24'],
    publicSubnetIds: ['subnet-u1', 'subnet-u2', 'subnet-u3'],
    publicSubnetIpv4CidrBlocks: ['10.0.0.0/24', '10.0.1.0/24', '10.0.2.0/24'],
    isolatedSubnetIds: ['subnet-i1', 'subnet-i2', 'subnet-i3'],
    isolatedSubnetIpv4CidrBlocks: ['10.0.6.0/24', '10.0.7.0/24', '10.0.8.0/24'],
  });
  return { stack, vpc };
}

const vpcOf = (scope: Construct) => (scope.node.findChild('Vpc') as ec2.IVpc);

/**
 * The subnet selection, and how many zones it spreads the slots over. Refused: selections of
 * subnets without egress, selections the VPC cannot satisfy, and values that are no selection.
 */
function subnetSelections(validWeight: number): fc.Arbitrary<Pick> {
  const selections: Array<[string, number, (vpc: ec2.IVpc) => ec2.SubnetSelection]> = [
    ['PRIVATE_WITH_EGRESS', 3, () => ({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS })],
    ['one subnet', 1, (vpc) => ({ subnets: [vpc.privateSubnets[1]] })],
    ['two zones', 2, () => ({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, availabilityZones: ZONES.slice(0, 2) })],
  ];
  const refused: Array<[string, (vpc: ec2.IVpc) => unknown]> = [
    ['PUBLIC', () => ({ subnetType: ec2.SubnetType.PUBLIC })],
    ['PRIVATE_ISOLATED', () => ({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED })],
    ['a public subnet among private ones', (vpc) => ({ subnets: [vpc.privateSubnets[0], vpc.publicSubnets[1]] })],
    ['a zone with no subnet', () => ({ availabilityZones: ['eu-west-1z'] })],
    ['a subnet group the VPC lacks', () => ({ subnetGroupName: 'Nope' })],
  ];
  return mix(
    fc.constantFrom(...selections).map(([label, zones, select]) =>
      Object.assign(made('valid', label, (scope) => select(vpcOf(scope))), { zones })),
    fc.oneof(
      fc.constantFrom(...refused).map(([label, select]) => made('invalid', label, (scope) => select(vpcOf(scope)))),
      constants('invalid', ['private', null, [], 3]),
    ),
    validWeight,
  );
}

/** How many zones a drawn selection spreads slots over (3 when unset). */
export function zonesOf(drawn: Pick): number {
  return (drawn as Pick & { zones?: number }).zones ?? ZONES.length;
}

function nodeTypes(validWeight: number): fc.Arbitrary<Pick> {
  const names = ['cache.t4g.medium', 'cache.r7g.large', 'cache.m7i.xlarge', 'cache.c7gn.16xlarge'];
  return mix(
    fc.oneof(
      fc.constantFrom(...names).map((name) => made('valid', `NodeType.of(${name})`, () => NodeType.of(name))),
      fc.constant(made('valid', 'NodeType.fromInstanceType(m7g.large)', () =>
        NodeType.fromInstanceType(ec2.InstanceType.of(ec2.InstanceClass.M7G, ec2.InstanceSize.LARGE)))),
    ),
    fc.oneof(
      fc.constantFrom('r7g.large', 'cache.', 'cache.R7G.large', '', 'cache.r7g').map((name) =>
        made('invalid', `NodeType.of(${JSON.stringify(name)})`, () => NodeType.of(name))),
      fc.string({ maxLength: 20 }).map((name) => made('invalid', `NodeType.of(${JSON.stringify(name)})`, () => NodeType.of(name))),
      constants('invalid', ['cache.r7g.large', 5, {}]),
    ),
    validWeight,
  );
}

/** The VPC is required: leaving it out is wrong too, as is anything that is no ec2.IVpc. */
function vpcs(validWeight: number): fc.Arbitrary<Pick> {
  return fc.oneof(
    { arbitrary: fc.constant(made('valid', 'the stack VPC', (scope) => vpcOf(scope))), weight: 2 * validWeight },
    {
      arbitrary: fc.oneof(
        constants('invalid', [undefined, null, 'vpc-12345678', {}, { vpcId: 'vpc-12345678' }]),
        fc.constant(made('invalid', 'the stack', (scope) => scope)),
      ),
      weight: 1,
    },
  );
}

/**
 * A gp3 volume's size: whole GiB from 1 to 16384. Refused in every engine's fleet, Memcached's
 * included, though its nodes have no data volume: a wrong value is a mistake wherever it is passed.
 * No token size: ec2.Volume checks a gp3 volume's range at synth time and refuses a token with an
 * error of its own.
 */
function dataVolumeSizes(validWeight: number): fc.Arbitrary<Pick> {
  return mix(
    fc.oneof(
      fc.constantFrom(1, 16384).map((gib) => made('valid', `Size.gibibytes(${gib})`, () => Size.gibibytes(gib))),
      fc.integer({ min: 1, max: 16384 }).map((gib) => made('valid', `Size.gibibytes(${gib})`, () => Size.gibibytes(gib))),
      fc.constant(made('valid', 'Size.tebibytes(16)', () => Size.tebibytes(16))),
      fc.constant(made('valid', 'Size.mebibytes(2048)', () => Size.mebibytes(2048))),
    ),
    fc.oneof(
      fc.constantFrom(0, 16385, 1.5).map((gib) => made('invalid', `Size.gibibytes(${gib})`, () => Size.gibibytes(gib))),
      fc.constant(made('invalid', 'Size.mebibytes(1536)', () => Size.mebibytes(1536))),
      fc.constant(made('invalid', 'Size.tebibytes(17)', () => Size.tebibytes(17))),
      constants('invalid', [20, '20', null, { amount: 20, unit: 'GiB' }]),
    ),
    validWeight,
  );
}

/** RemovalPolicy's values are strings: its own lower-case ones are accepted, any other is not. */
function removalPolicies(validWeight: number): fc.Arbitrary<Pick> {
  return mix(
    constants('valid', [...Object.values(RemovalPolicy), 'retain']),
    constants('invalid', ['keep', 'RETAIN', 'Snapshot', '', 5, null, {}]),
    validWeight,
  );
}

function machineImages(validWeight: number): fc.Arbitrary<Pick> {
  return mix(
    fc.constant(valid(ec2.MachineImage.genericLinux({ 'eu-west-1': 'ami-0123456789abcdef0' }), 'genericLinux(ami-0123456789abcdef0)')),
    constants('invalid', ['ami-0123456789abcdef0', null, {}, { imageId: 'ami-0123456789abcdef0' }]),
    validWeight,
  );
}

/** The AUTH token's secret; Memcached has no AUTH, yet a value that is no secret is refused there too. */
function authTokens(validWeight: number): fc.Arbitrary<Pick> {
  return mix(
    fc.constant(made('valid', 'Secret.fromSecretNameV2(fleet-token)', (scope) => secretsmanager.Secret.fromSecretNameV2(scope, 'Token', 'fleet-token'))),
    constants('invalid', ['a-literal-token-1234567', null, {}, { secretName: 'fleet-token' }]),
    validWeight,
  );
}

function hostedZones(validWeight: number): fc.Arbitrary<Pick> {
  return mix(
    fc.constant(made('valid', 'an imported private zone', (scope) =>
      route53.PrivateHostedZone.fromHostedZoneAttributes(scope, 'Zone', { hostedZoneId: 'Z0123456789', zoneName: 'cache.internal' }))),
    constants('invalid', ['cache.internal', null, {}, { zoneName: 'cache.internal' }]),
    validWeight,
  );
}

/** The first node's host number: its top depends on how many slots share a zone (the model settles it). */
function addressOffsets(validWeight: number): fc.Arbitrary<Pick> {
  return integerProp(4, 254, CDK_TOKENS, validWeight).map((drawn) =>
    drawn.verdict === 'valid' && drawn.label !== 'unset' ? { ...drawn, verdict: 'depends' as const } : drawn);
}

/**
 * The props of a fleet on EC2: the engine-neutral ones and FleetProps, each weighted apart (see
 * `mix`). The validation-level property draws the engine-neutral props thousands of times; only
 * this one draws FleetProps, and a refused draw costs little beside a synth: they may be drawn
 * wrong more often.
 */
export function awsFleetProps(construct: FleetConstruct, weights: { neutral: number; own: number }): fc.Arbitrary<Draw> {
  const { own } = weights;
  const aws = fc.record({
    vpc: vpcs(own),
    vpcSubnets: subnetSelections(own),
    nodeType: nodeTypes(own),
    dataVolumeSize: dataVolumeSizes(own),
    removalPolicy: removalPolicies(own),
    machineImage: machineImages(own),
    authToken: authTokens(own),
    hostedZone: hostedZones(own),
    nodeAddressOffset: addressOffsets(own),
  });
  return fc.tuple(fleetOptions(construct, CDK_TOKENS, weights.neutral), aws).map(([fleet, flavor]) => ({ ...fleet, ...flavor }));
}

/**
 * The shards of a cluster-mode group on EC2: a few most often (a synth's cost grows with them), and
 * now and then the most that one stack holds for some replica count, or one more (39/40 nodes of one
 * shard each, 19/20 shards of 1 + 1, …, 6/7 of 1 + 5), whose verdict the model settles.
 */
function clusterShards(): fc.Arbitrary<Pick> {
  return fc.oneof(
    { arbitrary: fc.integer({ min: 3, max: 6 }).map((n) => depends(n)), weight: 8 },
    { arbitrary: fc.constantFrom(7, 8, 9, 10, 13, 14, 19, 20, 39, 40).map((n) => depends(n)), weight: 1 },
  );
}

/**
 * Cluster-mode props on EC2: every prop of `awsFleetProps`, with cluster mode on, the shards drawn
 * around the flavor's own limit and the replicas drawn valid. Defined here rather than beside the
 * engine-neutral arbitraries: the limit is the AWS flavor's.
 */
export function awsClusterProps(weights: { neutral: number; own: number }): fc.Arbitrary<Draw> {
  return fc.tuple(awsFleetProps('ReplicationGroup', weights), clusterShards(), fc.integer({ min: 0, max: 5 })).map(([draw, shards, replicas]) => ({
    ...draw,
    // Memcached refuses it: the engine-neutral model settles it.
    clusterMode: depends(ClusterMode.ENABLED, 'ClusterMode.ENABLED'),
    shards,
    replicasPerShard: valid(replicas),
  }));
}
