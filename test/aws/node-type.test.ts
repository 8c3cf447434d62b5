import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { NodeType } from '../../src/aws';

describe('NodeType', () => {
  test('of: an ElastiCache name maps to its EC2 instance type', () => {
    const nodeType = NodeType.of('cache.r7g.large');
    expect(nodeType.nodeTypeName).toBe('cache.r7g.large');
    expect(nodeType.instanceType.toString()).toBe('r7g.large');
    expect(nodeType.instanceType.architecture).toBe(ec2.InstanceArchitecture.ARM_64);
  });

  test('fromInstanceType', () => {
    const nodeType = NodeType.fromInstanceType(ec2.InstanceType.of(ec2.InstanceClass.M7I, ec2.InstanceSize.LARGE));
    expect(nodeType.toString()).toBe('cache.m7i.large');
    expect(nodeType.instanceType.architecture).toBe(ec2.InstanceArchitecture.X86_64);
  });

  test.each([
    ['r7g.large', '`nodeType` must be an ElastiCache node type such as "cache.r7g.large" (`cache.` then an EC2 instance type), got: "r7g.large"'],
    ['cache.', '`nodeType` must be an ElastiCache node type such as "cache.r7g.large" (`cache.` then an EC2 instance type), got: "cache."'],
    ['cache.R7G.LARGE', '`nodeType` must be an ElastiCache node type such as "cache.r7g.large" (`cache.` then an EC2 instance type), got: "cache.R7G.LARGE"'],
  ])('of(%j) is refused', (name, message) => {
    expect(() => NodeType.of(name)).toThrow(message);
  });
});
