// `cachefleet/docker`: the Docker flavor with the engine-neutral types beside it, so that a CDK for
// Terraform app imports from one place and its compilation never reaches the AWS flavor's
// declarations (and aws-cdk-lib, which it does not install).
export * from './core-entry';
export * from './docker';
