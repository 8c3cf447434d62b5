// The AWS flavor: fleets on EC2 node slots, deployed with the AWS CDK.
export * from './node-type';
export * from './endpoint';
export * from './shard-endpoints';
export * from './fleet';
export * from './cache-fleet-base';
export * from './replication-group';
export * from './cache-cluster';
export * from './backup-source';
