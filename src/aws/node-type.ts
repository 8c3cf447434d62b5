import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ValidationError } from '../core/errors';

/**
 * The size of a fleet's nodes: an ElastiCache node type (`cache.r7g.large`) or an EC2 instance type.
 * Each node of the AWS flavor is an EC2 instance of this type.
 */
export class NodeType {
  /**
   * An ElastiCache node type name: `cache.` followed by an EC2 instance type, such as `cache.r7g.large`.
   *
   * @param nodeTypeName the ElastiCache node type
   */
  public static of(nodeTypeName: string): NodeType {
    const match = /^cache\.([a-z][a-z0-9-]*\.[a-z0-9]+)$/.exec(typeof nodeTypeName === 'string' ? nodeTypeName : '');
    if (!match) {
      throw new ValidationError('nodeType', nodeTypeName, 'must be an ElastiCache node type such as "cache.r7g.large" (`cache.` then an EC2 instance type)');
    }
    return new NodeType(nodeTypeName, new ec2.InstanceType(match[1]));
  }

  /**
   * An EC2 instance type, such as `ec2.InstanceType.of(ec2.InstanceClass.R7G, ec2.InstanceSize.LARGE)`.
   *
   * @param instanceType the EC2 instance type of every node
   */
  public static fromInstanceType(instanceType: ec2.InstanceType): NodeType {
    return new NodeType(`cache.${instanceType.toString()}`, instanceType);
  }

  private constructor(
    /** The ElastiCache-style name, such as `cache.r7g.large`. */
    public readonly nodeTypeName: string,
    /** The EC2 instance type the nodes run on. */
    public readonly instanceType: ec2.InstanceType,
  ) {}

  /** The ElastiCache-style name. */
  public toString(): string {
    return this.nodeTypeName;
  }
}
