import * as fs from 'fs';
import * as path from 'path';
import { App, Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { IConstruct } from 'constructs';
import { CacheEngine, MemcachedEngineVersion, RedisEngineVersion, ValkeyEngineVersion } from '../../src/core/engine';

export const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });
export const redis = CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 });
export const redis62 = CacheEngine.redis({ version: RedisEngineVersion.VER_6_2 });
export const memcached = CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 });

export const ZONES = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];

/** A stack with a VPC over three named zones: private subnets with NAT, public, isolated. */
export function testStack(zones: string[] = ZONES): { app: App; stack: Stack; vpc: ec2.Vpc } {
  const app = new App();
  const stack = new Stack(app, 'Test');
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    ipAddresses: ec2.IpAddresses.cidr('10.0.0.0/16'),
    availabilityZones: zones,
    natGateways: 1,
    subnetConfiguration: [
      { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
      { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
    ],
  });
  return { app, stack, vpc };
}

/** The template of a stack (or of its fleet's resources), asset hashes and user data masked, for snapshots. */
export function maskedTemplate(stack: Stack, fleet?: string): unknown {
  const template = Template.fromStack(stack).toJSON();
  if (fleet !== undefined) {
    // The fleet's own resources: the test stack's VPC is scaffolding a reviewer need not read.
    template.Resources = Object.fromEntries(Object.entries(template.Resources ?? {}).filter(([id]) => id.startsWith(fleet)));
  }
  const json = JSON.stringify(template, (key, value) => {
    // The user data is the fetch program with the group's values: user-data.test.ts checks it line
    // by line and runs it; in a snapshot it is a long base64 string no reviewer reads.
    if (key === 'UserData') return '<user data: src/agent/aws/fetch.sh with the group\'s values (test/aws/user-data.test.ts)>';
    if (key === 'Metadata') return undefined;
    return value;
  });
  return JSON.parse(json.replace(/[0-9a-f]{64}/g, '<asset hash>'));
}

/** Resources of a type, by logical id. */
export function resourcesOf(stack: Stack, type: string): Record<string, any> {
  return Template.fromStack(stack).findResources(type);
}

/** A file of a fleet's bundle, as staged for deployment (its `Bundle` asset). */
export function readBundleFile(fleet: IConstruct, name: string): string {
  const asset = fleet.node.findChild('Bundle') as s3assets.Asset;
  const outdir = Stage.of(fleet)!.outdir;
  return fs.readFileSync(path.join(outdir, asset.assetPath, name), 'utf8');
}
