import { Testing } from 'cdktf';
import { dockerStack } from './synth';
import { CacheEngine, MemcachedEngineVersion, RedisEngineVersion, ValkeyEngineVersion } from '../../src/core/engine';
import { ParameterGroup } from '../../src/core/parameters/parameter-group';
import { Persistence } from '../../src/core/persistence';
import { CacheCluster, ReplicationGroup, RestartPolicy } from '../../src/docker';

/**
 * Bad input (verification.md): a few hundred full synths per construct from props drawn at random
 * from valid and invalid values. Each either synthesizes or throws a ValidationError naming a prop;
 * never a TypeError, never a half-built stack. Seeded: a failure names its seed and is replayed.
 */
/** Park-Miller's minimal standard generator: seeded, reproducible, no dependency. */
function parkMiller(seed: number): () => number {
  let state = seed % 2147483647;
  return () => {
    state = (state * 48271) % 2147483647;
    return (state - 1) / 2147483646;
  };
}

const ENGINES = [
  CacheEngine.redis({ version: RedisEngineVersion.VER_7_0 }),
  CacheEngine.redis({ version: RedisEngineVersion.VER_7_2 }),
  CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 }),
  CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 }),
];
/** [valid values (undefined: unset), invalid values] per prop: each draw is invalid with probability 1/12. */
const CHOICES: Record<string, [unknown[], unknown[]]> = {
  replicasPerShard: [[undefined, 0, 1, 2, 5], [6, -1, 1.5, '2', null]],
  numCacheNodes: [[undefined, 1, 3, 40], [41, 0, 2.5]],
  port: [[undefined, 6380, 11212], [26379, 0, 70000, '6379']],
  persistence: [[undefined, Persistence.none(), Persistence.aofEverySecond(), Persistence.rdb()], ['aof']],
  authUsername: [[undefined, 'app', 'svc_1'], ['default', 'cachefleet-replication', 'a b', '']],
  subnetCidr: [[undefined, '10.0.0.0/24', '10.0.0.0/26'], ['10.0.0.0/29', '10.0.0.1/24', 'nope', 5]],
  memoryLimitMiB: [[undefined, 32, 256, 4096], [31, 1.5, -1, '256']],
  cpus: [[undefined, 0.5, 2], [0, -1, 2000, Number.NaN]],
  publishPorts: [[undefined, true, false], ['no']],
  hostAddress: [[undefined, '127.0.0.1', '0.0.0.0'], ['::1', 'localhost', '1.2.3']],
  hostPortBase: [[undefined, 16379, 30000], [65535, 0, 1.5]],
  restartPolicy: [[undefined, RestartPolicy.ALWAYS, RestartPolicy.NO], ['often']],
  authToken: [[undefined], ['literal-token-123456']],
};

function draw(random: () => number, memcachedParams: boolean): Record<string, unknown> {
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
  const props: Record<string, unknown> = {};
  const engine = random() < 1 / 12 ? pick(['redis', undefined]) : pick(ENGINES);
  if (engine !== undefined) props.engine = engine;
  for (const [name, [valid, invalid]] of Object.entries(CHOICES)) {
    const value = random() < 1 / 12 ? pick(invalid) : pick(valid);
    if (value !== undefined) props[name] = value;
  }
  if (random() < 0.2 && engine instanceof CacheEngine) {
    props.parameterGroup = new ParameterGroup(dockerStack(), 'P', {
      engine: memcachedParams ? CacheEngine.memcached({ version: MemcachedEngineVersion.VER_1_6 }) : engine,
    });
  }
  return props;
}

describe.each([
  ['ReplicationGroup', (scope: any, props: any) => new ReplicationGroup(scope, 'Group', props)],
  ['CacheCluster', (scope: any, props: any) => new CacheCluster(scope, 'Cluster', props)],
])('docker.%s with random props', (_name, create) => {
  test('300 synths: a template or a ValidationError naming a prop, nothing else', () => {
    const seed = 20261126;
    const random = parkMiller(seed);
    let synthesized = 0;
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const props = draw(random, random() < 0.1);
      const stack = dockerStack();
      let error: unknown;
      try {
        create(stack, props);
      } catch (caught) {
        error = caught;
      }
      if (error === undefined) {
        const json = JSON.parse(Testing.synth(stack));
        expect(Object.keys(json.resource.docker_container).length).toBeGreaterThan(0);
        synthesized++;
      } else {
        const e = error as Error & { propPath?: string };
        if (e.name !== 'ValidationError') throw new Error(`seed ${seed}, draw ${i}: ${e.name}: ${e.message}`);
        expect(e.message).toMatch(/^`[A-Za-z.-]+` /);
        expect(JSON.stringify(JSON.parse(Testing.synth(stack)).resource ?? {})).not.toContain('docker_container');
        refused++;
      }
    }
    console.log(`${_name}: ${synthesized} synthesized, ${refused} refused`);
    // Both outcomes are exercised.
    expect(synthesized).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});
