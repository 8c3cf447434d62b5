export * from './auth-token';
export * from './cache-cluster';
export * from './container-options';
export * from './endpoint';
export * from './removal-policy';
export * from './replication-group';
export * from './restart-policy';
export * from './shard-endpoints';
