import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { CacheEngine, RedisEngineVersion } from '../../src/core/engine';

/**
 * How the synth benchmarks lay out N nodes, the same for cachefleet's constructs and for the
 * hand-written resources.
 *
 * A ReplicationGroup has at most 6 nodes and a stack must stay under 500 resources, so N nodes are
 * N / 10 stacks of two Redis 7.0 ReplicationGroups of 5 nodes each (1 primary + 4 replicas,
 * sentinels on three of them, the shipped defaults otherwise): about 70 resources a stack, the
 * same shape at every size, so that synth time can be compared across sizes. Each stack imports
 * one VPC by its attributes (three private subnets with egress in three zones) instead of creating
 * one: the figures are those of the fleets' resources, not of a VPC's.
 */
export const NODES_PER_GROUP = 5;
export const GROUPS_PER_STACK = 2;
export const NODES_PER_STACK = NODES_PER_GROUP * GROUPS_PER_STACK;

export const LAYOUT_DESCRIPTION =
  `N / ${NODES_PER_STACK} stacks, each with ${GROUPS_PER_STACK} Redis 7.0 replication groups of ${NODES_PER_GROUP} nodes ` +
  '(1 primary + 4 replicas, sentinels on three, shipped defaults) in an imported VPC of three private subnets';

export const ENGINE = CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 });

export const ZONES = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];
export const PRIVATE_SUBNETS = [
  { id: 'subnet-0a000000000000001', cidr: '10.0.16.0/20' },
  { id: 'subnet-0a000000000000002', cidr: '10.0.32.0/20' },
  { id: 'subnet-0a000000000000003', cidr: '10.0.48.0/20' },
];

/** The number of stacks for `nodes` nodes. */
export function stackCount(nodes: number): number {
  if (!Number.isInteger(nodes) || nodes <= 0 || nodes % NODES_PER_STACK !== 0) {
    throw new Error(`the synth benchmark lays out nodes by ${NODES_PER_STACK}, got: ${nodes}`);
  }
  return nodes / NODES_PER_STACK;
}

/** The VPC every stack imports. */
export function importedVpc(stack: Stack): ec2.IVpc {
  return ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0a000000000000000',
    vpcCidrBlock: '10.0.0.0/16',
    availabilityZones: ZONES,
    privateSubnetIds: PRIVATE_SUBNETS.map((subnet) => subnet.id),
    privateSubnetIpv4CidrBlocks: PRIVATE_SUBNETS.map((subnet) => subnet.cidr),
  });
}

/** Group g of a stack takes addresses from this offset in each subnet (the groups never overlap). */
export function addressOffset(group: number): number {
  return 16 + 16 * group;
}
