import { App, AssetStaging, Stack } from 'aws-cdk-lib';
import { addressOffset, ENGINE, GROUPS_PER_STACK, importedVpc, NODES_PER_GROUP, stackCount } from './fleet-layout';
import { ReplicationGroup } from '../../src/aws';

/** `nodes` nodes as cachefleet's ReplicationGroups, laid out as fleet-layout.ts says. */
export function cachefleetApp(nodes: number, outdir: string): App {
  const app = new App({ outdir });
  for (let s = 0; s < stackCount(nodes); s++) {
    const stack = new Stack(app, `Fleets${s}`);
    const vpc = importedVpc(stack);
    for (let g = 0; g < GROUPS_PER_STACK; g++) {
      new ReplicationGroup(stack, `Group${g}`, {
        vpc,
        engine: ENGINE,
        replicasPerShard: NODES_PER_GROUP - 1,
        nodeAddressOffset: addressOffset(g),
      });
    }
  }
  return app;
}

/**
 * The bundle directory of each group of a stack, as cachefleet renders it: the hand-written
 * version ships the same files, as if they were kept in its repository.
 */
export function cachefleetBundleDirectories(outdir: string): string[] {
  const app = cachefleetApp(GROUPS_PER_STACK * NODES_PER_GROUP, outdir);
  const stack = app.node.children.find((child) => child instanceof Stack)!;
  return Array.from({ length: GROUPS_PER_STACK }, (_, g) => {
    const staging = stack.node.findChild(`Group${g}`).node.findChild('Bundle').node.findChild('Stage') as AssetStaging;
    return staging.sourcePath;
  });
}
