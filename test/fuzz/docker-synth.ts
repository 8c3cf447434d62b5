import fc from 'fast-check';
import { FleetConstruct } from './core-arbitraries';
import { dockerFleetProps } from './docker-arbitraries';
import { containerCount, settleDocker, volumeCount } from './docker-model';
import { fleetSize } from './fleet-model';
import { attempt, expectAccepted, expectRefusal, Tally, withPlainStackTraces } from './outcome';
import { makeProps, overrule } from './picks';
import { fleetName } from '../../src/core/topology';
import { CacheCluster, ReplicationGroup } from '../../src/docker';
import { dockerStack, synthJson } from '../docker/synth';

/**
 * Bad input, full synths of the Docker flavor: random props, each draw either a
 * whole Terraform configuration — a container per node and per sentinel — or a ValidationError
 * naming a prop drawn wrong, with nothing declared. Seeded: a failure prints its counterexample.
 * One test file per construct, so that jest runs them side by side.
 */

const SEED = 20261127;
export const MIN_SYNTHS = 200;
/** One value in 1 + 2 × VALID_WEIGHT is drawn invalid, prop by prop. */
const VALID_WEIGHT = 60;

const CREATE: Record<FleetConstruct, (scope: any, props: any) => unknown> = {
  // With the opt-in outputs, which must synthesize for every accepted prop set too.
  ReplicationGroup: (scope, props) => new ReplicationGroup(scope, 'Fleet', props).addOutputs(),
  CacheCluster: (scope, props) => new CacheCluster(scope, 'Fleet', props).addOutputs(),
};

/** What a run of draws gave: how many were built and refused, and how many built were cluster-mode groups. */
export interface DockerFuzzOutcome {
  readonly tally: Tally;
  readonly clusterBuilt: number;
}

/** Draws `runs` prop sets of the construct; returns how many were built and refused. */
export function fuzzDocker(construct: FleetConstruct, runs: number): DockerFuzzOutcome {
  const tally = new Tally();
  let clusterBuilt = 0;
  withPlainStackTraces(() => fc.assert(
    fc.property(dockerFleetProps(construct, VALID_WEIGHT), (draw) => {
      const stack = dockerStack();
      let props: Record<string, any> | undefined;
      const outcome = attempt(() => {
        props = makeProps(draw, stack);
        return CREATE[construct](stack, props);
      });
      const settled = props ? overrule(draw, settleDocker(construct, draw, props)) : draw;
      if ('refused' in outcome) {
        tally.count(expectRefusal(outcome.refused, settled));
        expect(stack.node.tryFindChild('Fleet')?.node.children ?? []).toHaveLength(0);
        return;
      }
      expectAccepted(settled);
      const size = fleetSize(construct, settled, props!)!;
      const json = synthJson(stack);
      // The node containers, and one bundle container with the fleet volume it publishes on; the data
      // volumes, spare ones included when retained.
      const all = Object.values<any>(json.resource.docker_container);
      const containers = all.filter((container) => container.network_mode !== 'none');
      expect(all.filter((container) => container.network_mode === 'none').map((container) => container.name)).toEqual([`${fleetName('Fleet')}-bundle`]);
      expect(containers).toHaveLength(containerCount(size));
      expect(Object.keys(json.resource.docker_volume ?? {})).toHaveLength(volumeCount(construct, size, props!));
      expect(Object.keys(json.resource.docker_network)).toHaveLength(1);
      expect(new Set(containers.map((container) => container.networks_advanced[0].ipv4_address)).size).toBe(containers.length);
      expect(Object.keys(json.output).length).toBeGreaterThanOrEqual(3);
      if (size.shards !== undefined) {
        // A cluster-mode group: no sentinel, the data port only (never the bus port), and each node
        // in the host address map when published.
        clusterBuilt++;
        expect(containers.filter((container) => container.command[1] !== 'redis')).toEqual([]);
        for (const container of containers) expect((container.ports ?? []).length).toBeLessThanOrEqual(1);
        const published = containers.filter((container) => container.ports !== undefined);
        expect(Object.keys(json.output[`${fleetName('Fleet')}_host_address_map`].value)).toHaveLength(published.length);
        expect(json.output[`${fleetName('Fleet')}_shards`].value).toHaveLength(size.shards);
      }
      tally.count();
    }),
    { seed: SEED, numRuns: runs },
  ));
  return { tally, clusterBuilt };
}
