import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { addressInCidr } from '../../src/core/addresses';
import { agentFile, agentScript } from '../../src/core/agent-script';
import { bundleDigest } from '../../src/core/render';
import { FleetPlan, fleetName, planFleet } from '../../src/core/topology';
import { ValidatedFleet } from '../../src/core/validation';
import { CONTAINER_PATHS, slotAddressIn } from '../../src/docker/private/fleet';
import { defaultSubnetCidr } from '../../src/docker/private/network';
import { terraformLiteral, terraformName } from '../../src/docker/private/terraform';

/** A stack with the Docker provider, as an app configures it. */
export function dockerStack(): TerraformStack {
  const stack = new TerraformStack(Testing.app(), 'Test');
  new DockerProvider(stack, 'docker');
  return stack;
}

/** The stack's Terraform JSON, parsed. */
export function synthJson(stack: TerraformStack): any {
  return JSON.parse(Testing.synth(stack));
}

/** The containers of a synthesized stack, by container name. */
export function containersByName(json: any): Record<string, any> {
  const result: Record<string, any> = {};
  for (const container of Object.values<any>(json.resource?.docker_container ?? {})) result[container.name] = container;
  return result;
}

/** Where the bundle container's uploads are (CONTAINER_PATHS.bundleSource), with a trailing slash. */
export const BUNDLE_SOURCE_DIR = `${CONTAINER_PATHS.bundleSource}/`;

/** The bundle container of a synthesized stack's fleet (`<fleet>-bundle`, logical ID `<fleet>_bundle`). */
export function bundleContainer(json: any, fleet: string): any {
  const container = json.resource?.docker_container?.[terraformName(fleet, 'bundle')];
  if (!container || container.name !== `${fleet}-bundle`) throw new Error(`fleet "${fleet}" has no bundle container`);
  return container;
}

/** The containers of a synthesized stack that run a slot (every one but the bundle containers), by container name. */
export function slotContainersByName(json: any): Record<string, any> {
  return Object.fromEntries(Object.entries(containersByName(json)).filter(([, container]) => !isBundleContainer(container)));
}

/** Whether a synthesized container is a fleet's bundle container (label cachefleet.service=bundle). */
export function isBundleContainer(container: any): boolean {
  return (container.labels ?? []).some((l: any) => l.label === 'cachefleet.service' && l.value === 'bundle');
}

/**
 * The synthesized JSON for a snapshot. The node agent (owned and tested elsewhere, 40 KB) and the
 * launcher (test/docker/launcher.test.ts) become markers after checking they are those files,
 * Terraform-escaped; the bundle's `restart-key` and `generation` hash the agent, so they become
 * markers too, after checking `generation` is the digest of the other uploaded files and
 * `restart-key` has its shape (its value is checked against core in replication-group.test.ts).
 * A change of the agent then leaves the snapshots alone.
 */
export function forSnapshot(json: any): any {
  const copy = JSON.parse(JSON.stringify(json));
  const agent = terraformLiteral(agentScript());
  const launcher = terraformLiteral(agentFile('docker/launch.sh'));
  for (const container of Object.values<any>(copy.resource?.docker_container ?? {})) {
    const uploads: any[] = container.upload ?? [];
    const files = Object.fromEntries(uploads.filter((u) => u.file.startsWith(BUNDLE_SOURCE_DIR))
      .map((u) => [u.file.slice(BUNDLE_SOURCE_DIR.length), terraformText(u.content)]));
    if (files.generation !== undefined) {
      const { generation, ...rest } = files;
      if (generation !== `${bundleDigest(rest).slice(0, 32)}\n`) throw new Error(`${container.name}: generation is not the digest of the uploaded bundle`);
      if (!/^[0-9a-f]{16}\n$/.test(rest['restart-key'] ?? '')) throw new Error(`${container.name}: restart-key is not a 16-digit hash`);
    }
    for (const upload of uploads) {
      const marker = (text: string, expected: string, what: string) => {
        if (upload.content !== expected) throw new Error(`${container.name}: ${upload.file} is not ${what}`);
        upload.content = text;
      };
      if (upload.file === `${BUNDLE_SOURCE_DIR}cachefleet-node`) marker('<src/agent/cachefleet-node, Terraform-escaped>', agent, 'src/agent/cachefleet-node');
      else if (upload.file === CONTAINER_PATHS.launcher) marker('<src/agent/docker/launch.sh, Terraform-escaped>', launcher, 'src/agent/docker/launch.sh');
      else if (upload.file === `${BUNDLE_SOURCE_DIR}restart-key`) upload.content = '<restart-key: 16 hex digits>';
      else if (upload.file === `${BUNDLE_SOURCE_DIR}generation`) upload.content = '<generation: the digest of the other files, 32 hex digits>';
    }
  }
  return copy;
}

/** The default subnet of a fleet with this construct id in `dockerStack()` (a hash of its path). */
export function defaultSubnet(id: string): string {
  return defaultSubnetCidr(`Test/${id}`);
}

/** Host `host` of the default subnet of a fleet with this construct id in `dockerStack()`. */
export function defaultAddress(id: string, host: number): string {
  return addressInCidr('subnet', defaultSubnet(id), host);
}

/**
 * The plan the Docker flavor makes of a fleet with this construct id in `dockerStack()`: one zone,
 * sentinels in containers of their own, the default subnet of its path unless given.
 */
export function dockerPlan(id: string, fleet: ValidatedFleet, subnetCidr: string = defaultSubnet(id)): FleetPlan {
  return planFleet({
    name: fleetName(id),
    fleet,
    zoneCount: 1,
    addressOf: slotAddressIn(subnetCidr),
    dedicatedSentinels: true,
  });
}

/**
 * The bundle a container uploads under the bundle source directory (the bundle container's: a node
 * uploads none), by path relative to it, as uploaded (Terraform-escaped).
 */
export function uploadedBundle(container: any): Record<string, string> {
  const files: Record<string, string> = {};
  for (const upload of container.upload ?? []) {
    if (upload.file.startsWith(BUNDLE_SOURCE_DIR)) files[upload.file.slice(BUNDLE_SOURCE_DIR.length)] = upload.content;
  }
  return files;
}

/** The text Terraform writes for an uploaded content: `terraformLiteral` undone. */
export function terraformText(content: string): string {
  return content.replace(/\$\$\{/g, () => '${').replace(/%%\{/g, () => '%{');
}

/**
 * The uploads a fleet's bundle container has, in order: the launcher, the bundle's files (paths
 * relative to the bundle), then the agent and the two files that name the bundle.
 */
export function bundleUploadPaths(...files: string[]): string[] {
  return [
    '/usr/local/bin/cachefleet-launch',
    ...[...files, 'cachefleet-node', 'restart-key', 'generation'].map((file) => `/usr/local/share/cachefleet/bundle/${file}`),
  ];
}
