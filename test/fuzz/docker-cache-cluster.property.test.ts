import { fuzzDocker, MIN_SYNTHS } from './docker-synth';

/**
 * Enough draws for at least MIN_SYNTHS whole configurations with the seed.
 * A Memcached cluster refuses persistence and AUTH tokens: more of its draws are refused.
 */
const RUNS = 900;

test(`docker.CacheCluster: ${RUNS} random prop sets, each a whole configuration or a ValidationError naming a prop drawn wrong`, () => {
  const { tally } = fuzzDocker('CacheCluster', RUNS);
  expect(tally.built).toBeGreaterThanOrEqual(MIN_SYNTHS);
  expect(tally.refused).toBeGreaterThan(RUNS / 10);
});
