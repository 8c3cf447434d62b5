import fc from 'fast-check';
import { ENGINES, REDIS_LIKE, UNCATALOGED_ENGINES } from './engines';
import { parameterGroups } from './parameter-arbitraries';
import { constants, depends, Draw, invalid, made, mix, Pick, Tokens, valid } from './picks';
import { CacheEngine } from '../../src/core/engine';
import { ClusterMode } from '../../src/core/fleet-options';
import { Persistence } from '../../src/core/persistence';
import { INTERNAL_USERS } from '../../src/core/validation';

/** Not engines at all: the engine prop is required, so leaving it out is wrong too. */
const NOT_ENGINES = [undefined, 'redis', 'valkey8', null, {}, 7, { engineType: 'redis', engineVersion: '7.0.15' }];

export type FleetConstruct = 'ReplicationGroup' | 'CacheCluster';

/** The engine: any catalogued one for a cache cluster, Redis or Valkey for a replication group. */
export function engines(construct: FleetConstruct, validWeight: number): fc.Arbitrary<Pick> {
  // A cache cluster of Redis or Valkey has one node: Memcached half the time gives its node count a chance.
  const accepted = construct === 'ReplicationGroup'
    ? fc.constantFrom(...REDIS_LIKE)
    : fc.oneof(fc.constant(ENGINES.memcached16), fc.constantFrom(...REDIS_LIKE));
  const refused = construct === 'ReplicationGroup' ? [ENGINES.memcached16, ...UNCATALOGED_ENGINES] : UNCATALOGED_ENGINES;
  return fc.oneof(
    { arbitrary: accepted.map((engine) => valid(engine, engineLabel(engine))), weight: validWeight },
    { arbitrary: fc.constantFrom(...refused).map((engine) => invalid(engine, engineLabel(engine))), weight: 1 },
    { arbitrary: constants('invalid', NOT_ENGINES), weight: 1 },
  );
}

function engineLabel(engine: CacheEngine): string {
  return `${engine.engineType} ${engine.engineVersion}`;
}

/** Values every number prop is refused: wrong types, non-finite numbers, a token. */
function notNumbers(tokens: Tokens): fc.Arbitrary<Pick> {
  return fc.oneof(
    constants('invalid', [null, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '6', '', true, {}, [3]]),
    fc.constant(null).map(() => invalid(tokens.number(), 'a number token')),
  );
}

/**
 * An integer prop from `min` to `max`: boundaries, the values inside, and just outside. Values up
 * to `typical` are drawn most: a fleet's size sets the cost of its synth.
 */
export function integerProp(min: number, max: number, tokens: Tokens, validWeight: number, typical = max): fc.Arbitrary<Pick> {
  const outside = (n: number) => !(Number.isInteger(n) && n >= min && n <= max);
  return mix(
    fc.oneof(
      { arbitrary: fc.constantFrom(min, max), weight: 1 },
      { arbitrary: fc.integer({ min, max: typical }), weight: 4 },
      { arbitrary: fc.integer({ min, max }), weight: 1 },
    ).map((n) => valid(n)),
    fc.oneof(
      fc.constantFrom(min - 1, max + 1, min + 0.5, -0, Number.MAX_SAFE_INTEGER, -1).filter(outside).map((n) => invalid(n)),
      fc.double({ noNaN: true }).filter(outside).map((n) => invalid(n)),
      notNumbers(tokens),
    ),
    validWeight,
  );
}

/** The engine port: the Sentinel port is only refused when the fleet fails over. */
export function ports(tokens: Tokens, validWeight: number): fc.Arbitrary<Pick> {
  return fc.oneof(
    { arbitrary: integerProp(1, 65535, tokens, validWeight), weight: 8 },
    { arbitrary: fc.constant(depends(26379)), weight: 1 },
  );
}

export function persistences(validWeight: number): fc.Arbitrary<Pick> {
  const kinds = [
    ['none', Persistence.none()],
    ['rdb', Persistence.rdb()],
    ['rdb 900 1', Persistence.rdb({ saveRules: '900 1' })],
    ['aof everysec', Persistence.aofEverySecond()],
    ['aof always', Persistence.aofAlways()],
  ] as const;
  return mix(
    // Memcached keeps nothing on disk, and a parameter group may set persistence too: the model decides.
    fc.constantFrom(...kinds).map(([label, persistence]) => made('depends', label, () => persistence, ['persistence', 'parameterGroup.parameters.*'])),
    constants('invalid', ['aof', 'none', null, 1, { mode: 'aof' }]),
    validWeight,
  );
}

