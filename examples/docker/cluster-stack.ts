// The Docker example's cluster-mode group, in a stack of its own: `main.ts` synthesizes it beside
// CacheFleetsStack, and the behaviour test (test/integ/docker-cluster.test.ts) runs what it synthesizes.
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { CacheEngine, ClusterMode, RedisEngineVersion } from '../../src';
import * as cache from '../../src/docker';

export interface ClusterFleetStackProps {
  /**
   * The cluster's engine: Redis or Valkey, any version that has Cluster.
   *
   * @default - Redis 7.2
   */
  readonly engine?: CacheEngine;

  /**
   * The cluster's shards (node groups). A later apply with another count moves the hash slots with
   * their keys: to the new shards, or off the shards that go, before their nodes stop.
   *
   * @default 3
   */
  readonly shards?: number;

  /**
   * The replicas of each shard. A later apply with another count adds them to every shard or
   * removes them (a removed replica the cluster had promoted hands its shard back first).
   *
   * @default 1
   */
  readonly replicasPerShard?: number;
}

export class ClusterFleetStack extends TerraformStack {
  public readonly orders: cache.ReplicationGroup;

  constructor(scope: Construct, id: string, props: ClusterFleetStackProps = {}) {
    super(scope, id);
    new DockerProvider(this, 'docker');

    // A Redis Cluster of 3 shards (by default), each a primary and a replica: the 16,384 hash slots split in
    // three, no sentinels (the engine fails a shard over itself). On a subnet of its own, published
    // on 127.0.0.1:6400-6417 (six ports per shard: one for each node a shard can have); the cluster
    // bus stays inside the network. The AUTH token comes from the sensitive variable
    // `orders_auth_token` (TF_VAR_orders_auth_token).
    this.orders = new cache.ReplicationGroup(this, 'Orders', {
      engine: props.engine ?? CacheEngine.redis({ version: RedisEngineVersion.VER_7_2 }),
      clusterMode: ClusterMode.ENABLED,
      shards: props.shards ?? 3,
      replicasPerShard: props.replicasPerShard ?? 1,
      subnetCidr: '172.28.2.0/24',
      memoryLimitMiB: 256,
    });

    // The configuration endpoint, the shards and the host address map (ioredis Cluster's natMap).
    this.orders.addOutputs();
  }
}
