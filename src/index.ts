// The root namespace: the engine-neutral types both flavors take.
export * from './core-entry';

// The flavors, each in its namespace: `aws` (aws-cdk-lib) and `docker` (cdktf + provider-docker).
// After compilation, projenrc/lazy-flavors.ts turns both into getters that load a flavor on first
// access, so `require('cachefleet')` needs only the peers of the flavor it uses. TypeScript apps
// import `cachefleet/aws` or `cachefleet/docker` instead: this file's declarations name both.
export * as aws from './aws';
export * as docker from './docker';
