/**
 * How large a cluster-mode group one CloudFormation stack holds. Two of AWS's limits grow with the
 * nodes: a stack's resources (500: 118 nodes) and the size of the nodes' role's inline policies
 * (10,240 characters: 39 nodes), which name each node's volume and interface by ARN, not by tag
 * (tags can be changed). The second binds: 39 nodes, such as 19 shards of 1 + 1 or 39 of one node.
 * test/aws/capacity.test.ts synthesizes the largest accepted groups and measures both.
 */

/** CloudFormation: the most resources in one stack. */
export const STACK_RESOURCE_LIMIT = 500;

/**
 * What each data node's slot (NodeSlot) creates: its data volume, its network interface, its auto
 * scaling group and its record.
 */
export const RESOURCES_PER_NODE = 4;

/**
 * What a cluster-mode group creates beside its slots, at most: the security group and its two
 * node-to-node rules (the engine's port, the cluster bus), the AUTH token's, the internal and the
 * admin secrets, the hosted zone, the bundle-location and pinned-image parameters, the role, its
 * instance profile and default policy, the launch template, the node policy, the configuration
 * association and the configuration record; and its backups': the bucket, its policy, the
 * nodes' backup policy, the backup document and the backup location's parameter, the volumes' backup vault, plan, selection and the
 * selection's role.
 */
export const CLUSTER_FIXED_RESOURCES = 25;

/** IAM: the inline policies of one role hold at most this many characters, whitespace excluded. */
export const ROLE_INLINE_POLICY_LIMIT = 10_240;

/**
 * The characters each node adds to the role's inline policies at most: its interface's ARN
 * (`"arn:aws-us-gov:ec2:<region>:<account>:network-interface/eni-<17 hex>",`) and its volume's
 * (`"arn:aws-us-gov:ec2:<region>:<account>:volume/vol-<17 hex>",`), with the longest partition and
 * region names.
 */
export const POLICY_CHARACTERS_PER_NODE = 170;

/**
 * The characters of the role's inline policies that do not grow with the nodes, at most: the node
 * policy's other statements and the default policy (the secrets, the parameters, the stack's
 * signal), with the longest partition, region and generated names. The backups' statements are in a
 * managed policy of their own (FleetBackups.grantNodes), outside this limit.
 */
export const POLICY_FIXED_CHARACTERS = 3_600;

/** The most nodes of a cluster-mode group one stack holds. */
export function maxClusterNodes(): number {
  return Math.min(
    Math.floor((STACK_RESOURCE_LIMIT - CLUSTER_FIXED_RESOURCES) / RESOURCES_PER_NODE),
    Math.floor((ROLE_INLINE_POLICY_LIMIT - POLICY_FIXED_CHARACTERS) / POLICY_CHARACTERS_PER_NODE),
  );
}

/** The most shards of `replicasPerShard` replicas each that one stack holds. */
export function maxClusterShards(replicasPerShard: number): number {
  return Math.floor(maxClusterNodes() / (1 + replicasPerShard));
}