const USERNAME = /^[A-Za-z0-9_-]{1,64}$/;
const RESERVED_USERS: readonly string[] = ['default', ...Object.values(INTERNAL_USERS)];

/** Whether a user name is one a fleet accepts (`authUsername`'s rule). */
function acceptedUser(name: string): boolean {
  return USERNAME.test(name) && !RESERVED_USERS.includes(name);
}

export function usernames(tokens: Tokens, validWeight: number): fc.Arbitrary<Pick> {
  const judged = (name: string) => (acceptedUser(name) ? valid(name) : invalid(name));
  return mix(
    fc.oneof(
      fc.constantFrom('app', 'a', 'svc_1', 'Orders-API', 'x'.repeat(64)),
      fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
    ).map(judged),
    fc.oneof(
      fc.constantFrom('', 'default', ...Object.values(INTERNAL_USERS), 'my app', 'app@host', 'ünïcode', 'x'.repeat(65), 'app\n').map(judged),
      fc.string({ maxLength: 70, unit: 'binary' }).map(judged),
      constants('invalid', [null, 42, {}, ['app']]),
      fc.constant(null).map(() => invalid(tokens.string(), 'a string token')),
    ),
    validWeight,
  );
}

/** Cluster mode: unset or either member; anything else is refused. */
export function clusterModes(validWeight: number): fc.Arbitrary<Pick> {
  return fc.oneof(
    // Unset most often, so that replication groups keep most of the draws; Memcached refuses ENABLED.
    { arbitrary: fc.constant(valid(undefined, 'unset')), weight: validWeight * 2 },
    { arbitrary: fc.constantFrom(ClusterMode.DISABLED, ClusterMode.ENABLED).map((mode) => depends(mode, `ClusterMode.${mode}`)), weight: validWeight },
    { arbitrary: constants('invalid', ['ENABLED ', 'enabled', true, 1, null, {}]), weight: 1 },
  );
}

/**
 * The shard count: whether a whole number from 1 to 500 is accepted depends on the cluster mode (at
 * least 3 with it, unset or 1 without), so those are `depends`; shapes no mode accepts are invalid.
 * Up to 6 shards are drawn most: the shard count sets the cost of a synth.
 */
export function shards(tokens: Tokens, validWeight: number): fc.Arbitrary<Pick> {
  const outside = (n: number) => !(Number.isInteger(n) && n >= 1 && n <= 500);
  const counts = fc.oneof({ arbitrary: fc.integer({ min: 1, max: 6 }), weight: 6 }, { arbitrary: fc.constantFrom(2, 3, 500), weight: 1 });
  return fc.oneof(
    { arbitrary: fc.constant(valid(undefined, 'unset')), weight: validWeight * 2 },
    { arbitrary: counts.map((n) => depends(n)), weight: validWeight },
    { arbitrary: fc.constantFrom(0, -1, 501, 3.5, Number.MAX_SAFE_INTEGER).filter(outside).map((n) => invalid(n)), weight: 1 },
    { arbitrary: notNumbers(tokens), weight: 1 },
  );
}

/**
 * The props every fleet takes (CacheFleetOptions and its construct's own), drawn together; the
 * parameter group is made in the draw's scope.
 */
export function fleetOptions(construct: FleetConstruct, tokens: Tokens, validWeight: number): fc.Arbitrary<Draw> {
  const common = {
    engine: engines(construct, validWeight),
    parameterGroup: parameterGroups(tokens, validWeight),
    port: ports(tokens, validWeight),
    persistence: persistences(validWeight),
    authUsername: usernames(tokens, validWeight),
  };
  return construct === 'ReplicationGroup'
    ? fc.record({
      ...common,
      replicasPerShard: integerProp(0, 5, tokens, validWeight),
      clusterMode: clusterModes(validWeight),
      shards: shards(tokens, validWeight),
    })
    : fc.record({ ...common, numCacheNodes: integerProp(1, 40, tokens, validWeight, 6) });
}
