import { MAX_CLUSTER_NODES } from './aws-model';
import { fuzzAwsCluster, MIN_SYNTHS } from './aws-synth';
import { maxClusterShards } from '../../src/aws/private/capacity';

/** Enough draws for MIN_SYNTHS / 2 whole cluster-mode templates with the seed (each has 9 to 39 nodes). */
const RUNS = 250;

describe('aws.ReplicationGroup in cluster mode with random props', () => {
  test('the model\'s most nodes is the flavor\'s', () => {
    for (const replicas of [0, 1, 2, 3, 4, 5]) expect(maxClusterShards(replicas)).toBe(Math.floor(MAX_CLUSTER_NODES / (1 + replicas)));
  });

  test(`${RUNS} draws: a whole template within one stack, or a ValidationError naming a prop drawn wrong (shards past the stack's limit among them) and nothing created`, () => {
    const tally = fuzzAwsCluster(RUNS);
    expect(tally.built).toBeGreaterThanOrEqual(MIN_SYNTHS / 2);
    expect(tally.refused).toBeGreaterThan(RUNS / 10);
    // The flavor's own limit was met and refused.
    expect(tally.paths.get('shards') ?? 0).toBeGreaterThan(0);
  });
});
