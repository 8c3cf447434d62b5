import { fuzzAws, MIN_SYNTHS } from './aws-synth';

/** Enough draws for at least MIN_SYNTHS whole templates with the seed (a Memcached draw with an AUTH token is refused). */
const RUNS = 800;

describe('aws.CacheCluster with random props', () => {
  test(`${RUNS} draws: a whole template, or a ValidationError naming a prop drawn wrong and nothing created`, () => {
    const tally = fuzzAws('CacheCluster', RUNS);
    expect(tally.built).toBeGreaterThanOrEqual(MIN_SYNTHS);
    expect(tally.refused).toBeGreaterThan(RUNS / 10);
  });
});
