import { RunnableContainer, TerraformContainers } from './terraform-json';
import { CONTAINER_PATHS } from '../../../src/docker/private/fleet';

/**
 * A Docker fleet's containers by what they are: its bundle container (which carries the rendered
 * bundle and publishes it on the fleet volume) and its node containers (data nodes and sentinels).
 */

/** Whether a container is a node (a data node or a sentinel), not a fleet's bundle container. */
export function isNode(container: RunnableContainer): boolean {
  return container.labels['cachefleet.service'] !== 'bundle';
}

/** The node containers, of one fleet when `fleet` names it. */
export function nodeContainers(containers: TerraformContainers, fleet?: string): RunnableContainer[] {
  return containers.containers.filter((c) => isNode(c) && (fleet === undefined || c.labels['cachefleet.fleet'] === fleet));
}

/** The bundle container of a fleet (of the only fleet when `fleet` is not given). */
export function bundleContainer(containers: TerraformContainers, fleet?: string): RunnableContainer {
  const found = containers.containers.filter((c) => !isNode(c) && (fleet === undefined || c.labels['cachefleet.fleet'] === fleet));
  if (found.length !== 1) throw new Error(`expected one bundle container${fleet ? ` of ${fleet}` : ''}, found ${found.map((c) => c.name).join(', ') || 'none'}`);
  return found[0];
}

/** A file of the bundle a fleet publishes (`fleet.env`, `sentinel.conf`, …), as the nodes read it. */
export function bundleFile(containers: TerraformContainers, relative: string, fleet?: string): string {
  const path = `${CONTAINER_PATHS.bundleSource}/${relative}`;
  const content = bundleContainer(containers, fleet).files[path];
  if (content === undefined) throw new Error(`the bundle has no ${relative}`);
  return content;
}
