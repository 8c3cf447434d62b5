import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { CacheEngine, RedisEngineVersion, ValkeyEngineVersion } from '../../src/core/engine';
import { ValidationError } from '../../src/core/errors';
import { FailureDetection } from '../../src/core/fleet-options';
import { renderSentinelConf } from '../../src/core/render/sentinel-conf';
import { planFleet, SENTINEL_DEFAULTS, SlotPosition } from '../../src/core/topology';
import { validateCacheClusterOptions, validateReplicationGroupOptions } from '../../src/core/validation';
import * as docker from '../../src/docker';

const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });
const addressOf = (position: SlotPosition) => `10.0.${position.zoneIndex}.${10 + position.indexInZone}`;

function plan(extra: object = {}) {
  const fleet = validateReplicationGroupOptions({ engine: valkey, replicasPerShard: 2, ...extra });
  return planFleet({ name: 'sessions', fleet, zoneCount: 3, addressOf });
}

describe('failureDetection', () => {
  test('default: a 5 s silence timeout, which a 2 s stall stays well within', () => {
    // WHEN
    const p = plan();

    // THEN
    expect(p.sentinel!.downAfterMillis).toBe(5000);
    expect(renderSentinelConf(p).split('\n')).toContain('sentinel down-after-milliseconds sessions 5000');
    // Twice the stall it must ride out, plus Sentinel's one-second ping period.
    expect(SENTINEL_DEFAULTS.downAfterMillis[FailureDetection.STALL_TOLERANT]).toBeGreaterThanOrEqual(2 * 2000 + 1000);
  });

  test('STALL_TOLERANT given explicitly is the default', () => {
    expect(plan({ failureDetection: FailureDetection.STALL_TOLERANT }).sentinel).toEqual(plan().sentinel);
  });

  test('FAST: a 1 s silence timeout', () => {
    // WHEN
    const p = plan({ failureDetection: FailureDetection.FAST });

    // THEN
    expect(p.sentinel!.downAfterMillis).toBe(1000);
    expect(renderSentinelConf(p).split('\n')).toContain('sentinel down-after-milliseconds sessions 1000');
  });

  test.each([
    ['a name that is not a setting', 'SLOW'],
    ['a number of milliseconds', 3000],
    ['lower case', 'fast'],
  ])('refuses %s with a ValidationError naming the prop, the value and the settings', (_, value) => {
    const attempt = () => validateReplicationGroupOptions({ engine: valkey, failureDetection: value as unknown as FailureDetection });
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(
      `\`failureDetection\` must be one of FailureDetection.STALL_TOLERANT, FailureDetection.FAST, got: ${JSON.stringify(value)}`,
    );
  });

  test('a cache cluster does not fail over and takes no such prop', () => {
    const fleet = validateCacheClusterOptions({ engine: CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 }) });
    expect(fleet.failover).toBe(false);
  });

  test('the Docker flavor passes it to the sentinels it deploys', () => {
    // GIVEN
    const sentinelConfs = (failureDetection?: FailureDetection) => {
      const app = Testing.app();
      const stack = new TerraformStack(app, 'detection');
      new DockerProvider(stack, 'docker');
      new docker.ReplicationGroup(stack, 'Sessions', { engine: valkey, replicasPerShard: 2, failureDetection });
      const containers = Object.values(JSON.parse(Testing.synth(stack)).resource.docker_container) as any[];
      return containers.flatMap((c) => (c.upload ?? []).filter((u: any) => u.file.endsWith('/sentinel.conf')).map((u: any) => String(u.content)));
    };

    // THEN
    // One upload, the bundle container's: it publishes the bundle every sentinel starts from.
    const fast = sentinelConfs(FailureDetection.FAST);
    expect(fast).toHaveLength(1);
    for (const conf of fast) expect(conf).toMatch(/^sentinel down-after-milliseconds \S+ 1000$/m);
    for (const conf of sentinelConfs()) expect(conf).toMatch(/^sentinel down-after-milliseconds \S+ 5000$/m);
  });
});
