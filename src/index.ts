// The root namespace: the engine-neutral types both flavors take.
export * from './core/engine';
export * from './core/persistence';
export * from './core/fleet-options';
export * from './core/parameters/parameter-group';

// The flavors, each in its namespace: `aws` (aws-cdk-lib) and `docker` (cdktf + provider-docker).
export * as aws from './aws';
export * as docker from './docker';
