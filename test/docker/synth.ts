import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { agentScript } from '../../src/core/agent-script';
import { FleetPlan, fleetName, planFleet } from '../../src/core/topology';
import { ValidatedFleet } from '../../src/core/validation';
import { DOCKER_DEFAULTS, slotAddressIn } from '../../src/docker/private/fleet';
import { terraformLiteral } from '../../src/docker/private/terraform';

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

/**
 * The synthesized JSON for a snapshot: the node agent (owned and tested elsewhere, 40 KB in every
 * container) is replaced by a marker after checking it is the agent, Terraform-escaped.
 */
export function forSnapshot(json: any): any {
  const copy = JSON.parse(JSON.stringify(json));
  const agent = terraformLiteral(agentScript());
  for (const container of Object.values<any>(copy.resource?.docker_container ?? {})) {
    for (const upload of container.upload ?? []) {
      if (upload.file === '/usr/local/bin/cachefleet-node') {
        if (upload.content !== agent) throw new Error(`${container.name}: the uploaded agent is not src/agent/cachefleet-node`);
        upload.content = '<src/agent/cachefleet-node, Terraform-escaped>';
      }
    }
  }
  return copy;
}

/** The plan the Docker flavor makes of a fleet with this construct id: one zone, sentinels in containers of their own. */
export function dockerPlan(id: string, fleet: ValidatedFleet, subnetCidr: string = DOCKER_DEFAULTS.subnetCidr): FleetPlan {
  return planFleet({
    name: fleetName(id),
    fleet,
    zoneCount: 1,
    addressOf: slotAddressIn(subnetCidr),
    dedicatedSentinels: true,
  });
}

const CONFIG_DIR = '/etc/cachefleet/';

/** A container's uploads under the configuration directory, by path relative to it, as uploaded (Terraform-escaped). */
export function uploadedBundle(container: any): Record<string, string> {
  const files: Record<string, string> = {};
  for (const upload of container.upload ?? []) {
    if (upload.file.startsWith(CONFIG_DIR)) files[upload.file.slice(CONFIG_DIR.length)] = upload.content;
  }
  return files;
}

/** The text Terraform writes for an uploaded content: `terraformLiteral` undone. */
export function terraformText(content: string): string {
  return content.replace(/\$\$\{/g, () => '${').replace(/%%\{/g, () => '%{');
}
