import { fuzzAws, MIN_SYNTHS } from './aws-synth';

/** Enough draws for at least MIN_SYNTHS whole templates with the seed. */
const RUNS = 600;

describe('aws.ReplicationGroup with random props', () => {
  test(`${RUNS} draws: a whole template, or a ValidationError naming a prop drawn wrong and nothing created`, () => {
    const tally = fuzzAws('ReplicationGroup', RUNS);
    expect(tally.built).toBeGreaterThanOrEqual(MIN_SYNTHS);
    expect(tally.refused).toBeGreaterThan(RUNS / 10);
  });
});
