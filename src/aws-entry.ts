// `cachefleet/aws`: the AWS flavor with the engine-neutral types beside it, so that an AWS CDK app
// imports from one place and its compilation never reaches the Docker flavor's declarations (and
// cdktf, which it does not install).
export * from './core-entry';
export * from './aws';
