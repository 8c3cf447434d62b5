// The renderers: pure functions from a FleetPlan to the files of the node agent's bundle.
// Internal to core and the flavors; not exported from the package root.
export * from './bundle';
export * from './bundle-files';
export * from './env-files';
export * from './live-parameters';
export * from './memcached-args';
export * from './placeholders';
export * from './plan-facts';
export * from './redis-conf';
export * from './redis-node-conf';
export * from './sentinel-conf';
export * from './users-acl';
