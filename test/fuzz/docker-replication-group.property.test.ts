import { fuzzDocker, MIN_SYNTHS } from './docker-synth';

/**
 * Enough draws for at least MIN_SYNTHS whole configurations with the seed.
 */
const RUNS = 600;

test(`docker.ReplicationGroup: ${RUNS} random prop sets, each a whole configuration or a ValidationError naming a prop drawn wrong`, () => {
  const { tally, clusterBuilt } = fuzzDocker('ReplicationGroup', RUNS);
  expect(tally.built).toBeGreaterThanOrEqual(MIN_SYNTHS);
  expect(tally.refused).toBeGreaterThan(RUNS / 10);
  // Cluster mode enabled among them: the shard count against the subnet and the host ports.
  expect(clusterBuilt).toBeGreaterThanOrEqual(MIN_SYNTHS / 10);
});
