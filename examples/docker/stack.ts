// The Docker example's fleets, declared once: `main.ts` synthesizes them for `cdktf synth`, and the
// behaviour test (test/integ/docker-fleet.test.ts) runs what this stack synthesizes.
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { CacheEngine, MemcachedEngineVersion, ParameterGroup, RedisEngineVersion } from '../../src';
import * as cache from '../../src/docker';

export interface CacheFleetsStackProps {
  /**
   * The Redis version of the replication group.
   *
   * @default RedisEngineVersion.VER_7_2
   */
  readonly redisVersion?: RedisEngineVersion;
}

export class CacheFleetsStack extends TerraformStack {
  public readonly sessions: cache.ReplicationGroup;
  public readonly pages: cache.CacheCluster;

  constructor(scope: Construct, id: string, props: CacheFleetsStackProps = {}) {
    super(scope, id);
    // The app configures the provider; cachefleet's constructs never create it.
    new DockerProvider(this, 'docker');

    const redis = CacheEngine.redis({ version: props.redisVersion ?? RedisEngineVersion.VER_7_2 });
    // A primary and two replicas, three sentinels (quorum 2), AOF every second, daily backups, on the /24 of
    // 172.16.0.0/16 that a hash of its construct path picks.
    // The AUTH token comes from the sensitive variable `sessions_auth_token` (TF_VAR_sessions_auth_token).
    this.sessions = new cache.ReplicationGroup(this, 'Sessions', {
      engine: redis,
      replicasPerShard: 2,
      parameterGroup: new ParameterGroup(this, 'SessionParams', {
        engine: redis,
        parameters: { 'maxmemory-policy': 'allkeys-lru' },
      }),
      memoryLimitMiB: 256,
      hostPortBase: 16379,
      // One backup set a day between 03:00 and 04:00 UTC, the last 7 kept, in a folder of the host;
      // `docker exec sessions-node-0 cachefleet-launch backup <name>` takes one on demand.
      snapshotRetentionLimit: 7,
      backupPath: '/var/backups/cachefleet/sessions',
    });

    // Three Memcached nodes on a subnet of their own, published on 127.0.0.1:11300-11302 (the
    // default block of a Memcached fleet, 11300-11339: one port for each node it can have).
    this.pages = new cache.CacheCluster(this, 'Pages', {
      engine: CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 }),
      numCacheNodes: 3,
      subnetCidr: '172.28.1.0/24',
      memoryLimitMiB: 128,
    });

    // Outputs are opt-in: these print the fleets' addresses after `terraform apply`.
    this.sessions.addOutputs();
    this.pages.addOutputs();
  }
}
